export * from './model-registry';
export * from './deployed-releases';
