export * from './model-store-backup';
