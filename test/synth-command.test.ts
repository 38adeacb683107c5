import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { DEFAULT_FLEET, readTree, runApp, synthToTemp, tempDir } from './helpers/app';

const DEFAULT_TEXT = fs.readFileSync(DEFAULT_FLEET, 'utf-8');

function writeFleet(dir: string, name: string, edit?: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(DEFAULT_TEXT);
  edit?.(doc);
  const file = path.join(dir, name);
  fs.writeFileSync(file, doc.toString());
  return file;
}

describe('the synth command (node bin/run-ts.mjs main.ts)', () => {
  it('writes one Kustomize folder per environment into CDK8S_OUTDIR', () => {
    const outdir = path.join(tempDir(), 'out');
    const run = runApp([], { CDK8S_OUTDIR: outdir });
    expect(run.stderr).toMatch(new RegExp(`model-serving: \\d+ manifests for 2 environments \\(production, staging\\) in ${outdir}/`));
    expect(run.status).toBe(0);
    expect(fs.readdirSync(outdir).sort()).toEqual(['argocd', 'production', 'staging']);
    expect(fs.existsSync(path.join(outdir, 'staging', 'kustomization.yaml'))).toBe(true);
  });

  it('reads the fleet file from --config, then SERVING_CONFIG, then serving.yaml', () => {
    const dir = tempDir();
    const byFlag = writeFleet(dir, 'flag.yaml', (doc) => doc.setIn(['environments', 'staging', 'namespace'], 'from-flag'));
    const byEnv = writeFleet(dir, 'env.yaml', (doc) => doc.setIn(['environments', 'staging', 'namespace'], 'from-env'));
    const namespaceOf = (outdir: string) => fs.readdirSync(path.join(outdir, 'staging')).find((f) => f.startsWith('Namespace.'));

    const flagOut = path.join(dir, 'a');
    expect(runApp(['--config', byFlag], { CDK8S_OUTDIR: flagOut, SERVING_CONFIG: byEnv }).status).toBe(0);
    expect(namespaceOf(flagOut)).toBe('Namespace.from-flag.k8s.yaml');

    const envOut = path.join(dir, 'b');
    expect(runApp([], { CDK8S_OUTDIR: envOut, SERVING_CONFIG: byEnv }).status).toBe(0);
    expect(namespaceOf(envOut)).toBe('Namespace.from-env.k8s.yaml');

    const defaultOut = path.join(dir, 'c');
    expect(runApp([], { CDK8S_OUTDIR: defaultOut }).status).toBe(0);
    expect(namespaceOf(defaultOut)).toBe('Namespace.betterprompts-staging.k8s.yaml');
  });

  it('rejects a bad fleet file with the field named, a non-zero exit, and the output folder untouched', () => {
    const dir = tempDir();
    const outdir = path.join(dir, 'dist');
    expect(runApp([], { CDK8S_OUTDIR: outdir }).status).toBe(0);
    const before = readTree(outdir);

    const bad = writeFleet(dir, 'bad.yaml', (doc) => doc.setIn(['environments', 'production', 'replicas'], -1));
    const run = runApp(['--config', bad], { CDK8S_OUTDIR: outdir });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`error: ${bad} is not a valid fleet file (1 problem):`);
    expect(run.stderr).toMatch(/bad\.yaml:\d+:15: environments\.production\.replicas: got -1; must be >= 1/);
    expect(run.stderr).toContain(`Nothing was written; ${outdir}/ is unchanged.`);
    expect(readTree(outdir)).toEqual(before);
    expect(fs.readdirSync(dir).sort()).toEqual(['bad.yaml', 'dist']);
  });

  it('rejects a missing fleet file and unknown flags', () => {
    const outdir = path.join(tempDir(), 'dist');
    const missing = runApp(['--config', 'does-not-exist.yaml'], { CDK8S_OUTDIR: outdir });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('does-not-exist.yaml: file not found; pass --config <file> or set SERVING_CONFIG to an existing fleet file');
    expect(fs.existsSync(outdir)).toBe(false);

    const unknown = runApp(['--confg', 'serving.yaml'], { CDK8S_OUTDIR: outdir });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("error: unknown option '--confg'");
    expect(unknown.stderr).toContain('Usage: model-serving synth [options]');
  });

  it('prints its usage with --help, the options it shares with every command included', () => {
    const run = runApp(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: model-serving synth [options]');
    for (const option of ['-c, --config <file>', '-o, --output <dir>', '--registry <file>']) expect(run.stdout).toContain(option);
  });

  it('gives the same bytes for the same input, whatever the clock and environment', () => {
    const first = readTree(synthToTemp());
    const second = readTree(synthToTemp());
    expect(Object.keys(first).length).toBeGreaterThan(10);
    expect(second).toEqual(first);
    const outdir = path.join(tempDir(), 'dist');
    expect(runApp([], { CDK8S_OUTDIR: outdir, TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8', HOME: tempDir() }).status).toBe(0);
    expect(readTree(outdir)).toEqual(first);
  });
});
