export * from './repository-paths';
export * from './output-check';
export * from './serving-repository';
