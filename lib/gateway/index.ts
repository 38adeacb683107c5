export * from './gateway-frontend';
export * from './gateway-kind';
export * from './gateway-route';
export * from './request-metrics';
