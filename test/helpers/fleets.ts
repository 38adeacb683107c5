import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { type YamlEdit, editYamlText } from '../../lib/repository/yaml-edit';
import { DEFAULT_FLEET } from './app';

/** A fixture fleet for release, gate and scrape tests; independent of the shipped serving.yaml. */
export const RELEASE_FIXTURE_FLEET = path.join(__dirname, '..', 'fixtures', 'release', 'fleet.yaml');

/** The fleet file `base` (the default fleet unless given) with `edit` applied, as YAML text. */
export function editFleet(edit: (doc: ReturnType<typeof parseDocument>) => void, base = DEFAULT_FLEET): string {
  const doc = parseDocument(fs.readFileSync(base, 'utf-8'));
  edit(doc);
  return doc.toString();
}

/** The default fleet with every environment's gateway replaced by `gateway`. */
export function fleetWithGateway(gateway: Record<string, unknown>, environments = ['staging', 'production']): string {
  return editFleet((doc) => {
    for (const env of environments) doc.setIn(['environments', env, 'gateway'], doc.createNode(gateway));
  });
}

/**
 * `text` (a fleet with each model's version and mar) as a registry-managed fleet: the models'
 * `version` and `mar` removed and `pins` (environment → model → version) written, as
 * `model-serving model init` and `deploy` leave a fleet file.
 */
export function registryManaged(text: string, pins: Readonly<Record<string, Readonly<Record<string, string>>>>): string {
  const models = (parseDocument(text).toJS() as { models: unknown[] }).models;
  return editYamlText(text, [
    ...models.flatMap((_model, index): YamlEdit[] => [{ path: ['models', index, 'version'], delete: true }, { path: ['models', index, 'mar'], delete: true }]),
    ...Object.entries(pins).flatMap(([env, versions]) => Object.entries(versions).map(([model, version]): YamlEdit => ({ path: ['environments', env, 'versions', model], value: version }))),
  ]);
}
