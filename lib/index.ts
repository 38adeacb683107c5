export * from './environment';
export * from './fleet';
export * from './output';
export * from './torchserve';
export * from './gateway';
export * from './isolation';
export * from './policy';
export * from './release';
