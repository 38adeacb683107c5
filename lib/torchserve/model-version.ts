// The one rule for model versions, shared by the fleet file, the registry, packaging and the
// constructs: a semantic version (https://semver.org) that Kubernetes can carry.
//
// A version becomes the app.kubernetes.io/version label of the workload, its pods and its config,
// and a label value holds at most 63 letters, digits, "-", "_" and ".", starting and ending with a
// letter or digit. SemVer's build metadata ("1.1.0+build.7") is allowed: the label carries it with
// "_" for "+", as Helm writes chart versions into labels. SemVer has no "_", so the label still
// names exactly one version. What no label could hold is refused where it is written: a version
// longer than 63 characters, or one ending in "-".

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** The longest model version: its label form is a label value, at most 63 characters. */
export const MAX_MODEL_VERSION_LENGTH = 63;

/** Why `version` cannot be a model version, or `undefined` when it can. Completes "got <version>; ...". */
export function modelVersionProblem(version: string): string | undefined {
  if (!SEMVER.test(version)) return 'must be a semantic version such as "1.0.0", "1.1.0-rc.1" or "1.1.0+build.7"';
  if (version.length > MAX_MODEL_VERSION_LENGTH) {
    return `must be at most ${MAX_MODEL_VERSION_LENGTH} characters (it has ${version.length}), so that it fits the app.kubernetes.io/version label; shorten the pre-release or build part`;
  }
  if (version.endsWith('-')) return 'must end with a letter or digit, so that it can be the app.kubernetes.io/version label';
  return undefined;
}

/**
 * The version as the app.kubernetes.io/version label value: build metadata's "+" becomes "_"
 * ("1.1.0+build.7" is labelled "1.1.0_build.7"); any other valid version is its own label.
 */
export function modelVersionLabel(version: string): string {
  return version.replace('+', '_');
}
