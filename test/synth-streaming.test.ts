import fs from 'node:fs';
import path from 'node:path';
import { ApiObject, App, Chart, JsonPatch, Lazy, YamlOutputType } from 'cdk8s';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { parseFleet } from '../lib/fleet';
import { synthesizeFleet } from '../lib/output';
import { validationErrors, validationFailure, writeChartFolders } from '../lib/output/write-charts';
import { generateFleet } from '../scripts/bench/generate-fleet.mjs';
import { DEFAULT_FLEET, readTree, runApp, tempDir } from './helpers/app';

/**
 * A generated fleet (scripts/bench/generate-fleet.mjs, the benchmark's scale fleets) on the
 * fixture fleet: four environments, one of them releasing by canary through the Argo Rollouts
 * Gateway API plugin, so every output folder kind is written (environments, argo-rollouts, argocd).
 */
function scaleFleetText(models: number): string {
  const doc = parseDocument(generateFleet({ models, environments: ['staging', 'production', 'canary-eu', 'dev'], base: DEFAULT_FLEET }));
  doc.setIn(['environments', 'staging', 'strategy'], doc.createNode({ type: 'canary' }));
  doc.setIn(['argoRollouts'], doc.createNode({ pluginConfigMap: true }));
  return doc.toString();
}

describe('synthesis one environment at a time', () => {
  it('writes the scale fleet deterministically, byte for byte what cdk8s app.synth() of one tree writes, from the sources and from the bundle', () => {
    const text = scaleFleetText(12);
    const fleet = parseFleet(text);
    const dir = tempDir();
    // The app command runs the esbuild bundle (bin/run-ts.mjs), which builds imports/ its own way.
    fs.writeFileSync(path.join(dir, 'scale.yaml'), text);
    const app = runApp(['--config', path.join(dir, 'scale.yaml')], { CDK8S_OUTDIR: path.join(dir, 'app') });
    expect(app.status, app.stderr).toBe(0);
    const streamed = synthesizeFleet({ fleet, outdir: path.join(dir, 'streamed') });
    const again = synthesizeFleet({ fleet, outdir: path.join(dir, 'again') });
    const single = synthesizeFleet({ fleet, outdir: path.join(dir, 'single'), singleTree: true });

    expect(fs.readdirSync(path.join(dir, 'streamed')).sort()).toEqual(['argo-rollouts', 'argocd', 'canary-eu', 'dev', 'production', 'staging']);
    expect(streamed).toEqual(single);
    expect(again).toEqual(single);
    expect(streamed.manifests).toBeGreaterThan(12 * 4 * 15);
    const tree = readTree(path.join(dir, 'streamed'));
    expect(tree).toEqual(readTree(path.join(dir, 'single')));
    expect(tree).toEqual(readTree(path.join(dir, 'again')));
    expect(tree).toEqual(readTree(path.join(dir, 'app')));
    expect(Object.keys(tree).filter((f) => f.startsWith(`staging${path.sep}Rollout.`))).toHaveLength(12);
  });

  it('records construct metadata as app.synth() does when the cdk8s CLI asks for it', () => {
    const fleet = parseFleet(fs.readFileSync(DEFAULT_FLEET, 'utf-8'));
    const dir = tempDir();
    const previous = process.env.CDK8S_RECORD_CONSTRUCT_METADATA;
    process.env.CDK8S_RECORD_CONSTRUCT_METADATA = 'true';
    try {
      synthesizeFleet({ fleet, outdir: path.join(dir, 'streamed') });
      synthesizeFleet({ fleet, outdir: path.join(dir, 'single'), singleTree: true });
    } finally {
      if (previous === undefined) delete process.env.CDK8S_RECORD_CONSTRUCT_METADATA;
      else process.env.CDK8S_RECORD_CONSTRUCT_METADATA = previous;
    }
    const metadata = fs.readFileSync(path.join(dir, 'streamed', 'construct-metadata.json'), 'utf-8');
    expect(Object.keys(JSON.parse(metadata).resources).length).toBeGreaterThan(20);
    expect(metadata).toBe(fs.readFileSync(path.join(dir, 'single', 'construct-metadata.json'), 'utf-8'));
  });
});

/** A construct whose validation fails, as a library user's might. */
class Refusing extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.node.addValidation({ validate: () => [`${id} refuses`] });
  }
}

/** Two charts, the second depending on the first, with ordering dependencies, a patch and a lazy value. */
function sampleApp(outdir: string, refuse: boolean): App {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
  const first = new Chart(app, 'first', { disableResourceNameHashes: true, labels: { team: 'a' } });
  const config = new ApiObject(first, 'Config', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config' }, data: { lazy: Lazy.any({ produce: () => 'produced' }) } });
  const job = new ApiObject(first, 'Job', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'job:1' }, spec: { backoffLimit: 1 } });
  job.addJsonPatch(JsonPatch.add('/spec/parallelism', 2));
  // Written before the ConfigMap it is declared after.
  config.addDependency(job);
  const second = new Chart(app, 'second');
  new ApiObject(second, 'Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'secret' } });
  second.addDependency(first);
  if (refuse) {
    new Refusing(first, 'One');
    new Refusing(second, 'Two');
  }
  return app;
}

describe('writeChartFolders', () => {
  it('writes what app.synth() writes: folders numbered when charts depend on each other, objects in dependency order', () => {
    const dir = tempDir();
    const reference = sampleApp(path.join(dir, 'synth'), false);
    reference.synth();
    const app = sampleApp(path.join(dir, 'written'), false);
    expect(validationErrors(app)).toEqual([]);
    expect(writeChartFolders(app)).toEqual({ 'job:1': { path: 'first/Job' }, config: { path: 'first/Config' }, secret: { path: 'second/Secret' } });
    expect(readTree(path.join(dir, 'written'))).toEqual(readTree(path.join(dir, 'synth')));
    expect(fs.readdirSync(path.join(dir, 'written')).sort()).toEqual(['0000-first', '0001-second']);
  });

  it('reports every validation error as app.synth() does', () => {
    const dir = tempDir();
    const app = sampleApp(path.join(dir, 'a'), true);
    expect(validationErrors(app)).toEqual(['[first/One] One refuses', '[second/Two] Two refuses']);
    expect(() => sampleApp(path.join(dir, 'b'), true).synth()).toThrow(validationFailure(validationErrors(app)).message);
  });
});
