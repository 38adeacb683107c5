import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/app';

/**
 * The dependency graph points one way: vocabulary → constructs → fleet → environment → services
 * → CLI. Each layer is a list of tiers, lowest first; the folders of one tier are peers and never
 * import each other. A module may import its own folder and any folder of a lower tier, nothing
 * else. A new folder must be placed here before anything can import it.
 */
const LAYERS: readonly { readonly name: string; readonly tiers: readonly (readonly string[])[] }[] = [
  {
    name: 'vocabulary',
    tiers: [['imports'], ['lib/private'], ['lib/core'], ['lib/signals', 'lib/validation', 'lib/policy']],
  },
  {
    name: 'constructs',
    tiers: [
      ['lib/torchserve'],
      ['lib/gateway'],
      ['lib/monitoring', 'lib/isolation'],
      ['lib/cache', 'lib/autoscaling', 'lib/release', 'lib/gitops', 'lib/operations', 'lib/packaging'],
      ['lib/cluster'],
      // The library's entry point: every construct, none of the app.
      ['lib/index.ts'],
    ],
  },
  { name: 'fleet', tiers: [['lib/fleet'], ['lib/image']] },
  { name: 'environment', tiers: [['lib/environment']] },
  { name: 'services', tiers: [['lib/registry'], ['lib/output', 'lib/compose'], ['lib/review'], ['lib/repository']] },
  { name: 'CLI', tiers: [['cli'], ['main.ts']] },
];

interface Unit {
  readonly unit: string;
  readonly layer: number;
  readonly tier: number;
}

/** Edges still to move down; each entry is a debt, and the list only shrinks. */
const KNOWN_UPWARD_EDGES = new Set<string>([]);

const UNITS: Unit[] = LAYERS.flatMap((layer, l) => layer.tiers.flatMap((tier, t) => tier.map((unit) => ({ unit, layer: l, tier: t }))));

function unitOf(file: string): Unit | undefined {
  return UNITS.filter((u) => file === u.unit || file.startsWith(`${u.unit}/`)).sort((a, b) => b.unit.length - a.unit.length)[0];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const SPECIFIER = /(?:^|[\s;])(?:import|export)\b[^'";]*?\bfrom\s*'([^']+)'|(?:^|[\s;])import\s*'([^']+)'|\b(?:import|require)\(\s*'([^']+)'\s*\)/g;

/** Every relative import of `file`, resolved to the file it loads. */
function importsOf(file: string): { target: string; specifier: string }[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf-8');
  const found: { target: string; specifier: string }[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (!specifier.startsWith('.')) continue;
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    const target = [`${base}.ts`, `${base}/index.ts`, base].find((candidate) => fs.existsSync(path.join(REPO_ROOT, candidate)) && fs.statSync(path.join(REPO_ROOT, candidate)).isFile());
    if (target === undefined) throw new Error(`${file}: cannot resolve import '${specifier}'`);
    found.push({ target, specifier });
  }
  return found;
}

const FILES = [...sourceFiles('lib'), ...sourceFiles('cli'), 'main.ts'];
const GRAPH = new Map(FILES.map((file) => [file, importsOf(file)]));

describe('the layered dependency graph', () => {
  it('places every module of the app and the library in a layer', () => {
    expect(FILES.length).toBeGreaterThan(80);
    expect(FILES.filter((file) => unitOf(file) === undefined)).toEqual([]);
  });

  it('reads the imports it judges', () => {
    const edges = [...GRAPH.values()].reduce((n, list) => n + list.length, 0);
    expect(edges).toBeGreaterThan(300);
    expect(GRAPH.get('main.ts')!.map((e) => e.target)).toEqual(['cli/index.ts']);
  });

  it('has no upward or sideways edge between folders', () => {
    const wrong: string[] = [];
    for (const [file, edges] of GRAPH) {
      const from = unitOf(file)!;
      for (const { target, specifier } of edges) {
        const to = unitOf(target);
        if (to === undefined || to.unit === from.unit || KNOWN_UPWARD_EDGES.has(`${file} -> ${target}`)) continue;
        const below = to.layer < from.layer || (to.layer === from.layer && to.tier < from.tier);
        if (!below) wrong.push(`${file} (${LAYERS[from.layer].name}: ${from.unit}) imports '${specifier}' (${LAYERS[to.layer].name}: ${to.unit})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps lib/private private to lib/', () => {
    const leaks = [...GRAPH].flatMap(([file, edges]) => (file.startsWith('lib/') ? [] : edges.filter((e) => e.target.startsWith('lib/private/')).map((e) => `${file} -> ${e.target}`)));
    expect(leaks).toEqual([]);
  });

  it('has no import cycle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const { target } of GRAPH.get(file) ?? []) visit(target, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of FILES) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
