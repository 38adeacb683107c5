import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './helpers/app';

/**
 * The constructs as a cdk8s user gets them: `npm pack` (which builds), the tarball unpacked into
 * a fresh project's node_modules as npm installs it, and the README's example compiled against
 * the installed declarations and run. The package's dependencies are linked from this
 * repository's node_modules rather than downloaded, so the test needs no registry.
 */
const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf-8');
const EXAMPLE = /<!-- library-example:start -->\n```ts\n([\s\S]*?)```\n<!-- library-example:end -->/.exec(README)?.[1];
const TSC = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Installed {
  readonly project: string;
  readonly tarballFiles: readonly string[];
  readonly packageJson: { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
}

function install(): Installed {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'library-consumer-'));
  const packDir = path.join(project, '.pack');
  fs.mkdirSync(packDir);
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: REPO_ROOT, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'] }));
  const tarball = path.join(packDir, packed[0].filename);
  const tarballFiles = (packed[0].files as { path: string }[]).map((f) => f.path);

  const target = path.join(project, 'node_modules', 'model-serving');
  fs.mkdirSync(target, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', target, '--strip-components=1']);
  const packageJson = JSON.parse(fs.readFileSync(path.join(target, 'package.json'), 'utf-8'));
  // What npm would install beside it: its dependencies and peer dependencies, and the node types
  // a TypeScript consumer has anyway.
  for (const dep of [...Object.keys(packageJson.dependencies), ...Object.keys(packageJson.peerDependencies), '@types/node']) {
    const link = path.join(project, 'node_modules', dep);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules', dep), link, 'dir');
  }
  fs.writeFileSync(path.join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true })}\n`);
  fs.writeFileSync(path.join(project, 'main.ts'), EXAMPLE ?? '');
  // A consumer's usual settings: Node's own module resolution, which honours the exports map, and
  // declarations checked in full (no skipLibCheck), so broken .d.ts files fail here.
  fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, types: ['node'], outDir: 'out' },
    files: ['main.ts'],
  }));
  return { project, tarballFiles, packageJson };
}

describe('the installable library', () => {
  let installed: Installed;
  beforeAll(() => {
    installed = install();
  }, 120_000);
  afterAll(() => fs.rmSync(installed.project, { recursive: true, force: true }));

  it('ships compiled JavaScript, declarations and the validator schemas, and no sources or tests', () => {
    const files = installed.tarballFiles;
    expect(files).toContain('build/lib/index.js');
    expect(files).toContain('build/lib/index.d.ts');
    expect(files).toContain('build/imports/schemas/k8s.json');
    expect(files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('dist/') || f.startsWith('cli/'))).toEqual([]);
  });

  it('takes cdk8s and constructs from the chart that uses it, so constructs of both are one class', () => {
    expect(Object.keys(installed.packageJson.peerDependencies).sort()).toEqual(['cdk8s', 'constructs']);
    expect(installed.packageJson.dependencies).not.toHaveProperty('cdk8s');
    expect(installed.packageJson.dependencies).not.toHaveProperty('constructs');
  });

  it('compiles and synthesizes the README example, and its output passes the strict validator', () => {
    expect(EXAMPLE, 'README section "Use the constructs in your own chart" lost its example markers').toBeDefined();
    const compile = spawnSync(process.execPath, [TSC, '-p', '.'], { cwd: installed.project, encoding: 'utf-8' });
    expect(compile.stdout + compile.stderr).toBe('');
    expect(compile.status).toBe(0);

    const run = spawnSync(process.execPath, ['out/main.js'], { cwd: installed.project, encoding: 'utf-8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const text = fs.readFileSync(path.join(installed.project, 'dist', 'recommender.k8s.yaml'), 'utf-8');
    const kinds = parseAllDocuments(text).map((d) => d.toJS().kind);
    for (const kind of ['Rollout', 'AnalysisTemplate', 'Gateway', 'HTTPRoute', 'Certificate', 'ScaledObject', 'ServiceMonitor', 'PrometheusRule', 'NetworkPolicy']) {
      expect(kinds).toContain(kind);
    }
  });

  it('reads the schemas that ship inside it, wherever it is installed', () => {
    const probe = spawnSync(process.execPath, ['-e', 'process.stdout.write(require("model-serving").DEFAULT_SCHEMA_DIR)'], { cwd: installed.project, encoding: 'utf-8' });
    expect(probe.status).toBe(0);
    expect(probe.stdout).toBe(path.join(installed.project, 'node_modules', 'model-serving', 'build', 'imports', 'schemas'));
  });

  it('exposes one entry point: the app and its private helpers are not importable', () => {
    const deep = spawnSync(process.execPath, ['-e', 'require("model-serving/build/lib/private/names")'], { cwd: installed.project, encoding: 'utf-8' });
    expect(deep.status).not.toBe(0);
    expect(deep.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});
