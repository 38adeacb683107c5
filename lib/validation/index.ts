export {
  DEFAULT_SCHEMA_DIR,
  ManifestValidator,
  defaultValidator,
  formatIssue,
  validateDirectory,
  validateYamlText,
} from './manifest-validator';
export type { DirectoryValidationResult, ManifestIssue, ManifestValidatorOptions } from './manifest-validator';
export { CelRuleSet, applyStructuralDefaults, compileCelExpression, describeCelRule, pruneNonNullableNullsWithoutDefaults } from './cel-rules';
export type { CelIssue, CelObjectReport, CelRuleInfo, CelRuleStatus, CelRuleUse, CelSummary, CelValidationRule } from './cel-rules';
export { KUBERNETES_CEL_FUNCTIONS, escapeCelPropertyName, goSplitN, kubernetesCelEnv } from './kubernetes-cel-library';
export { apiServerProblems, TOTAL_ANNOTATION_SIZE_LIMIT_BYTES } from './api-server-rules';
export type { ApiServerProblem } from './api-server-rules';
