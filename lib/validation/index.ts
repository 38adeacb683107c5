export {
  DEFAULT_SCHEMA_DIR,
  ManifestValidator,
  defaultValidator,
  formatIssue,
  validateDirectory,
  validateYamlText,
} from './manifest-validator';
export type { DirectoryValidationResult, ManifestIssue, ManifestValidatorOptions } from './manifest-validator';
