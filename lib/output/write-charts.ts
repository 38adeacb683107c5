import fs from 'node:fs';
import path from 'node:path';
import { ApiObject, type App, Chart, DependencyGraph, Names } from 'cdk8s';
import type { IConstruct } from 'constructs';
import { manifestYaml } from '../private/manifest-yaml';
import { capHeap } from '../private/release-memory';

/**
 * What `app.synth()` does with `YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE` (cdk8s 2.70),
 * in two steps, so that a fleet can be synthesized one environment's App at a time: the same
 * validation and messages, dependency order, folder and file names and bytes, but each object's
 * manifest is rendered, written and dropped before the next one, and its YAML comes from
 * {@link manifestYaml} instead of cdk8s's slower `Yaml.stringify`. test/synth-streaming.test.ts
 * compares the result with `app.synth()` of a single tree.
 */

/** The validation errors of every construct of `app`, as `app.synth()` words them. */
export function validationErrors(app: App): string[] {
  const errors: string[] = [];
  for (const child of app.node.findAll()) {
    for (const error of child.node.validate()) errors.push(`[${child.node.path}] ${error}`);
  }
  return errors;
}

/** The error `app.synth()` throws for these validation errors. */
export function validationFailure(errors: readonly string[]): Error {
  return new Error(`Validation failed with the following errors:\n  ${errors.join('\n  ')}`);
}

/** Objects written by {@link writeChartFolders}: name and construct path, as construct-metadata.json records them. */
export type WrittenObjects = Record<string, { path: string }>;

/** Where {@link writeChartFolders} sends each file (see lib/private/background-writer.ts). */
export interface FileWriter {
  write(file: string, data: string): void;
}

const WRITE_NOW: FileWriter = { write: (file, data) => fs.writeFileSync(file, data, { encoding: 'utf8' }) };

/**
 * Writes each chart of `app` into `<app.outdir>/<chart>/<Kind>.<name><extension>`; call
 * {@link validationErrors} first. Returns the objects written, in order.
 */
export function writeChartFolders(app: App, writer: FileWriter = WRITE_NOW): WrittenObjects {
  fs.mkdirSync(app.outdir, { recursive: true });
  const { indexed, dependencies } = resolveDependencies(app);
  const written: WrittenObjects = {};
  // App.charts sorts every construct of the App topologically; an App of one chart needs none of that.
  const only = app.node.children.length === 1 && !indexed ? app.node.children[0] : undefined;
  const charts = only instanceof Chart ? [only] : app.charts;
  charts.forEach((chart, index) => {
    const folder = indexed ? `${String(index).padStart(4, '0')}-${Names.toDnsLabel(chart)}` : Names.toDnsLabel(chart);
    const dir = path.join(app.outdir, folder);
    fs.mkdirSync(dir, { recursive: true });
    chartObjects(chart, dependencies).forEach((apiObject, index) => {
      const file = `${apiObject.kind}.${apiObject.metadata.name}`.replace(/[^0-9a-zA-Z-_.]/g, '');
      writer.write(path.join(dir, file + app.outputFileExtension), manifestYaml(apiObject.toJson()));
      written[apiObject.name] = { path: apiObject.node.path };
      // Each object's manifest is garbage once written: memory stays that of the construct tree.
      if (index % 256 === 255) capHeap();
    });
  });
  return written;
}

/** construct-metadata.json, as `app.synth()` writes it when the App records construct metadata. */
export function writeConstructMetadata(outdir: string, objects: WrittenObjects): void {
  fs.writeFileSync(path.join(outdir, 'construct-metadata.json'), JSON.stringify({ version: '1.0.0', resources: objects }));
}

/**
 * A chart's objects in dependency order, as cdk8s synthesizes them. Without any dependency in
 * the App, cdk8s's dependency graph orders every construct as its tree does (preorder), so that
 * order is taken as it is, without building the graph.
 */
function chartObjects(chart: Chart, dependencies: boolean): ApiObject[] {
  const ordered = dependencies ? new DependencyGraph(chart.node).topology() : chart.node.findAll();
  return ordered
    .filter((x): x is ApiObject => x instanceof ApiObject)
    .filter((x) => Chart.of(x) === chart);
}

/**
 * Turns construct dependencies into dependencies between charts and between their objects, as
 * `app.synth()` does. Says whether any chart depends on another (then folders are numbered) and
 * whether there is any dependency at all.
 */
function resolveDependencies(app: App): { indexed: boolean; dependencies: boolean } {
  const all = new Map<IConstruct, IConstruct[]>();
  const findAll = (c: IConstruct) => {
    let found = all.get(c);
    if (found === undefined) {
      found = c.node.findAll();
      all.set(c, found);
    }
    return found;
  };
  const dependencies = () => findAll(app).flatMap((source) => source.node.dependencies.map((target) => ({ source, target })));
  let dependantCharts = false;
  for (const parent of findAll(app).filter((x) => x instanceof Chart)) {
    for (const child of parent.node.children.filter((x) => x instanceof Chart)) {
      parent.node.addDependency(child);
      dependantCharts = true;
    }
  }
  for (const { source, target } of dependencies()) {
    const sourceChart = Chart.of(source);
    const targetChart = Chart.of(target);
    if (sourceChart !== targetChart) {
      sourceChart.node.addDependency(targetChart);
      dependantCharts = true;
    }
  }
  for (const { source, target } of dependencies()) {
    const sourceChart = Chart.of(source);
    const targetChart = Chart.of(target);
    const targets = findAll(target).filter((c) => c instanceof ApiObject && Chart.of(c) === targetChart);
    const sources = findAll(source).filter((c) => c instanceof ApiObject && Chart.of(c) === sourceChart);
    for (const t of targets) {
      for (const s of sources) {
        if (t !== s) s.node.addDependency(t);
      }
    }
  }
  return { indexed: dependantCharts, dependencies: dependencies().length > 0 };
}
