// The one rule for model names, shared by the fleet file, the registry, packaging and the
// constructs. A TorchServe model name is a URL segment (`/predictions/<name>`) and, with "_"
// mapped to "-", the Kubernetes name of the model's objects (see toResourceName), so it is held
// to what both can carry.

/**
 * The longest model name, so that derived names such as "<name>-management" and
 * "<name>-canary-analysis" stay within a DNS label's 63 characters.
 */
export const MAX_MODEL_NAME_LENGTH = 48;

const MODEL_NAME = /^[a-z]([a-z0-9_-]*[a-z0-9])?$/;

/** Why `name` cannot be a model name, or `undefined` when it can. Completes "got <name>; ...". */
export function modelNameProblem(name: string): string | undefined {
  if (name.length > MAX_MODEL_NAME_LENGTH) {
    return `must be at most ${MAX_MODEL_NAME_LENGTH} characters, so that derived names such as "<name>-management" stay within 63`;
  }
  if (!MODEL_NAME.test(name)) return 'must start with a lowercase letter and contain only lowercase letters, digits, "_" and "-"';
  if (/[_-]{2}/.test(name)) return 'must not contain consecutive "_" or "-"';
  return undefined;
}
