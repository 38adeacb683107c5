import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readManifestDocuments } from '../private/yaml-source';
import { type KubeObject, type PolicyViolation, checkPolicies } from '../policy';
import { type ServingImageFilesPlan, planServingImageFiles } from '../image';
import { synthesizeFleet } from '../output';
import { type ManifestIssue, validateDirectory } from '../validation';
import type { ServingRepository } from './serving-repository';

/** The folder itself and its direct subfolders that hold a kustomization.yaml, sorted. */
export function kustomizationFolders(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const candidates = [
    dir,
    ...fs.readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.join(dir, entry.name))
      .sort(),
  ];
  return candidates.filter((folder) => fs.existsSync(path.join(folder, 'kustomization.yaml')));
}

/** The manifest files of one folder (kustomization files excluded), sorted. */
export function manifestFiles(folder: string): string[] {
  return fs.readdirSync(folder)
    .filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml' && name !== 'kustomization.yml')
    .sort()
    .map((name) => path.join(folder, name));
}

/** A policy violation and the folder it was found in. */
export interface FolderViolation extends PolicyViolation {
  readonly folder: string;
}

/** Runs the policy suite over each Kustomize folder of `dir` (one environment at a time). */
export function checkFolderPolicies(dir: string, productionNamespaces: readonly string[]): FolderViolation[] {
  return kustomizationFolders(dir).flatMap((folder) => {
    const objects = manifestFiles(folder)
      .flatMap((file) => readManifestDocuments(fs.readFileSync(file, 'utf-8')) as KubeObject[])
      .filter((o) => o?.kind);
    return checkPolicies(objects, { productionNamespaces }).map((v) => ({ ...v, folder }));
  });
}

/** What {@link buildKustomizations} found. */
export interface KustomizeResult {
  /** Folders that built. */
  readonly built: readonly string[];
  /** Folders that did not, with kubectl's message. */
  readonly failed: readonly { readonly folder: string; readonly message: string }[];
  /** Why nothing was built, when kubectl is not installed. */
  readonly skipped?: string;
}

/** `kubectl kustomize` of every Kustomize folder of `dir`, as `kubectl apply -k` and Argo CD would build it. */
export function buildKustomizations(dir: string, kubectl = 'kubectl'): KustomizeResult {
  const built: string[] = [];
  const failed: { folder: string; message: string }[] = [];
  for (const folder of kustomizationFolders(dir)) {
    const result = spawnSync(kubectl, ['kustomize', folder], { encoding: 'utf-8', maxBuffer: 256 * 1024 * 1024 });
    if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { built, failed, skipped: 'kubectl is not on PATH' };
    }
    if (result.error || result.status !== 0) failed.push({ folder, message: (result.error?.message ?? result.stderr).trim().split('\n')[0] });
    else built.push(folder);
  }
  return { built, failed };
}

/** Everything {@link checkOutputFolder} found wrong with a folder of manifests. */
export interface OutputFolderReport {
  readonly objects: number;
  readonly files: number;
  readonly schemaIssues: readonly ManifestIssue[];
  readonly violations: readonly FolderViolation[];
  readonly kustomize: KustomizeResult;
}

/**
 * The checks the API server and the cluster's admission would make, done offline: every object
 * against its strict schema, the policy suite per folder, and a Kustomize build per folder.
 */
export function checkOutputFolder(dir: string, options: { productionNamespaces?: readonly string[]; kubectl?: string } = {}): OutputFolderReport {
  const schemas = validateDirectory(dir);
  return {
    objects: schemas.objects,
    files: schemas.files,
    schemaIssues: schemas.issues,
    violations: checkFolderPolicies(dir, options.productionNamespaces ?? []),
    kustomize: buildKustomizations(dir, options.kubectl),
  };
}

/** How two folders differ, file by file. */
export interface TreeDifference {
  readonly missing: readonly string[];
  readonly extra: readonly string[];
  readonly changed: readonly string[];
}

/**
 * Compares the files of `expected` with those of `actual`, byte for byte; paths are relative.
 * Folders named in `ignore` (first level) are left out on both sides.
 */
export function compareTrees(expected: string, actual: string, ignore: readonly string[] = []): TreeDifference {
  const a = listFiles(expected, ignore);
  const b = listFiles(actual, ignore);
  const missing = [...a.keys()].filter((f) => !b.has(f));
  const extra = [...b.keys()].filter((f) => !a.has(f));
  const changed = [...a.keys()].filter((f) => b.has(f) && !fs.readFileSync(a.get(f) as string).equals(fs.readFileSync(b.get(f) as string)));
  return { missing, extra, changed };
}

function listFiles(dir: string, ignore: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync(dir)) return out;
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (!rel && ignore.includes(entry.name)) continue;
      if (entry.isDirectory()) walk(child);
      else out.set(child, path.join(dir, child));
    }
  };
  walk('');
  return new Map([...out].sort(([x], [y]) => x.localeCompare(y)));
}

const EMPTY_REPORT: OutputFolderReport = { objects: 0, files: 0, schemaIssues: [], violations: [], kustomize: { built: [], failed: [] } };

/** Everything `check` found, grouped by what to do about it. */
export interface RepositoryCheck {
  /** Whether there is a model registry. */
  readonly registry: boolean;
  readonly environments: readonly string[];
  readonly models: readonly string[];
  /** The output folder against a fresh synthesis. */
  readonly freshness: TreeDifference;
  /** The checks of the output folder; nothing when it does not exist (freshness says so). */
  readonly output: OutputFolderReport;
  /** Packaging Job folders, checked the same way; undefined when there are none. */
  readonly packaging?: OutputFolderReport;
  /** The serving images' files (`model-serving image`) against what the fleet defines. */
  readonly images: ServingImageFilesPlan;
}

/**
 * `model-serving check`: what a CI run of the users' own repository must prove: the fleet file and the registry are
 * valid together, the committed output is exactly what they synthesize, and every object
 * passes the strict schemas, the policy suite and a Kustomize build; packaging Jobs too.
 */
export function checkRepository(repository: ServingRepository, options: { kubectl?: string } = {}): RepositoryCheck {
  const fleet = repository.loadFleet();
  const registry = repository.loadRegistry();
  repository.releases(fleet, registry);
  const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'model-serving-check-'));
  try {
    const outdir = path.join(fresh, 'out');
    synthesizeFleet({ fleet: fleet.config, registry: registry?.registry, outdir });
    const productionNamespaces = Object.values(fleet.config.environments).filter((e) => e.stage === 'production').map((e) => e.namespace);
    const hasPackaging = fs.existsSync(repository.paths.packagingDir) && fs.readdirSync(repository.paths.packagingDir).length > 0;
    return {
      registry: registry !== undefined,
      environments: Object.keys(fleet.config.environments).sort(),
      models: fleet.config.models.map((m) => m.name),
      freshness: compareTrees(outdir, repository.paths.outdir),
      output: fs.existsSync(repository.paths.outdir) ? checkOutputFolder(repository.paths.outdir, { productionNamespaces, kubectl: options.kubectl }) : EMPTY_REPORT,
      packaging: hasPackaging ? checkOutputFolder(repository.paths.packagingDir, { kubectl: options.kubectl }) : undefined,
      images: planServingImageFiles(fleet.config, repository.paths.fleetFile),
    };
  } finally {
    fs.rmSync(fresh, { recursive: true, force: true });
  }
}
