import fs from 'node:fs';
import { parseDocument } from 'yaml';
import { DEFAULT_FLEET } from './app';

/** The default fleet with `edit` applied, as YAML text. */
export function editFleet(edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(fs.readFileSync(DEFAULT_FLEET, 'utf-8'));
  edit(doc);
  return doc.toString();
}

/** The default fleet with every environment's gateway replaced by `gateway`. */
export function fleetWithGateway(gateway: Record<string, unknown>, environments = ['staging', 'production']): string {
  return editFleet((doc) => {
    for (const env of environments) doc.setIn(['environments', env, 'gateway'], doc.createNode(gateway));
  });
}
