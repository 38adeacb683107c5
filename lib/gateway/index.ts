export * from './gateway-frontend';
export * from './gateway-kind';
export * from './gateway-route';
export * from './request-metrics';
export * from './gateway-provider';
export * from './providers';
