export * from './requirements';
export * from './serving-images';
export * from './dockerfile';
export * from './image-files';
