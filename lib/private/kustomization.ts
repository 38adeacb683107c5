import { stringify } from 'yaml';
import { manifestYaml } from './manifest-yaml';

/** File names as cdk8s writes them (`Kind.name.k8s.yaml`, characters [0-9a-zA-Z-_.] only). */
const MANIFEST_FILE = /^[A-Za-z0-9][A-Za-z0-9_.-]*\.yaml$/;

/**
 * The text of a `kustomization.yaml` listing `resources` (`yaml`'s `stringify` with its defaults).
 *
 * Such names are plain scalars under any YAML schema and line width (no spaces, indicators or
 * number-like forms), so their list is what {@link manifestYaml} writes, without `yaml` building
 * a node per entry: 1,900 entries per environment at 100 models, 19,000 at 1,000. Other names
 * go through `stringify`. test/kustomization-text.test.ts holds the two to the same text.
 */
export function kustomizationText(header: string, resources: readonly string[]): string {
  const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [...resources] };
  const body = resources.every((file) => MANIFEST_FILE.test(file)) ? manifestYaml(kustomization) : stringify(kustomization);
  return `${header}${body}`;
}
