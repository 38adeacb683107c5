import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type FleetSource, loadFleetSource, parseFleetSource } from '../fleet';
import { type SynthesizeFleetResult, recoverInterruptedSwap, synthesizeFleet } from '../output';
import {
  type DeployedReleases, type ModelRegistry, type RegistryFile, RegistryError, readRegistryFile, resolveReleases, writeFileAtomic, writeRegistryFile,
} from '../registry';
import { type ManifestDiff, diffManifests, readManifestDirectory } from '../review';
import { type RepositoryPathOptions, type RepositoryPaths, resolveRepositoryPaths } from './repository-paths';


/** A change to the reviewed files, checked and previewed, not yet written. */
export interface PlannedChange {
  /** What the output folder would look like afterwards, against what it holds now, every folder. */
  readonly diff: ManifestDiff;
  /** Whether the fleet file's text changes. */
  readonly fleetChanged: boolean;
  /** Whether the registry changes. */
  readonly registryChanged: boolean;
  /** Writes the registry, the fleet file and the output folder, each atomically, in that order. */
  apply(): SynthesizeFleetResult;
}

/** What a change replaces; unchanged parts are read from disk. */
export interface RepositoryChange {
  /** The fleet file's new text. @default - as it is */
  readonly fleetText?: string;
  /** The registry's new contents; `null` previews the fleet without a registry (nothing is written then). @default - as it is */
  readonly registry?: ModelRegistry | null;
}


/**
 * The serving repository a platform team works in: the fleet file, the model registry beside
 * it, the committed output folder and the packaging Jobs. Every command goes through it, so they
 * all find the same files, refuse the same mistakes with the same located messages, and never
 * leave the output folder out of date with the files that decide it.
 */
export class ServingRepository {
  /** The repository as the options and the environment describe it (see {@link resolveRepositoryPaths}). */
  public static open(options: RepositoryPathOptions = {}, env: NodeJS.ProcessEnv = process.env): ServingRepository {
    return new ServingRepository(resolveRepositoryPaths(options, env));
  }

  private constructor(public readonly paths: RepositoryPaths) {}

  /** A path as a message shows it: relative to the working folder when it is below it. */
  public display(file: string): string {
    const relative = path.relative(process.cwd(), path.resolve(file));
    return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
  }

  /** The fleet file, validated. Throws `FleetConfigError`. */
  public loadFleet(): FleetSource {
    return loadFleetSource(this.paths.fleetFile);
  }

  /**
   * The registry, or `undefined` when there is none beside the fleet file. A registry named with
   * `--registry` or `$MODEL_REGISTRY` must exist. Throws `RegistryError`.
   */
  public loadRegistry(): RegistryFile | undefined {
    const exists = fs.existsSync(this.paths.registryFile);
    if (!exists && this.paths.registryNamed) {
      throw RegistryError.invalidFile(this.display(this.paths.registryFile), [{ path: '', message: 'file not found; pass --registry <file> or set MODEL_REGISTRY to an existing registry, or create one with: model-serving model init' }]);
    }
    return exists ? readRegistryFile(this.paths.registryFile) : undefined;
  }

  /** The registry, which must exist: commands that change it never create one on the side. */
  public requireRegistry(): RegistryFile {
    // The registry is found beside the fleet file: without one, say that first.
    if (!this.paths.registryNamed && !fs.existsSync(this.paths.fleetFile)) this.loadFleet();
    const registry = this.loadRegistry();
    if (registry === undefined) {
      throw new RegistryError(`there is no model registry at ${this.display(this.paths.registryFile)} (beside ${this.display(this.paths.fleetFile)}); create it with "model-serving model init", or name another with --registry or MODEL_REGISTRY`);
    }
    return registry;
  }

  /** Which version of each model each environment runs, with every located problem. Throws `FleetConfigError`. */
  public releases(fleet: FleetSource, registry: RegistryFile | undefined): DeployedReleases {
    return resolveReleases({
      fleet: fleet.config,
      fleetFile: this.display(fleet.file),
      locate: fleet.locate,
      registry: registry && { file: this.display(registry.file), registry: registry.registry, locate: registry.locate },
    });
  }

  /** Synthesizes the fleet into the output folder, atomically. */
  public synthesize(): SynthesizeFleetResult {
    // A run killed mid-swap is repaired first, so even a run that then fails on its input
    // leaves a usable output folder.
    recoverInterruptedSwap(this.paths.outdir);
    const fleet = this.loadFleet();
    const registry = this.loadRegistry();
    this.releases(fleet, registry);
    return synthesizeFleet({ fleet: fleet.config, registry: registry?.registry, outdir: this.paths.outdir });
  }

  /**
   * Checks a change to the fleet file or the registry completely before anything is written: the
   * new fleet text must validate, every version must resolve, the output must synthesize. The
   * result says what the output folder would gain, lose and change, in every folder, and writes
   * all of it with `apply()`.
   */
  public plan(change: RepositoryChange): PlannedChange {
    const current = this.loadFleet();
    // A change that brings a registry may create it (model init), even where one was named.
    const currentRegistry = change.registry !== undefined && !fs.existsSync(this.paths.registryFile) ? undefined : this.loadRegistry();
    const fleet = change.fleetText === undefined ? current : parseFleetSource(change.fleetText, this.display(this.paths.fleetFile));
    const registryFile: RegistryFile | undefined = change.registry === undefined
      ? currentRegistry
      : change.registry === null ? undefined : { file: this.paths.registryFile, registry: change.registry, text: currentRegistry?.text, locate: currentRegistry?.locate };
    this.releases(fleet, registryFile);

    const preview = fs.mkdtempSync(path.join(os.tmpdir(), 'model-serving-plan-'));
    let diff: ManifestDiff;
    try {
      const outdir = path.join(preview, 'out');
      synthesizeFleet({ fleet: fleet.config, registry: registryFile?.registry, outdir });
      const before = fs.existsSync(this.paths.outdir) ? readManifestDirectory(this.paths.outdir) : new Map();
      diff = diffManifests(before, readManifestDirectory(outdir));
    } finally {
      fs.rmSync(preview, { recursive: true, force: true });
    }
    const fleetChanged = change.fleetText !== undefined && change.fleetText !== current.text;
    const registryChanged = change.registry !== undefined && change.registry !== null;
    if (change.registry === null && currentRegistry !== undefined) throw new RegistryError('a preview without the registry is only for a repository that has none');
    return {
      diff,
      fleetChanged,
      registryChanged,
      apply: () => {
        if (registryChanged) {
          fs.mkdirSync(path.dirname(path.resolve(this.paths.registryFile)), { recursive: true });
          writeRegistryFile(this.paths.registryFile, change.registry as ModelRegistry, { expectedText: currentRegistry?.text ?? null });
        }
        if (fleetChanged) {
          if (fs.readFileSync(this.paths.fleetFile, 'utf-8') !== current.text) {
            throw new RegistryError(`${this.display(this.paths.fleetFile)} changed while this command ran; ${registryChanged ? `${this.display(this.paths.registryFile)} was updated, but ` : ''}nothing else was written. Run the command again`);
          }
          writeFileAtomic(this.paths.fleetFile, change.fleetText as string);
        }
        return synthesizeFleet({ fleet: fleet.config, registry: registryFile?.registry, outdir: this.paths.outdir });
      },
    };
  }
}
