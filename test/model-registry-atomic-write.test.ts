import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegistryError, readRegistryFile, registerVersion, writeRegistryFile } from '../lib/registry';
import { REGISTRY_FLEET, REPO_ROOT, tempDir } from './helpers/app';

const CLI = path.join(REPO_ROOT, 'bin', 'model-serving');
const SHIPPED = fs.readFileSync(path.join(path.dirname(REGISTRY_FLEET), 'registry.yaml'));
const ROOT = tempDir();
let folders = 0;

function withRegistry(): { dir: string; file: string } {
  const dir = path.join(ROOT, String(folders++));
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'registry.yaml'), SHIPPED);
  fs.copyFileSync(REGISTRY_FLEET, path.join(dir, 'serving.yaml'));
  return { dir, file: path.join(dir, 'registry.yaml') };
}

const NEW_VERSION = { model: 'intent_classifier', version: '1.1.0', path: 's3://betterprompts-models/intent_classifier/1.1.0/intent_classifier.mar', actor: 'tester', time: new Date() };

describe('registry writes are atomic', () => {
  it('replace the file by a rename: a reader holding the old file sees it whole, the new file is complete', () => {
    const { dir, file } = withRegistry();
    // A hard link keeps the old inode reachable: an in-place write would change its bytes too.
    const reader = path.join(ROOT, `reader-${folders}.yaml`);
    fs.linkSync(file, reader);
    const inode = fs.statSync(file).ino;
    const run = spawnSync(CLI, ['model', 'register', '--name', NEW_VERSION.model, '--version', NEW_VERSION.version, '--path', NEW_VERSION.path], { cwd: dir, encoding: 'utf-8' });
    expect(run.stderr).toContain('registered intent_classifier 1.1.0');
    expect(run.status).toBe(0);
    expect(fs.readFileSync(reader).equals(SHIPPED)).toBe(true);
    expect(fs.statSync(file).ino).not.toBe(inode);
    expect(readRegistryFile(file).registry.models.intent_classifier.versions['1.1.0']).toEqual({ path: NEW_VERSION.path });
    // The temporary file was renamed away, not left behind.
    expect(fs.readdirSync(dir).filter((f) => f.includes('registry'))).toEqual(['registry.yaml']);
  });

  it('leave the registry as it was when the write fails midway', () => {
    const { dir, file } = withRegistry();
    const { registry } = registerVersion(readRegistryFile(file).registry, NEW_VERSION);
    // The temporary file's name is taken by a folder, so the write fails before the rename.
    const blocker = path.join(dir, `.registry.yaml.${process.pid}.tmp`);
    fs.mkdirSync(blocker);
    expect(() => writeRegistryFile(file, registry)).toThrow();
    expect(fs.readFileSync(file).equals(SHIPPED)).toBe(true);
    fs.rmdirSync(blocker);
    expect(fs.readdirSync(dir)).toEqual(['registry.yaml', 'serving.yaml']);
  });

  it('replace a temporary file a crashed run left behind instead of appending to it', () => {
    const { dir, file } = withRegistry();
    fs.writeFileSync(path.join(dir, `.registry.yaml.${process.pid}.tmp`), 'models:\n  half-written');
    const { registry } = registerVersion(readRegistryFile(file).registry, NEW_VERSION);
    writeRegistryFile(file, registry);
    expect(readRegistryFile(file).registry).toEqual(registry);
    expect(fs.readdirSync(dir)).toEqual(['registry.yaml', 'serving.yaml']);
  });

  it('refuse to overwrite a change someone else wrote since the file was read', () => {
    const { file } = withRegistry();
    const read = readRegistryFile(file);
    const theirs = `${SHIPPED.toString('utf-8')}# a concurrent edit\n`;
    fs.writeFileSync(file, theirs);
    const { registry } = registerVersion(read.registry, NEW_VERSION);
    expect(() => writeRegistryFile(file, registry, { expectedText: read.text })).toThrow(RegistryError);
    expect(() => writeRegistryFile(file, registry, { expectedText: read.text })).toThrow(`${file} changed while this command ran; nothing was written. Run the command again`);
    expect(fs.readFileSync(file, 'utf-8')).toBe(theirs);
  });

  it('never write a registry that the next read would refuse', () => {
    const { file } = withRegistry();
    const broken = structuredClone(readRegistryFile(file).registry);
    broken.models.intent_classifier.stages.production = '9.9.9';
    expect(() => writeRegistryFile(file, broken)).toThrow(/stages\.production: is 9\.9\.9, but history last promoted 1\.0\.0 to production/);
    expect(fs.readFileSync(file).equals(SHIPPED)).toBe(true);
  });
});
