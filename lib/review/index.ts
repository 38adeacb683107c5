export * from './manifest-diff';
