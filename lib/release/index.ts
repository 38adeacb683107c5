export * from './canary-rollout';
export * from './gateway-api-plugin';
export * from './release-strategy';
