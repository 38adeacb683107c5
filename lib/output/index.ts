export * from './synthesize-fleet';
