#!/usr/bin/env node
// Regenerates imports/ from pinned local copies of the sources listed in cdk8s.yaml.
//
// `cdk8s import` fetches every source over the network, and it always downloads the k8s schema
// from GitHub. This script runs the same cdk8s-cli importers, but resolves each canonical URL to
// a local file first, so the output is byte-for-byte what `cdk8s import` would write, offline.
// It also writes imports/schemas/*.json: the same schemas without descriptions (defaults and
// x-kubernetes-validations rules kept), which the strict manifest validator (lib/validation) reads.
//
// Usage: npm run import -- [--from ../shared]
//   --from DIR   folder holding crds/ (CRD files named <project>-<upstream basename>) and
//                schemas/k8s-v<version>-definitions.json
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values } = parseArgs({ options: { from: { type: 'string', default: path.join(root, '..', 'shared') } } });
const from = path.resolve(values.from);
const outdir = path.join(root, 'imports');
const schemaDir = path.join(outdir, 'schemas');

const cliLib = path.join(path.dirname(require.resolve('cdk8s-cli/package.json')), 'lib');
const util = require(path.join(cliLib, 'util.js'));
const { importDispatch } = require(path.join(cliLib, 'import', 'dispatch.js'));

const K8S_SCHEMA_URL = /^https:\/\/raw\.githubusercontent\.com\/cdk8s-team\/cdk8s\/master\/kubernetes-schemas\/v([\d.]+)\/_definitions\.json$/;

/** Maps a canonical source URL to the pinned local copy of the same bytes. */
function localCopyOf(url) {
  const k8s = K8S_SCHEMA_URL.exec(url);
  if (k8s) {
    return path.join(from, 'schemas', `k8s-v${k8s[1]}-definitions.json`);
  }
  const base = path.basename(new URL(url).pathname).replace(/\.yml$/, '.yaml');
  const dir = path.join(from, 'crds');
  // Local copies are named "<project>-<upstream basename>"; the shortest match is the exact one
  // (analysis-template-crd.yaml must not pick cluster-analysis-template-crd.yaml).
  const candidates = fs.readdirSync(dir).filter((f) => f.endsWith(`-${base}`)).sort((a, b) => a.length - b.length);
  if (candidates.length === 0) {
    throw new Error(`no local copy of ${url} in ${dir} (expected a file ending in "-${base}")`);
  }
  return path.join(dir, candidates[0]);
}

const originalDownload = util.download;
util.download = async (url) => {
  if (!/^https?:/.test(url)) return originalDownload(url);
  const file = localCopyOf(url);
  console.error(`  ${url}\n    <- ${path.relative(root, file)}`);
  return fs.readFileSync(file, 'utf-8');
};

/** Schema keywords whose value maps names to schemas: there `description` is a field's name, not documentation. */
const NAME_MAPS = new Set(['properties', 'patternProperties', 'definitions']);

// Everything else is kept, defaults and x-kubernetes-validations (CEL) rules included: the validator applies
// the defaults and evaluates the rules as the API server does.
function stripDescriptions(node, isNameMap = false) {
  if (Array.isArray(node)) return node.map((item) => stripDescriptions(item));
  if (node && typeof node === 'object') {
    const out = {};
    for (const key of Object.keys(node).sort()) {
      if (key === 'description' && !isNameMap) continue;
      out[key] = stripDescriptions(node[key], !isNameMap && NAME_MAPS.has(key));
    }
    return out;
  }
  return node;
}

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value)}\n`);
}

const config = parse(fs.readFileSync(path.join(root, 'cdk8s.yaml'), 'utf-8'));
const toSpec = (entry) => {
  const i = entry.indexOf(':=');
  return i === -1 ? { source: entry } : { moduleNamePrefix: entry.slice(0, i), source: entry.slice(i + 2) };
};
// Typed modules only for the kinds the constructs emit; every generated module is type-checked
// on each run, so a CRD nobody builds from costs time and reads as if it were used.
const typed = config.imports.map(toSpec);
const schemaOnly = (config.schemaOnlyImports ?? []).map(toSpec);

fs.rmSync(outdir, { recursive: true, force: true });
fs.mkdirSync(schemaDir, { recursive: true });
await importDispatch(typed, {}, { outdir, targetLanguage: 'typescript', save: false });

for (const spec of [...typed, ...schemaOnly]) {
  if (spec.source.startsWith('k8s@')) {
    const version = spec.source.split('@')[1];
    const defs = JSON.parse(fs.readFileSync(localCopyOf(`https://raw.githubusercontent.com/cdk8s-team/cdk8s/master/kubernetes-schemas/v${version}/_definitions.json`), 'utf-8'));
    writeJson(path.join(schemaDir, 'k8s.json'), { source: spec.source, definitions: stripDescriptions(defs.definitions) });
    continue;
  }
  const kinds = [];
  for (const doc of parseAllDocuments(fs.readFileSync(localCopyOf(spec.source), 'utf-8'))) {
    const crd = doc.toJS();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    for (const version of crd.spec.versions) {
      kinds.push({
        group: crd.spec.group,
        kind: crd.spec.names.kind,
        version: version.name,
        scope: crd.spec.scope,
        schema: stripDescriptions(version.schema.openAPIV3Schema),
      });
    }
  }
  const name = spec.moduleNamePrefix ?? kinds[0].group;
  writeJson(path.join(schemaDir, `${name}.json`), { source: spec.source, kinds });
}
console.error(`imports/ regenerated from ${from}`);
