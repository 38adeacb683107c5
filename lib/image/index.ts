export * from './requirements';
export * from './serving-images';
export * from './dockerfile';
export * from './image-files';
export { IMAGE_DIGEST_PATTERN, imageRef, unpinnedImageProblem } from '../private/image-ref';
