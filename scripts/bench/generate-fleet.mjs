// Generates a large fleet file for the synth benchmark (and any test that wants one).
//
//   import { generateFleet } from './scripts/bench/generate-fleet.mjs';
//   const text = generateFleet({ models: 100, environments: 3 });
//
//   node scripts/bench/generate-fleet.mjs --models 100 --environments 3 [--out FILE]
//
// The fleet is built from serving.yaml's structure: its name, image, modelFetcher and
// environments are kept, its first model is the template for every generated model, and
// models are named model_000, model_001, ... with version 1.0.0 and
// mar s3://bench-models/<name>/1.0.0/<name>.mar inline: the generated fleet needs no registry, so
// the base environments' `versions` pins (which name the base file's registry-managed models) are
// dropped.
//
// `environments` is either a count or a list of names. The first names are serving.yaml's
// own environments (staging, production); after those come the extra ones below, each a copy
// of the first staging-stage environment with its own namespace and IAM role.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_BASE_FILE = path.join(REPO_ROOT, 'serving.yaml');

/** Names used, in order, for environments beyond those of the base file. */
export const EXTRA_ENVIRONMENTS = ['canary-eu', 'dev', 'qa', 'canary-us', 'perf'];

/** A DNS-1123 label (namespaces and environment names must be one). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** model_000 … model_099 for 100 models; wider when there are more than 1000. */
export function modelName(index, count) {
  const width = Math.max(3, String(count - 1).length);
  return `model_${String(index).padStart(width, '0')}`;
}

function extraEnvironmentName(index) {
  return index < EXTRA_ENVIRONMENTS.length ? EXTRA_ENVIRONMENTS[index] : `env-${String(index).padStart(2, '0')}`;
}

/**
 * Returns the YAML text of a fleet with `models` models and `environments` environments.
 * @param {{ models?: number, environments?: number | string[], base?: string | object, version?: string, bucket?: string }} options
 *   base: a fleet file path or an already parsed fleet object (default: the repo's serving.yaml).
 */
export function generateFleet({ models = 100, environments = 3, base = DEFAULT_BASE_FILE, version = '1.0.0', bucket = 'bench-models' } = {}) {
  if (!Number.isInteger(models) || models < 1) throw new Error(`models must be a positive integer, got ${models}`);
  const baseFleet = typeof base === 'string' ? YAML.parse(fs.readFileSync(base, 'utf8')) : structuredClone(base);
  if (!baseFleet || !Array.isArray(baseFleet.models) || baseFleet.models.length === 0 || typeof baseFleet.environments !== 'object') {
    throw new Error('the base fleet must have a non-empty models list and an environments map');
  }
  const fleetName = baseFleet.name;
  const baseEnvs = baseFleet.environments;
  const baseEnvNames = Object.keys(baseEnvs);

  let envNames;
  if (Array.isArray(environments)) {
    envNames = environments;
  } else {
    if (!Number.isInteger(environments) || environments < 1) throw new Error(`environments must be a positive integer or a list of names, got ${environments}`);
    envNames = baseEnvNames.slice(0, environments);
    for (let i = 0; envNames.length < environments; i += 1) {
      const name = extraEnvironmentName(i);
      if (!envNames.includes(name)) envNames.push(name);
    }
  }

  // Template for extra environments: the base file's first staging-stage environment.
  const templateName = baseEnvNames.find((name) => baseEnvs[name]?.stage === 'staging') ?? baseEnvNames[0];
  const template = baseEnvs[templateName];
  const usedNamespaces = new Set();
  const outEnvs = {};
  for (const name of envNames) {
    if (!DNS_LABEL.test(name) || name.length > 63) throw new Error(`environment name ${JSON.stringify(name)} is not a DNS-1123 label`);
    let env;
    if (Object.hasOwn(baseEnvs, name)) {
      env = structuredClone(baseEnvs[name]);
    } else {
      env = structuredClone(template);
      env.stage = 'staging';
      env.namespace = `${fleetName}-${name}`.slice(0, 63).replace(/-+$/, '');
      const roleArn = env.serviceAccount?.roleArn;
      if (typeof roleArn === 'string') env.serviceAccount.roleArn = roleArn.replace(/role\/.*$/, `role/${fleetName}-${name}-model-reader`);
    }
    // The base file's pins name its own models (and need its registry); the generated models
    // carry version and mar inline, which runs them in every environment without a registry.
    delete env.versions;
    if (usedNamespaces.has(env.namespace)) throw new Error(`namespace ${env.namespace} would be used twice`);
    if (!DNS_LABEL.test(env.namespace)) throw new Error(`namespace ${JSON.stringify(env.namespace)} is not a DNS-1123 label`);
    usedNamespaces.add(env.namespace);
    outEnvs[name] = env;
  }

  const modelTemplate = baseFleet.models[0];
  const outModels = [];
  for (let i = 0; i < models; i += 1) {
    const name = modelName(i, models);
    outModels.push({
      ...structuredClone(modelTemplate),
      name,
      version,
      mar: `s3://${bucket}/${name}/${version}/${name}.mar`,
      handler: modelTemplate.handler,
    });
  }

  const fleet = { ...baseFleet, models: outModels, environments: outEnvs };
  const header = `# Generated by scripts/bench/generate-fleet.mjs: ${models} models x ${envNames.length} environments (${envNames.join(', ')}).\n`;
  return header + YAML.stringify(fleet, { lineWidth: 0 });
}

// CLI use: node scripts/bench/generate-fleet.mjs --models N --environments N|a,b,c [--out FILE]
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: {
      models: { type: 'string', default: '100' },
      environments: { type: 'string', default: '3' },
      out: { type: 'string' },
    },
  });
  const envs = /^\d+$/.test(values.environments) ? Number(values.environments) : values.environments.split(',');
  const text = generateFleet({ models: Number(values.models), environments: envs });
  if (values.out) fs.writeFileSync(values.out, text);
  else process.stdout.write(text);
}
