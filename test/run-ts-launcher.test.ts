import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from './helpers/app';

const LAUNCHER = path.join(REPO_ROOT, 'bin', 'run-ts.mjs');
const BUNDLE = path.join(REPO_ROOT, '.build', 'main.cjs');
const INPUTS = path.join(REPO_ROOT, '.build', 'main.inputs.json');

function run(...args: string[]) {
  return spawnSync(process.execPath, [LAUNCHER, ...args], { cwd: REPO_ROOT, encoding: 'utf-8' });
}

/** The code caches of the app's bundle, by file name. */
function codeCaches(): string[] {
  return fs.readdirSync(path.dirname(BUNDLE)).filter((f) => f.startsWith('main.') && f.endsWith('.v8cache')).sort();
}

/** The name of the code cache a run of `command` uses with the current bundle. */
function cacheFor(command: string): string {
  return `main.${createHash('sha1').update(fs.readFileSync(BUNDLE)).digest('hex').slice(0, 16)}.${command}.v8cache`;
}

describe('bin/run-ts.mjs', () => {
  it('runs a TypeScript entry point from a bundle that it rebuilds when an input changes', () => {
    expect(run('main.ts', '--help').status).toBe(0);
    const inputs = JSON.parse(fs.readFileSync(INPUTS, 'utf-8')) as Record<string, string>;
    expect(Object.keys(inputs)).toEqual(expect.arrayContaining(['main.ts', 'lib/fleet/load-fleet.ts', 'imports/k8s.ts', 'package-lock.json']));
    // Project-relative names only, and no dependency file (a node_modules may be a symlink out of the project).
    expect(Object.keys(inputs).filter((f) => f.startsWith('..') || path.isAbsolute(f) || f.split(/[/\\]/).includes('node_modules'))).toEqual([]);

    // Reused while nothing changed, and compiled from the code cache of the first run.
    const built = fs.statSync(BUNDLE).mtimeMs;
    expect(codeCaches()).toContain(cacheFor('default'));
    const cached = fs.statSync(path.join(path.dirname(BUNDLE), cacheFor('default'))).mtimeMs;
    expect(run('main.ts', '--help').status).toBe(0);
    expect(fs.statSync(BUNDLE).mtimeMs).toBe(built);
    expect(fs.statSync(path.join(path.dirname(BUNDLE), cacheFor('default'))).mtimeMs).toBe(cached);
    // A failed run stores no cache (a run's first argument names its cache).
    expect(run('main.ts', 'bogus').status).toBe(2);
    expect(codeCaches()).not.toContain(cacheFor('bogus'));

    // Rebuilt once an input changes (here: its modification time).
    const source = path.join(REPO_ROOT, 'lib', 'fleet', 'load-fleet.ts');
    const { atime, mtime } = fs.statSync(source);
    try {
      fs.utimesSync(source, atime, new Date(mtime.getTime() + 1000));
      const again = run('main.ts', '--help');
      expect(again.status).toBe(0);
      expect(again.stdout).toContain('Usage: model-serving synth');
      expect(fs.statSync(BUNDLE).mtimeMs).toBeGreaterThan(built);
      // Only caches of the new bundle remain: an old one must never meet another bundle.
      expect(codeCaches()).toEqual([cacheFor('default')]);
    } finally {
      fs.utimesSync(source, atime, mtime);
    }
  });

  it('records project-relative inputs when node_modules is a symlink out of the project (a shared install, as on CI)', () => {
    const project = tempDir('run-ts-shared-modules-');
    for (const entry of ['bin', 'cli', 'imports', 'lib', 'main.ts', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      fs.cpSync(path.join(REPO_ROOT, entry), path.join(project, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(project, 'node_modules'), 'dir');
    const result = spawnSync(process.execPath, [path.join(project, 'bin', 'run-ts.mjs'), 'main.ts', '--help'], { cwd: project, encoding: 'utf-8' });
    expect(result.status).toBe(0);
    const inputs = Object.keys(JSON.parse(fs.readFileSync(path.join(project, '.build', 'main.inputs.json'), 'utf-8')));
    expect(inputs).toEqual(expect.arrayContaining(['main.ts', 'lib/fleet/load-fleet.ts', 'package-lock.json']));
    expect(inputs.filter((f) => f.startsWith('..') || f.split(/[/\\]/).includes('node_modules'))).toEqual([]);
  });

  it('bundles the generated converters of imports/ with a one-pass field filter, leaving imports/ as cdk8s import wrote it', () => {
    expect(run('main.ts', '--help').status).toBe(0);
    const generated = 'return Object.entries(result).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {});';
    expect(fs.readFileSync(path.join(REPO_ROOT, 'imports', 'k8s.ts'), 'utf-8')).toContain(generated);
    const bundled = fs.readFileSync(BUNDLE, 'utf-8');
    expect(bundled).not.toContain('Object.entries(result).reduce(');
    expect(bundled).toContain('return Object.fromEntries(Object.entries(result).filter((i) => i[1] !== void 0));');
  });

  it('explains its usage without an entry point', () => {
    const result = run();
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage: node bin/run-ts.mjs <entry.ts> [args...]');
  });
});
