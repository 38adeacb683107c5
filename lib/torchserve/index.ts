export * from './model-archive';
export * from './torchserve-config';
export * from './torchserve-service';
export * from './torchserve-workload';
