export * from './redis-cache';
