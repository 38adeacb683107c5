export * from './model-archive';
export * from './model-name';
export * from './model-version';
export * from './torchserve-config';
export * from './torchserve-container';
export * from './torchserve-service';
export * from './torchserve-workload';
