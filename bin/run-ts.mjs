#!/usr/bin/env node
// Runs one of this project's TypeScript entry points without type-checking:
//
//   node bin/run-ts.mjs main.ts [args...]
//
// The entry point and everything it imports are bundled by esbuild (types stripped, nothing
// checked; `npm run typecheck` does that) into .build/, and the bundle is reused until one of
// its inputs or package-lock.json changes. Loading one bundle takes about a third of the time
// of transforming and resolving every module on each run, which keeps synth within its budget.
//
// V8 compiles the bundle (3 MB) on every start unless it is given the code it compiled before:
// the first successful run of each command stores V8's code cache of the bundle beside it
// (.build/<bundle>.<sha1 of the bundle>.<command>.v8cache), with every function that run
// compiled, and later runs start from it. A cache is only ever used with the exact bundle it was
// made from (V8 itself checks the source's length, not its contents), and V8 rejects one from
// another Node.js version or other V8 flags, which the next run then replaces.
import crypto from 'node:crypto';
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [entryArg, ...args] = process.argv.slice(2);
if (!entryArg) {
  console.error('usage: node bin/run-ts.mjs <entry.ts> [args...]');
  process.exit(2);
}
const entry = path.resolve(root, entryArg);
// esbuild reports its inputs by their real paths, relative to its working directory: both are
// taken from the real path of the project, so a checkout reached through a symlink or a bind
// mount (CI runners do both) records the same project-relative names.
const realRoot = fs.realpathSync(root);
// MODEL_SERVING_BUILD_DIR lets the benchmark time a cold start without touching .build/.
const buildDir = process.env.MODEL_SERVING_BUILD_DIR ? path.resolve(process.env.MODEL_SERVING_BUILD_DIR) : path.join(root, '.build');
const name = path.relative(root, entry).replace(/[/\\]/g, '__').replace(/\.ts$/, '');
const bundle = path.join(buildDir, `${name}.cjs`);
const manifest = path.join(buildDir, `${name}.inputs.json`);

/** Size and modification time: a changed or replaced file differs in at least one. */
function fingerprint(file) {
  try {
    const stat = fs.statSync(file);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

function isFresh() {
  let recorded;
  try {
    recorded = JSON.parse(fs.readFileSync(manifest, 'utf-8'));
  } catch {
    return false;
  }
  if (!fs.existsSync(bundle)) return false;
  return Object.entries(recorded).every(([file, print]) => fingerprint(path.join(root, file)) === print);
}

/**
 * The generated converters in imports/ (cdk8s import) end each object with
 * `Object.entries(result).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {})`,
 * which copies the object once per field it keeps: a Deployment's manifest took 0.9 ms to render,
 * 40% of it there. The bundle gets the same object (the same own properties, in the same order)
 * from one pass; imports/ stays byte for byte what cdk8s import writes.
 */
const GENERATED_FIELD_FILTER = 'return Object.entries(result).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {});';
const LINEAR_FIELD_FILTER = 'return Object.fromEntries(Object.entries(result).filter((i) => i[1] !== undefined));';
const linearImports = {
  name: 'linear-imports',
  setup(build) {
    build.onLoad({ filter: /[/\\]imports[/\\][^/\\]+\.ts$/ }, async (args) => ({
      contents: (await fs.promises.readFile(args.path, 'utf-8')).replaceAll(GENERATED_FIELD_FILTER, LINEAR_FIELD_FILTER),
      loader: 'ts',
    }));
  },
};

async function build() {
  const { build: esbuild } = await import('esbuild');
  fs.mkdirSync(buildDir, { recursive: true });
  // A private name per process, so concurrent builds never read each other's half-written files.
  const temp = `${bundle}.${process.pid}.tmp`;
  const result = await esbuild({
    entryPoints: [path.join(realRoot, path.relative(root, entry))],
    absWorkingDir: realRoot,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: temp,
    metafile: true,
    logLevel: 'warning',
    // Module-relative paths (the validator's schemas) resolve from the bundle through this.
    define: { MODEL_SERVING_BUNDLE_ROOT: JSON.stringify(path.relative(buildDir, root)) },
    plugins: [linearImports],
  });
  // Dependencies change only with package-lock.json, so their files need not be checked one by one.
  // A node_modules reached through a symlink (a shared install) resolves outside the project,
  // so a dependency is known by a node_modules segment anywhere in its path.
  const inputs = Object.keys(result.metafile.inputs)
    .map((file) => path.relative(realRoot, path.resolve(realRoot, file)))
    .filter((file) => !file.split(/[/\\]/).includes('node_modules'));
  // This launcher too: how it bundles (the define above) is part of what it built.
  const prints = Object.fromEntries([...inputs, 'package-lock.json', path.relative(root, fileURLToPath(import.meta.url))].sort().map((file) => [file, fingerprint(path.join(root, file))]));
  fs.renameSync(temp, bundle);
  fs.writeFileSync(`${manifest}.${process.pid}.tmp`, `${JSON.stringify(prints)}\n`);
  fs.renameSync(`${manifest}.${process.pid}.tmp`, manifest);
  // The code caches of the previous bundle can never be used again.
  for (const file of fs.readdirSync(buildDir)) {
    if (file.startsWith(`${name}.`) && file.endsWith('.v8cache')) fs.rmSync(path.join(buildDir, file), { force: true });
  }
}

/** The command a run starts with (its functions are what the cache holds), or `default`. */
function cacheKey() {
  return /^[a-z][a-z-]{0,30}$/.test(args[0] ?? '') ? args[0] : 'default';
}

/**
 * Runs the bundle as Node.js would require() it (same module wrapper, require, module and
 * paths), compiled with its code cache when there is one, and stores a cache after a
 * successful run when there was none or V8 rejected it.
 */
function runBundle() {
  const code = fs.readFileSync(bundle);
  const cacheFile = path.join(buildDir, `${name}.${crypto.createHash('sha1').update(code).digest('hex').slice(0, 16)}.${cacheKey()}.v8cache`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // None yet: this run makes it.
  }
  const script = new vm.Script(Module.wrap(code.toString('utf8')), {
    filename: bundle,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.on('exit', (status) => {
      if (status !== 0 || process.exitCode) return;
      try {
        const temp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(temp, script.createCachedData());
        fs.renameSync(temp, cacheFile);
      } catch {
        // A cache is an optimization; a read-only or full disk only makes later runs slower.
      }
    });
  }
  const mod = new Module(bundle, null);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(path.dirname(bundle));
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, path.dirname(bundle));
  mod.loaded = true;
}

if (!isFresh()) await build();
process.argv = [process.argv[0], entry, ...args];
runBundle();
