export * from './model-packaging-job';
