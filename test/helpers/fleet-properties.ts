import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { FleetConfigError, parseFleetSource } from '../../lib/fleet';
import { synthesizeFleet } from '../../lib/output';
import { RegistryError, parseRegistrySource, resolveReleases } from '../../lib/registry';
import { ServingRepository, checkFolderPolicies } from '../../lib/repository';
import { formatIssue, validateDirectory } from '../../lib/validation';
import { isUserError } from '../../cli/cli-error';
import { DEFAULT_FLEET, REGISTRY_FLEET } from './app';
import { type GeneratedRepository, servingRepository } from './fleet-arbitraries';
import { mutate, mutations } from './yaml-mutations';

// The property every generated repository must have: its fleet file and registry are refused
// with located errors before anything is written, or they synthesize output that passes strict
// validation (schemas, CEL rules, the API server's metadata rules) and the policy suite. A
// construct error, a crash, or output that fails a check is a bug in the schema.

/** What happened to one generated repository. */
export type Outcome = { readonly accepted: true } | { readonly accepted: false; readonly reason: string };

/** Counts of a run, for the report. */
export interface PropertyStats {
  generated: number;
  accepted: number;
  refused: number;
  /** Why fleets were refused: the field (with indexes and names as "*") and the rule, most common first. */
  reasons: Map<string, number>;
}

export function newStats(): PropertyStats {
  return { generated: 0, accepted: 0, refused: 0, reasons: new Map() };
}

/** The repository's files as a user writes them. */
export function repositoryText(repository: GeneratedRepository): { fleet: string; registry?: string } {
  // Shared objects written out, not as anchors and aliases (which the loaders refuse).
  const options = { lineWidth: 0, aliasDuplicateObjects: false };
  return { fleet: stringify(repository.fleet, options), registry: repository.registry && stringify(repository.registry, options) };
}

/** Loads, checks and (when accepted) synthesizes and validates a repository; throws on a broken property. */
export function checkRepository(repository: GeneratedRepository, stats?: PropertyStats): Outcome {
  const text = repositoryText(repository);
  const outcome = loadRepository(text.fleet, text.registry);
  if (stats) {
    stats.generated += 1;
    if (outcome.accepted) stats.accepted += 1;
    else {
      stats.refused += 1;
      stats.reasons.set(outcome.reason, (stats.reasons.get(outcome.reason) ?? 0) + 1);
    }
  }
  return outcome;
}

function loadRepository(fleetText: string, registryText?: string): Outcome {
  let fleet;
  let registry;
  try {
    fleet = parseFleetSource(fleetText, 'serving.yaml');
    registry = registryText === undefined ? undefined : { file: 'registry.yaml', ...parseRegistrySource(registryText, 'registry.yaml') };
    resolveReleases({ fleet: fleet.config, fleetFile: 'serving.yaml', locate: fleet.locate, registry });
  } catch (error) {
    return refusal(error);
  }
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'property-fleet-'));
  try {
    try {
      synthesizeFleet({ fleet: fleet.config, registry: registry?.registry, outdir });
    } catch (error) {
      throw new Error(`the fleet was accepted, then synthesis failed: ${(error as Error).message}\n--- serving.yaml\n${fleetText}${registryText ? `--- registry.yaml\n${registryText}` : ''}`);
    }
    const validation = validateDirectory(outdir);
    const productionNamespaces = Object.values(fleet.config.environments).filter((e) => e.stage === 'production').map((e) => e.namespace);
    const violations = checkFolderPolicies(outdir, productionNamespaces);
    const problems = [
      ...validation.issues.map((issue) => formatIssue({ ...issue, file: issue.file && path.relative(outdir, issue.file) })),
      ...violations.map((v) => `${path.relative(outdir, v.folder)}: ${v.object}: [${v.check}] ${v.message}`),
    ];
    if (problems.length > 0) {
      throw new Error(`the fleet was accepted, but its output fails ${problems.length} check(s):\n${problems.slice(0, 10).join('\n')}\n--- serving.yaml\n${fleetText}${registryText ? `--- registry.yaml\n${registryText}` : ''}`);
    }
    return { accepted: true };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** A refusal must be a user error whose every problem names a line of the file. */
function refusal(error: unknown): Outcome {
  if (!(error instanceof FleetConfigError) && !(error instanceof RegistryError)) {
    throw new Error(`refused with ${(error as Error)?.name ?? typeof error} instead of a located user error: ${(error as Error)?.stack ?? String(error)}`);
  }
  const problems = error instanceof FleetConfigError ? error.problems : error.problems;
  if (error instanceof RegistryError && problems.length === 0) throw new Error(`a registry error without a located problem: ${error.message}`);
  const unlocated = problems.filter((p) => p.line === undefined);
  if (unlocated.length > 0) throw new Error(`refused without a line for: ${unlocated.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const first = problems[0];
  // Environments, models and versions by name are one field each.
  const field = first.path.replace(/\[\d+\]/g, '[*]').replace(/^(environments|models)\.[^.]+/, '$1.*').replace(/\.versions\.[^.]+$/, '.versions.*');
  // The rule, without the value ("got ...; ").
  const rule = first.message.replace(/^got .*?; (?=[a-z])/, '').replace(/"[^"]*"/g, '"…"').replace(/of model \S+/g, 'of model …').replace(/\d+/g, 'N');
  return { accepted: false, reason: `${field}: ${rule.slice(0, 100)}` };
}

/** Runs the property over `runs` generated repositories from `seed`; throws fast-check's report on a failure. */
export function runRepositoryProperty(options: { seed: number; runs: number }, stats = newStats()): PropertyStats {
  fc.assert(fc.property(servingRepository(), (repository) => {
    checkRepository(repository, stats);
  }), { seed: options.seed, numRuns: options.runs, endOnFailure: true });
  return stats;
}

// ---- mutated files ----

/** What a run of mutated files found. */
export interface MutationStats {
  generated: number;
  accepted: number;
  refused: number;
  /** Refusals by mutation name. */
  byMutation: Map<string, number>;
}

export function newMutationStats(): MutationStats {
  return { generated: 0, accepted: 0, refused: 0, byMutation: new Map() };
}

/** The fixture a mutation starts from: the fleet file, with or without a registry, or the registry. */
export type MutationTarget = 'fleet' | 'registry-managed fleet' | 'registry';

/**
 * Loads mutated files as every command does (ServingRepository: the fleet file, the registry
 * beside it, the releases), and synthesizes what it accepts. Anything but a user error whose
 * problems are located, or a failure after acceptance, breaks the property.
 */
export function checkMutatedFiles(files: { fleet: Buffer; registry?: Buffer }, label: string, stats?: MutationStats): Outcome {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'property-mutation-'));
  try {
    fs.writeFileSync(path.join(dir, 'serving.yaml'), files.fleet);
    if (files.registry) fs.writeFileSync(path.join(dir, 'registry.yaml'), files.registry);
    const repository = ServingRepository.open({ config: path.join(dir, 'serving.yaml') }, {});
    let outcome: Outcome;
    try {
      const fleet = repository.loadFleet();
      const registry = repository.loadRegistry();
      repository.releases(fleet, registry);
      outcome = { accepted: true };
      try {
        synthesizeFleet({ fleet: fleet.config, registry: registry?.registry, outdir: path.join(dir, 'dist') });
      } catch (error) {
        throw new Error(`${label}: the files were accepted, then synthesis failed: ${(error as Error).stack}`);
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith(`${label}: the files were accepted`)) throw error;
      if (!isUserError(error)) throw new Error(`${label}: not a user error but ${(error as Error)?.stack ?? String(error)}`);
      const problems = error instanceof FleetConfigError || error instanceof RegistryError ? error.problems : [];
      const unlocated = problems.filter((p) => p.line === undefined && p.path !== '');
      if (unlocated.length > 0) throw new Error(`${label}: refused without a line for ${unlocated.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
      outcome = { accepted: false, reason: label };
    }
    if (stats) {
      stats.generated += 1;
      if (outcome.accepted) stats.accepted += 1;
      else {
        stats.refused += 1;
        stats.byMutation.set(label, (stats.byMutation.get(label) ?? 0) + 1);
      }
    }
    return outcome;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const FIXTURE_TEXT: Record<MutationTarget, { fleet: string; registry?: string }> = {
  'fleet': { fleet: fs.readFileSync(DEFAULT_FLEET, 'utf-8') },
  'registry-managed fleet': { fleet: fs.readFileSync(REGISTRY_FLEET, 'utf-8'), registry: fs.readFileSync(path.join(path.dirname(REGISTRY_FLEET), 'registry.yaml'), 'utf-8') },
  'registry': { fleet: fs.readFileSync(REGISTRY_FLEET, 'utf-8'), registry: fs.readFileSync(path.join(path.dirname(REGISTRY_FLEET), 'registry.yaml'), 'utf-8') },
};

/** A fixture and the mutations of one of its files. */
export function mutatedFiles(): fc.Arbitrary<{ files: { fleet: Buffer; registry?: Buffer }; label: string }> {
  return fc.tuple(fc.constantFrom<MutationTarget>('fleet', 'registry-managed fleet', 'registry'), mutations()).map(([target, applied]) => {
    const base = FIXTURE_TEXT[target];
    const label = `${target}: ${applied.map((m) => m.name).join(' + ')}`;
    if (target === 'registry') return { label, files: { fleet: Buffer.from(base.fleet), registry: mutate(base.registry as string, applied) } };
    return { label, files: { fleet: mutate(base.fleet, applied), registry: base.registry === undefined ? undefined : Buffer.from(base.registry) } };
  });
}

/** Runs the mutation property over `runs` mutated repositories from `seed`. */
export function runMutationProperty(options: { seed: number; runs: number }, stats = newMutationStats()): MutationStats {
  fc.assert(fc.property(mutatedFiles(), ({ files, label }) => {
    checkMutatedFiles(files, label, stats);
  }), { seed: options.seed, numRuns: options.runs, endOnFailure: true });
  return stats;
}
