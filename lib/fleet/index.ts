export * from './fleet-schema';
export * from './load-fleet';
