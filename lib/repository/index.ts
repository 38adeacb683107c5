export * from './repository-paths';
export * from './output-check';
export * from './serving-repository';
export * from './yaml-edit';
export * from './write-packaging-job';
