export * from './model-packaging-job';
export * from './write-packaging-job';
