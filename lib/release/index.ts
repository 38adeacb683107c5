export * from './model-release';
export * from './gateway-api-plugin';
export * from './release-strategy';
