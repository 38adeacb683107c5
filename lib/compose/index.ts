export * from './local-compose';
