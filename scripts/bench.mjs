#!/usr/bin/env node
// The synth benchmark: `npm run bench [-- --runs N] [--scale-runs N] [--json FILE] [--strict] [--launcher npx|bin] [--keep] [--no-settle]`.
//
// Measures, side by side in one run (rounds interleaved, so drift in machine load hits every
// measurement alike), the median of N runs of:
//   a. `npx cdk8s synth` of a trivial app (one cdk8s-plus-28 Deployment)     cwd .bench/trivial
//   b. `npx cdk8s synth` of the default fleet (serving.yaml)                   cwd repo root
//   c. `node trivial.js` alone
//   d. the app command alone, `node bin/run-ts.mjs main.ts`, default fleet
//   e. the app command on a generated fleet of 100 models x 3 environments
//   f. the app command on a generated fleet of 50 models x 3 environments
//   g. d with no bundle yet (a fresh build folder each run): a fresh clone's first run
//   h. the filesystem floor: plain node writing the files e wrote (same paths, so the same count
//      and folders, and the same sizes) into a fresh folder
//   i. the app command on a generated fleet of 1,000 models x 3 environments (--scale-runs runs)
// Each measurement but i gets one untimed warm-up run first (the app's bundle in .build/ exists in
// any repeated use); its time is reported as "cold" (for d that is cold only when .build/ is stale:
// g measures a missing bundle on every run). i runs the bundle the others warmed, in the first
// --scale-runs rounds only: one run takes tens of seconds. Peak RSS comes from a preload
// (scripts/bench/report-rss.mjs), applied to every plain-node run alike; main.ts is unchanged.
//
// Prints a Markdown table for the README and the targets with PASS/FAIL. Exits 0 unless
// --strict is given and a target fails (the ratios and the RSS limit; the absolute times are
// informational, since machines differ). All temporary output lives under .bench/ (gitignored).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { generateFleet } from './bench/generate-fleet.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCH_DIR = path.join(ROOT, '.bench');
const TRIVIAL_DIR = path.join(BENCH_DIR, 'trivial');
const OUT_DIR = path.join(BENCH_DIR, 'out');
const RSS_DIR = path.join(BENCH_DIR, 'rss');
// When the benchmark last deleted many files (see settle()).
const DELETED_STAMP = path.join(BENCH_DIR, '.last-delete');
// ext4 without a journal (this machine's root filesystem) skips inodes deleted in the last 60 s
// (360 s while their inode table block is dirty) when it allocates a new one, at a cost per
// skipped inode: right after thousands of deletions, creating a file costs ~0.5 ms instead of
// ~0.05 ms, which would add a second to e. So deletions are synced and then left to age.
const SETTLE_MS = 65_000;
const MANY_FILES = 500;
// The files h writes: e's output, recorded after e's first run.
const FLOOR_LISTING = path.join(BENCH_DIR, 'rss', 'h-files.json');
const REPORT_RSS = pathToFileURL(path.join(ROOT, 'scripts', 'bench', 'report-rss.mjs')).href;
const THIRD_ENVIRONMENT = 'canary-eu';
const SCALE_MODELS = 1000;
const GENERATED_ENVIRONMENTS = ['staging', 'production', THIRD_ENVIRONMENT];

const USAGE = `Usage: npm run bench [-- options]

  --runs N            timed runs per measurement, after one untimed warm-up (default 5)
  --scale-runs N      timed runs of i, the 1,000-model fleet, at most --runs (default 3)
  --json FILE         also write the results as JSON
  --strict            exit 1 when a target fails (b/a, d/c, e/h, e/d, i/e, peak RSS of e and i)
  --launcher npx|bin  how cdk8s synth is started for a and b: npx (default) or node_modules/.bin/cdk8s
  --keep              keep .bench/out/ (the synthesized output) afterwards
  --no-settle         start timing at once even if the benchmark deleted many files in the
                      last 65 s (which slows file creation down on this machine's disk)
  --help              show this help`;

// ---------------------------------------------------------------------------------------------
// Arguments

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        runs: { type: 'string', default: '5' },
        'scale-runs': { type: 'string', default: '3' },
        json: { type: 'string' },
        strict: { type: 'boolean', default: false },
        launcher: { type: 'string', default: 'npx' },
        keep: { type: 'boolean', default: false },
        'no-settle': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(`${error.message}\n\n${USAGE}`, 2);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) fail(`--runs must be a positive integer, got ${values.runs}`, 2);
  if (!['npx', 'bin'].includes(values.launcher)) fail(`--launcher must be npx or bin, got ${values.launcher}`, 2);
  const scaleRuns = Number(values['scale-runs']);
  if (!Number.isInteger(scaleRuns) || scaleRuns < 1) fail(`--scale-runs must be a positive integer, got ${values['scale-runs']}`, 2);
  return { runs, scaleRuns: Math.min(scaleRuns, runs), json: values.json, strict: values.strict, launcher: values.launcher, keep: values.keep, settle: !values['no-settle'] };
}

function fail(message, code = 2) {
  console.error(`bench: ${message}`);
  process.exit(code);
}

// ---------------------------------------------------------------------------------------------
// Fixtures under .bench/ (only our own entries are touched: other files there are left alone)

const TRIVIAL_JS = `// Baseline for the synth benchmark (generated by scripts/bench.mjs): one Deployment.
const { App, Chart } = require('cdk8s');
const kplus = require('cdk8s-plus-28');

const app = new App();
const chart = new Chart(app, 'trivial');
new kplus.Deployment(chart, 'web', { containers: [{ image: 'nginx:1.27' }] });
app.synth();
`;

function prepareFixtures() {
  fs.mkdirSync(BENCH_DIR, { recursive: true });
  for (const entry of fs.readdirSync(BENCH_DIR)) {
    if (/^fleet-\d+x\d+\.yaml$/.test(entry)) fs.rmSync(path.join(BENCH_DIR, entry), { force: true });
  }
  removeTrees([TRIVIAL_DIR, OUT_DIR, RSS_DIR]);
  fs.mkdirSync(TRIVIAL_DIR, { recursive: true });
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.mkdirSync(RSS_DIR, { recursive: true });

  fs.writeFileSync(path.join(TRIVIAL_DIR, 'trivial.js'), TRIVIAL_JS);
  fs.writeFileSync(path.join(TRIVIAL_DIR, 'cdk8s.yaml'), 'language: javascript\napp: node trivial.js\noutput: dist\n');
  // Pins CommonJS whatever the repo's package.json says, and makes this folder npx's project root.
  fs.writeFileSync(path.join(TRIVIAL_DIR, 'package.json'), `${JSON.stringify({ name: 'bench-trivial', private: true, type: 'commonjs' }, null, 2)}\n`);
  // cdk8s, cdk8s-plus-28, constructs and the cdk8s CLI's bin all come from the repo.
  fs.symlinkSync(path.relative(TRIVIAL_DIR, path.join(ROOT, 'node_modules')), path.join(TRIVIAL_DIR, 'node_modules'), 'dir');

  const fleets = {};
  for (const models of [100, 50, SCALE_MODELS]) {
    const file = path.join(BENCH_DIR, `fleet-${models}x${GENERATED_ENVIRONMENTS.length}.yaml`);
    fs.writeFileSync(file, generateFleet({ models, environments: GENERATED_ENVIRONMENTS }));
    fleets[models] = file;
  }
  return fleets;
}

function cleanup(keep) {
  removeTrees(keep ? [RSS_DIR] : [RSS_DIR, OUT_DIR]);
}

/** Deletes the trees; after many deletions, syncs (so they age out in 60 s) and stamps the time. */
function removeTrees(dirs) {
  let files = 0;
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    files += treeStats(dir).files;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (files >= MANY_FILES) {
    spawnSync('sync', { stdio: 'ignore' });
    fs.writeFileSync(DELETED_STAMP, `${Date.now()}\n`);
  }
}

/** Waits until the benchmark's last mass deletion is SETTLE_MS old. */
async function settle(enabled) {
  let stamp;
  try {
    stamp = Number(fs.readFileSync(DELETED_STAMP, 'utf8').trim());
  } catch {
    return;
  }
  const wait = stamp + SETTLE_MS - Date.now();
  if (!(wait > 0)) return;
  if (!enabled) {
    console.error(`bench: note: files were deleted ${((Date.now() - stamp) / 1000).toFixed(0)} s ago; file creation (e, f, h) may be slower than usual (--no-settle).`);
    return;
  }
  console.error(`bench: waiting ${(wait / 1000).toFixed(0)} s for the previous run's deleted files to age out (ext4 slows file creation after mass deletions; --no-settle skips this)`);
  await new Promise((resolve) => setTimeout(resolve, wait));
}

// ---------------------------------------------------------------------------------------------
// Output checks: a benchmark that measured a failing or empty synth would be worthless

function checkTrivial(outdir) {
  const files = fs.existsSync(outdir) ? fs.readdirSync(outdir).filter((f) => f.endsWith('.k8s.yaml')) : [];
  if (files.length === 0) return `no *.k8s.yaml in ${rel(outdir)}`;
  const text = fs.readFileSync(path.join(outdir, files[0]), 'utf8');
  if (!/kind: Deployment/.test(text)) return `${rel(outdir)}/${files[0]} holds no Deployment`;
  return undefined;
}

function checkFleet(environments, minManifests) {
  return (outdir) => {
    for (const env of environments) {
      const file = path.join(outdir, env, 'kustomization.yaml');
      if (!fs.existsSync(file)) return `missing ${rel(file)}`;
      const resources = YAML.parse(fs.readFileSync(file, 'utf8'))?.resources ?? [];
      if (resources.length < minManifests) return `${rel(file)} lists ${resources.length} resources, expected at least ${minManifests}`;
    }
    return undefined;
  };
}

function rel(p) {
  return path.relative(ROOT, p) || '.';
}

// ---------------------------------------------------------------------------------------------
// Measurements

function childEnv(extra) {
  const env = { ...process.env, NPM_CONFIG_UPDATE_NOTIFIER: 'false', NO_UPDATE_NOTIFIER: '1' };
  for (const key of ['SERVING_CONFIG', 'CDK8S_OUTDIR', 'BENCH_RSS_FILE', 'MODEL_SERVING_BUILD_DIR']) delete env[key];
  return { ...env, ...extra };
}

/**
 * Records the files of e's first run for h (see scripts/bench/write-files.mjs): their paths and
 * sizes in FLOOR_LISTING, their count and total size in `floor`.
 */
function recordFloor(outdir, floor) {
  const listing = [];
  const walk = (rel) => {
    for (const entry of fs.readdirSync(path.join(outdir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) listing.push([child, fs.statSync(path.join(outdir, child)).size]);
    }
  };
  walk('');
  fs.writeFileSync(FLOOR_LISTING, JSON.stringify(listing));
  floor.files = listing.length;
  floor.bytes = listing.reduce((sum, [, bytes]) => sum + bytes, 0);
}

function defineMeasurements({ launcher, fleets, floor }) {
  const cdk8s = launcher === 'npx' ? { cmd: 'npx', pre: ['cdk8s'] } : { cmd: path.join(ROOT, 'node_modules', '.bin', 'cdk8s'), pre: [] };
  const launcherText = launcher === 'npx' ? 'npx cdk8s synth' : 'node_modules/.bin/cdk8s synth';
  const synth = (outdir) => [...cdk8s.pre, 'synth', '--check-upgrade', 'false', '-o', outdir];
  const app = [path.join('bin', 'run-ts.mjs'), 'main.ts'];
  const fleetFile = (models) => path.relative(ROOT, fleets[models]);
  return [
    {
      id: 'a',
      label: `\`${launcherText}\`, trivial app (1 Deployment)`,
      cwd: TRIVIAL_DIR,
      build: (outdir) => ({ cmd: cdk8s.cmd, args: synth(outdir) }),
      check: checkTrivial,
    },
    {
      id: 'b',
      label: `\`${launcherText}\`, default fleet (serving.yaml)`,
      cwd: ROOT,
      build: (outdir) => ({ cmd: cdk8s.cmd, args: synth(outdir) }),
      check: checkFleet(['staging', 'production'], 1),
    },
    {
      id: 'c',
      label: '`node trivial.js` alone',
      cwd: TRIVIAL_DIR,
      rss: true,
      build: (outdir) => ({ cmd: process.execPath, args: ['trivial.js'], env: { CDK8S_OUTDIR: outdir } }),
      check: checkTrivial,
    },
    {
      id: 'd',
      label: '`node bin/run-ts.mjs main.ts` (the app command) alone, default fleet',
      cwd: ROOT,
      rss: true,
      build: (outdir) => ({ cmd: process.execPath, args: app, env: { CDK8S_OUTDIR: outdir } }),
      check: checkFleet(['staging', 'production'], 1),
    },
    {
      id: 'e',
      label: `app command, generated fleet 100 models × 3 environments`,
      cwd: ROOT,
      rss: true,
      models: 100,
      build: (outdir) => ({ cmd: process.execPath, args: [...app, '--config', fleetFile(100)], env: { CDK8S_OUTDIR: outdir } }),
      check: checkFleet(GENERATED_ENVIRONMENTS, 100),
    },
    {
      id: 'f',
      label: `app command, generated fleet 50 models × 3 environments`,
      cwd: ROOT,
      rss: true,
      models: 50,
      build: (outdir) => ({ cmd: process.execPath, args: [...app, '--config', fleetFile(50)], env: { CDK8S_OUTDIR: outdir } }),
      check: checkFleet(GENERATED_ENVIRONMENTS, 50),
    },
    {
      id: 'g',
      label: 'd with no bundle yet (a fresh clone\'s first run: esbuild bundles, then runs)',
      cwd: ROOT,
      rss: true,
      build: (outdir) => ({ cmd: process.execPath, args: app, env: { CDK8S_OUTDIR: outdir, MODEL_SERVING_BUILD_DIR: `${outdir}.build` } }),
      check: checkFleet(['staging', 'production'], 1),
    },
    {
      id: 'h',
      // The files of e's first run: see main().
      label: 'filesystem floor: plain node writing e\'s files (same paths and sizes) into a fresh folder',
      cwd: ROOT,
      rss: true,
      floorOf: 'e',
      build: (outdir) => ({ cmd: process.execPath, args: [path.join(ROOT, 'scripts', 'bench', 'write-files.mjs'), outdir, FLOOR_LISTING] }),
      check: (outdir) => {
        const stats = treeStats(outdir);
        return stats.files === floor.files && stats.bytes === floor.bytes ? undefined : `${rel(outdir)} holds ${stats.files} files, ${stats.bytes} bytes; e wrote ${floor.files} files, ${floor.bytes} bytes`;
      },
    },
    {
      id: 'i',
      label: `app command, generated fleet ${SCALE_MODELS.toLocaleString('en-US')} models × 3 environments`,
      cwd: ROOT,
      rss: true,
      models: SCALE_MODELS,
      warmUp: false,
      build: (outdir) => ({ cmd: process.execPath, args: [...app, '--config', fleetFile(SCALE_MODELS)], env: { CDK8S_OUTDIR: outdir } }),
      check: checkFleet(GENERATED_ENVIRONMENTS, SCALE_MODELS),
    },
  ];
}

/** Files, bytes and folders below `dir`. */
function treeStats(dir) {
  const stats = { files: 0, bytes: 0, folders: 0 };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = treeStats(p);
      stats.files += sub.files;
      stats.bytes += sub.bytes;
      stats.folders += 1 + sub.folders;
    } else if (entry.isFile()) {
      stats.files += 1;
      stats.bytes += fs.statSync(p).size;
    }
  }
  return stats;
}

/**
 * Runs one measurement once; returns { ms, rssKB, files, bytes }.
 *
 * Every run writes to a folder of its own, .bench/out/<id>/<tag>/dist, which does not exist
 * before the run, and all of .bench/out/ is deleted only after the last run: on this machine's
 * disk (ext4, mounted with discard) deleting thousands of files right before a run slows that
 * run's file creation down, more with every round.
 */
function runOnce(m, tag) {
  // A parent folder per run, so the app's sibling staging folder stays in it too.
  const parent = path.join(OUT_DIR, m.id, tag);
  const outdir = path.join(parent, 'dist');
  fs.rmSync(parent, { recursive: true, force: true });
  fs.mkdirSync(parent, { recursive: true });
  const { cmd, args, env = {} } = m.build(outdir, m.floor);
  const rssFile = path.join(RSS_DIR, `${m.id}-${tag}.txt`);
  fs.rmSync(rssFile, { force: true });
  const fullArgs = m.rss ? ['--import', REPORT_RSS, ...args] : args;
  const fullEnv = childEnv(m.rss ? { ...env, BENCH_RSS_FILE: rssFile } : env);

  const start = process.hrtime.bigint();
  const result = spawnSync(cmd, fullArgs, { cwd: m.cwd, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;

  // For display: node for process.execPath, paths relative to the measurement's cwd.
  const display = (arg) => (path.isAbsolute(arg) && arg.startsWith(ROOT) ? path.relative(m.cwd, arg) || '.' : arg);
  const shown = [cmd === process.execPath ? 'node' : display(cmd), ...fullArgs.map((a) => (a.startsWith('file://') ? display(fileURLToPath(a)) : display(a)))].join(' ');
  if (result.error || result.status !== 0) {
    fail(
      `${m.id} (${tag}) failed: ${shown}\n  cwd ${rel(m.cwd)}, exit ${result.status ?? result.signal ?? result.error?.message}\n` +
        `${result.stdout?.toString() ?? ''}${result.stderr?.toString() ?? ''}`,
    );
  }
  const problem = m.check(outdir);
  if (problem) fail(`${m.id} (${tag}) exited 0 but its output is wrong: ${problem}\n  command: ${shown} (cwd ${rel(m.cwd)})`);
  let rssKB;
  if (m.rss) {
    if (!fs.existsSync(rssFile)) fail(`${m.id} (${tag}): the RSS preload wrote no ${rel(rssFile)}`);
    rssKB = Number(fs.readFileSync(rssFile, 'utf8').trim());
  }
  m.command = `${shown}`;
  return { ms, rssKB, ...treeStats(outdir) };
}

// ---------------------------------------------------------------------------------------------
// Statistics and report

function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const fmtMB = (kb) => (kb === undefined ? '–' : (kb / 1024).toFixed(0));
const fmtRatio = (r) => r.toFixed(2);

function summarize(m, cold, samples) {
  const ms = samples.map((s) => s.ms);
  const rss = [cold, ...samples].filter(Boolean).map((s) => s.rssKB).filter((v) => v !== undefined);
  const first = cold ?? samples[0];
  return {
    id: m.id,
    label: m.label,
    command: m.command,
    cwd: rel(m.cwd),
    samplesMs: ms.map((v) => Math.round(v * 10) / 10),
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    coldMs: cold?.ms,
    peakRssKB: rss.length ? Math.max(...rss) : undefined,
    outputFiles: first.files,
    outputBytes: first.bytes,
  };
}

function evaluate(r) {
  const ratio = (x, y) => r[x].medianMs / r[y].medianMs;
  const rssMB = (id) => r[id].peakRssKB / 1024;
  const ratioTarget = (x, y, limit, label) => ({ id: `${x}/${y}`, label: `${x} / ${y}: ${label}`, value: ratio(x, y), limit, op: '≤', text: fmtRatio(ratio(x, y)), counts: true });
  const rssTarget = (id, limit) => ({ id: `${id}.rss`, label: `peak RSS of ${id} (MB)`, value: rssMB(id), limit, op: '<', text: rssMB(id).toFixed(0), counts: true });
  const targets = [
    ratioTarget('b', 'a', 1.5, '`cdk8s synth` of the default fleet vs the trivial app'),
    ratioTarget('d', 'c', 3, 'app command vs `node trivial.js`'),
    ratioTarget('e', 'h', 5, '100 models × 3 environments vs writing its files alone'),
    ratioTarget('e', 'd', 10, '100 models × 3 environments vs the default fleet'),
    ratioTarget('i', 'e', 10.5, `${SCALE_MODELS.toLocaleString('en-US')} models vs 100 (linear: 10)`),
    rssTarget('e', 500),
    rssTarget('i', 400),
    { id: 'b.ms', label: 'b absolute (ms, informational)', value: r.b.medianMs, limit: 1500, op: '<', text: fmtMs(r.b.medianMs), counts: false },
    { id: 'e.ms', label: 'e absolute (ms, informational)', value: r.e.medianMs, limit: 4000, op: '<', text: fmtMs(r.e.medianMs), counts: false },
  ];
  for (const t of targets) {
    t.pass = t.op === '≤' ? t.value <= t.limit : t.value < t.limit;
    t.headroom = t.value / t.limit;
  }
  const perModel50 = r.f.medianMs / 50;
  const marginal = (r.e.medianMs - r.f.medianMs) / 50;
  // Cost above the default fleet's run, i.e. without the process start, imports and one model.
  const perModelAboveDefault = (r.e.medianMs - r.d.medianMs) / 99;
  const perModelMarginal100toScale = (r.i.medianMs - r.e.medianMs) / (SCALE_MODELS - 100);
  const linearity = { perModel50Ms: perModel50, perModelMarginal50to100Ms: marginal, perModelAboveDefaultMs: perModelAboveDefault, marginalOverAverage: marginal / perModel50, perModelMarginal100toScaleMs: perModelMarginal100toScale };
  return { targets, linearity };
}

function report({ options, meta, results, targets, linearity }) {
  const lines = [];
  lines.push(`Synth benchmark: node ${meta.node}, nproc ${meta.nproc} (${meta.cpu}), ${meta.platform}; ` +
    `median of ${options.runs} timed run${options.runs === 1 ? '' : 's'} after one untimed warm-up ("cold") per measurement (i: ${options.scaleRuns} run${options.scaleRuns === 1 ? '' : 's'}, no warm-up), rounds interleaved; ` +
    `load average ${meta.loadBefore.toFixed(2)} before, ${meta.loadAfter.toFixed(2)} after.`);
  lines.push('');
  lines.push('| Measurement | Median ms | (min–max) ms | Cold first run ms | Peak RSS MB |');
  lines.push('| --- | ---: | ---: | ---: | ---: |');
  for (const r of Object.values(results)) {
    lines.push(`| ${r.id}. ${r.label} | ${fmtMs(r.medianMs)} | (${fmtMs(r.minMs)}–${fmtMs(r.maxMs)}) | ${r.coldMs === undefined ? '–' : fmtMs(r.coldMs)} | ${fmtMB(r.peakRssKB)} |`);
  }
  lines.push('');
  lines.push('| Target | Measured | Limit | Result |');
  lines.push('| --- | ---: | ---: | :---: |');
  for (const t of targets) {
    const result = t.counts ? (t.pass ? 'PASS' : 'FAIL') : `${t.pass ? 'PASS' : 'FAIL'} (info)`;
    lines.push(`| ${t.label} | ${t.text} | ${t.op} ${t.limit} | ${result} |`);
  }
  lines.push('');
  lines.push(`Linearity (informational): ${fmtMs(linearity.perModel50Ms)} ms per model at 50 models (f / 50), ` +
    `${fmtMs(linearity.perModelMarginal50to100Ms)} ms per added model from 50 to 100 ((e − f) / 50; ` +
    `${fmtRatio(linearity.marginalOverAverage)}× the 50-model average), ` +
    `${fmtMs(linearity.perModelAboveDefaultMs)} ms per model above the default fleet ((e − d) / 99), ` +
    `${fmtMs(linearity.perModelMarginal100toScaleMs)} ms per added model from 100 to ${SCALE_MODELS.toLocaleString('en-US')} ((i − e) / ${SCALE_MODELS - 100}), each model synthesized in 3 environments.`);
  lines.push('');
  lines.push(`e writes ${results.e.outputFiles} files (${(results.e.outputBytes / 1024 / 1024).toFixed(1)} MB); writing them alone (h) takes ` +
    `${fmtMs(results.h.medianMs)} ms on this disk, ${fmtRatio(results.h.medianMs / results.e.medianMs)}× e's median. ` +
    `i writes ${results.i.outputFiles} files (${(results.i.outputBytes / 1024 / 1024).toFixed(1)} MB).`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!fs.existsSync(path.join(ROOT, 'main.ts'))) fail('main.ts is missing: nothing to benchmark yet');
  for (const dep of ['cdk8s', 'cdk8s-plus-28', 'constructs', 'cdk8s-cli', 'esbuild', 'yaml']) {
    if (!fs.existsSync(path.join(ROOT, 'node_modules', dep, 'package.json'))) fail(`node_modules/${dep} is missing: run npm ci first`);
  }
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || String(os.availableParallelism?.() ?? os.cpus().length);
  const meta = {
    node: process.version,
    nproc: Number(nproc),
    cpu: os.cpus()[0]?.model?.replace(/\s+/g, ' ').trim() ?? 'unknown CPU',
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
  };

  const fleets = prepareFixtures();
  await settle(options.settle);
  meta.loadBefore = os.loadavg()[0];
  const floor = {};
  const measurements = defineMeasurements({ launcher: options.launcher, fleets, floor });
  const cold = {};
  const samples = Object.fromEntries(measurements.map((m) => [m.id, []]));

  process.stderr.write(`bench: warm-up (cold) runs: `);
  for (const m of measurements) {
    if (m.warmUp === false) continue;
    cold[m.id] = runOnce(m, 'cold');
    if (m.id === 'e') recordFloor(path.join(OUT_DIR, 'e', 'cold', 'dist'), floor);
    process.stderr.write(`${m.id} ${fmtMs(cold[m.id].ms)} ms  `);
  }
  process.stderr.write('\n');
  for (let round = 0; round < options.runs; round += 1) {
    process.stderr.write(`bench: round ${round + 1}/${options.runs}: `);
    // Rotate the order each round so no measurement always runs right after the same one.
    const order = measurements.map((_, i) => measurements[(i + round) % measurements.length])
      .filter((m) => m.warmUp !== false || round < options.scaleRuns);
    for (const m of order) {
      const s = runOnce(m, `run${round}`);
      samples[m.id].push(s);
      process.stderr.write(`${m.id} ${fmtMs(s.ms)}  `);
    }
    process.stderr.write('\n');
  }
  meta.loadAfter = os.loadavg()[0];

  const results = Object.fromEntries(measurements.map((m) => [m.id, summarize(m, cold[m.id], samples[m.id])]));
  const { targets, linearity } = evaluate(results);
  console.log(report({ options, meta, results, targets, linearity }));

  if (meta.loadBefore > 0.5) {
    console.error(`bench: note: the load average was ${meta.loadBefore.toFixed(2)} before the run; other processes may have skewed the timings.`);
  }
  if (options.json) {
    const json = {
      meta: { ...meta, runs: options.runs, scaleRuns: options.scaleRuns, launcher: options.launcher },
      measurements: Object.fromEntries(
        Object.entries(results).map(([id, r]) => [id, { ...r, peakRssMB: r.peakRssKB === undefined ? undefined : Math.round((r.peakRssKB / 1024) * 10) / 10 }]),
      ),
      targets,
      linearity,
    };
    fs.mkdirSync(path.dirname(path.resolve(options.json)), { recursive: true });
    fs.writeFileSync(options.json, `${JSON.stringify(json, null, 2)}\n`);
    console.error(`bench: wrote ${options.json}`);
  }
  cleanup(options.keep);

  const failed = targets.filter((t) => t.counts && !t.pass);
  if (failed.length > 0) {
    console.error(`bench: ${failed.length} target(s) missed: ${failed.map((t) => t.id).join(', ')}`);
    if (options.strict) process.exit(1);
  }
}

await main();
