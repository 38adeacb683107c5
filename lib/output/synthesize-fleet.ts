import fs from 'node:fs';
import path from 'node:path';
import { App, Chart, YamlOutputType } from 'cdk8s';
import { EnvironmentChart } from '../environment';
import type { FleetConfig } from '../fleet';
import { type ModelRegistry, deployedReleases, modelArchives } from '../registry';
import { modelStorePrefix } from '../operations';
import { LABEL_MANAGED_BY, LABEL_PART_OF, MANAGED_BY } from '../private/labels';
import { ArgoCdApplication, applicationName } from '../gitops';
import { GatewayApiPluginConfig } from '../release';
import { recoverInterruptedSwap, stagingFolder, swapInto } from '../private/atomic-folder';
import { BackgroundWriter } from '../private/background-writer';

export { recoverInterruptedSwap } from '../private/atomic-folder';
import { kustomizationText } from '../private/kustomization';
import { releaseMemory } from '../private/release-memory';
import { type WrittenObjects, validationErrors, validationFailure, writeChartFolders, writeConstructMetadata } from './write-charts';

/** Output folder of cluster-wide Argo Rollouts configuration, when a canary needs it. */
export const ARGO_ROLLOUTS_FOLDER = 'argo-rollouts';
/** Output folder of the Argo CD Applications, when the fleet file configures Argo CD. */
export const ARGOCD_FOLDER = 'argocd';

/** The output folder holds something a synth must not replace. Nothing was written. */
export class OutputFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputFolderError';
  }
}

/** Options of {@link synthesizeFleet}. */
export interface SynthesizeFleetOptions {
  readonly fleet: FleetConfig;
  /** The output folder; each environment becomes `<outdir>/<environment>/`. */
  readonly outdir: string;
  /**
   * The model registry, which decides each environment's model versions.
   * @default - the versions in the fleet file
   */
  readonly registry?: ModelRegistry;
  /**
   * Builds every chart in one cdk8s App and writes it with cdk8s's own `app.synth()`, instead of
   * one environment at a time. The output is the same bytes (the tests hold the two to that);
   * the single tree is slower, and its memory grows with the whole fleet.
   * @default false
   */
  readonly singleTree?: boolean;
}

/**
 * Where `model-serving model package` wrote its Jobs before they moved beside the fleet file
 * (`packaging/`), out of the synthesized tree that each synth replaces.
 */
const LEGACY_PACKAGING_FOLDER = 'packaging';

/** What {@link synthesizeFleet} wrote. */
export interface SynthesizeFleetResult {
  readonly environments: readonly string[];
  /** Manifest files written, kustomization.yaml files not counted. */
  readonly manifests: number;
}

/**
 * Synthesizes every environment of the fleet into `outdir`, atomically.
 *
 * The whole tree is built in a sibling staging folder and swapped in only when complete, so a
 * failure or a kill at any point leaves the previous `outdir` as it was. Each environment is
 * built in a cdk8s App of its own, written, and released before the next, so memory stays that
 * of one environment however many there are.
 */
export function synthesizeFleet(options: SynthesizeFleetOptions): SynthesizeFleetResult {
  const outdir = path.resolve(options.outdir);
  recoverInterruptedSwap(outdir);
  if (fs.existsSync(path.join(outdir, LEGACY_PACKAGING_FOLDER))) {
    throw new OutputFolderError(`${options.outdir}/${LEGACY_PACKAGING_FOLDER}/ holds packaging Jobs, which a synth would delete with the rest of ${options.outdir}/; they live beside the fleet file now: git mv ${options.outdir}/${LEGACY_PACKAGING_FOLDER} ${LEGACY_PACKAGING_FOLDER}`);
  }
  const staging = stagingFolder(outdir);
  fs.rmSync(staging, { recursive: true, force: true });
  try {
    const environments = Object.keys(options.fleet.environments).sort();
    const charts = fleetCharts(options, environments);
    // As cdk8s's App reads it: the cdk8s CLI sets it when a validation plugin needs construct paths.
    const recordConstructMetadata = process.env.CDK8S_RECORD_CONSTRUCT_METADATA === 'true';
    // One folder per chart, one file per object: a PR diff shows each object on its own.
    const newApp = () => new App({ outdir: staging, yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE, recordConstructMetadata });
    const folders: string[] = [];
    if (options.singleTree) {
      const app = newApp();
      for (const chart of charts) folders.push(chart.define(app));
      app.synth();
    } else {
      // Every App is validated before anything of it is written, and a failure reports the
      // errors of every environment at once, as one App's synth would.
      const errors: string[] = [];
      const objects: WrittenObjects = {};
      // A large output is written on another thread while the next objects are synthesized.
      const writer = options.fleet.models.length * environments.length >= BACKGROUND_WRITES_FROM ? new BackgroundWriter() : undefined;
      const synthesizeChart = (chart: FleetChart) => {
        const app = newApp();
        folders.push(chart.define(app));
        errors.push(...validationErrors(app));
        if (errors.length > 0) return;
        const written = writeChartFolders(app, writer);
        // Kept only for the construct metadata file: memory stays that of one environment.
        if (recordConstructMetadata) Object.assign(objects, written);
      };
      try {
        for (const chart of charts) {
          synthesizeChart(chart);
          // The chart's App is unreachable now.
          releaseMemory();
        }
      } catch (error) {
        writer?.close();
        throw error;
      }
      writer?.finish();
      if (errors.length > 0) throw validationFailure(errors);
      if (recordConstructMetadata) writeConstructMetadata(staging, objects);
    }
    let manifests = 0;
    for (const folder of folders) {
      manifests += writeKustomization(path.join(staging, folder));
    }
    swapInto(staging, outdir);
    return { environments, manifests };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * From this many models × environments (about 20 files each) on, files are written on a worker
 * thread (BackgroundWriter); below, starting the worker would cost more than it saves.
 */
const BACKGROUND_WRITES_FROM = 16;

/** One chart of the output: `define` adds it to an App and returns its folder's name. */
interface FleetChart {
  define(app: App): string;
}

/**
 * The fleet's charts in output order: one per environment, then the cluster-wide ones. Lazy:
 * the cluster-wide charts depend on what the environments' charts found, so each is defined
 * only after every chart before it.
 */
function* fleetCharts(options: SynthesizeFleetOptions, environments: readonly string[]): Generator<FleetChart> {
  const releases = deployedReleases(options.fleet, options.registry);
  const modelStore = modelStorePrefix(modelArchives(options.fleet, options.registry));
  const usesRollouts = new Map<string, boolean>();
  let usesGatewayApiPlugin = false;
  for (const environment of environments) {
    yield {
      define: (app) => {
        const chart = new EnvironmentChart(app, environment, { fleet: options.fleet, environment, releases: releases[environment], modelStore });
        usesRollouts.set(environment, chart.usesRollouts);
        usesGatewayApiPlugin ||= chart.usesGatewayApiPlugin;
        return environment;
      },
    };
  }
  const chartLabels = { [LABEL_PART_OF]: options.fleet.name, [LABEL_MANAGED_BY]: MANAGED_BY };
  // The plugin registration replaces Argo Rollouts' whole ConfigMap, which a Helm install
  // owns: written only when the fleet file asks for it (argoRollouts.pluginConfigMap).
  const argoRollouts = options.fleet.argoRollouts;
  if (argoRollouts?.pluginConfigMap && usesGatewayApiPlugin) {
    yield {
      define: (app) => {
        const chart = new Chart(app, ARGO_ROLLOUTS_FOLDER, { disableResourceNameHashes: true, labels: chartLabels });
        new GatewayApiPluginConfig(chart, 'GatewayApiPlugin', { namespace: argoRollouts.namespace });
        return ARGO_ROLLOUTS_FOLDER;
      },
    };
  }
  const argocd = options.fleet.argocd;
  if (argocd) {
    yield {
      define: (app) => {
        const chart = new Chart(app, ARGOCD_FOLDER, { disableResourceNameHashes: true, labels: chartLabels });
        for (const environment of environments) {
          const env = options.fleet.environments[environment];
          new ArgoCdApplication(chart, environment, {
            name: applicationName(options.fleet.name, environment),
            repoURL: argocd.repoURL,
            targetRevision: argocd.targetRevision,
            path: `${argocd.path}/${environment}`,
            project: argocd.project,
            namespace: argocd.namespace,
            destinationServer: argocd.destinationServer,
            destinationNamespace: env.namespace,
            automatedSync: argocd.automatedSync.includes(environment),
            ignoreRolloutManagedFields: usesRollouts.get(environment) as boolean,
          });
        }
        return ARGOCD_FOLDER;
      },
    };
  }
}

/** Writes `kustomization.yaml` listing every manifest of an environment folder; returns their count. */
function writeKustomization(dir: string): number {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  // Namespaces first, so a reader (and `kubectl apply -f`) meets them before their contents.
  const ordered = [...files.filter((f) => f.startsWith('Namespace.')), ...files.filter((f) => !f.startsWith('Namespace.'))];
  fs.writeFileSync(path.join(dir, 'kustomization.yaml'), kustomizationText('# Generated by model-serving; do not edit. Regenerate with: npm run synth\n', ordered));
  return files.length;
}
