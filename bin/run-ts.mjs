#!/usr/bin/env node
// Runs one of this project's TypeScript entry points without type-checking:
//
//   node bin/run-ts.mjs main.ts [args...]
//
// The entry point and everything it imports are bundled by esbuild (types stripped, nothing
// checked; `npm run typecheck` does that) into .build/, and the bundle is reused until one of
// its inputs or package-lock.json changes. Loading one bundle takes about a third of the time
// of transforming and resolving every module on each run, which keeps synth within its budget.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [entryArg, ...args] = process.argv.slice(2);
if (!entryArg) {
  console.error('usage: node bin/run-ts.mjs <entry.ts> [args...]');
  process.exit(2);
}
const entry = path.resolve(root, entryArg);
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

async function build() {
  const { build: esbuild } = await import('esbuild');
  fs.mkdirSync(buildDir, { recursive: true });
  // A private name per process, so concurrent builds never read each other's half-written files.
  const temp = `${bundle}.${process.pid}.tmp`;
  const result = await esbuild({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: temp,
    metafile: true,
    logLevel: 'warning',
    // Module-relative paths (the validator's schemas) resolve from the bundle through this.
    define: { MODEL_SERVING_BUNDLE_ROOT: JSON.stringify(path.relative(buildDir, root)) },
  });
  // Dependencies change only with package-lock.json, so their files need not be checked one by one.
  const inputs = Object.keys(result.metafile.inputs)
    .map((file) => path.relative(root, path.resolve(root, file)))
    .filter((file) => !file.startsWith(`node_modules${path.sep}`));
  // This launcher too: how it bundles (the define above) is part of what it built.
  const prints = Object.fromEntries([...inputs, 'package-lock.json', path.relative(root, fileURLToPath(import.meta.url))].sort().map((file) => [file, fingerprint(path.join(root, file))]));
  fs.renameSync(temp, bundle);
  fs.writeFileSync(`${manifest}.${process.pid}.tmp`, `${JSON.stringify(prints)}\n`);
  fs.renameSync(`${manifest}.${process.pid}.tmp`, manifest);
}

if (!isFresh()) await build();
process.argv = [process.argv[0], entry, ...args];
createRequire(import.meta.url)(bundle);
