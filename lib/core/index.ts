// The vocabulary every layer speaks; nothing here depends on a construct or a file format.
export { UnscopedValidationError, ValidationError } from './validation-error';
export { toResourceName } from '../private/names';
