export * from './model-store-backup';
export * from './local-compose';
