import { type FleetConfig, FleetConfigError, type FleetProblem, type YamlLocator } from '../fleet';
import { formatFieldPath } from '../private/yaml-problems';
import { modelStorePrefix } from '../operations/model-store-backup';
import { type ModelRegistry, RegistryAction } from './model-registry';

/** What one environment runs of one model. */
export interface DeployedRelease {
  readonly version: string;
  /** The `.mar` archive location. */
  readonly mar: string;
}

/** Per environment, per TorchServe model name. */
export type DeployedReleases = Readonly<Record<string, Readonly<Record<string, DeployedRelease>>>>;

/** The registry as {@link resolveReleases} needs it: the value, and where it is for messages. */
export interface RegistrySource {
  readonly file: string;
  readonly registry: ModelRegistry;
  /** Lines of the registry's fields, so that a message can name both files' lines. @default - no lines */
  readonly locate?: YamlLocator;
}

/** Options of {@link resolveReleases}. */
export interface ResolveReleasesOptions {
  readonly fleet: FleetConfig;
  /** The fleet file's name, for messages. @default '<fleet>' */
  readonly fleetFile?: string;
  /** Lines of the fleet file's fields. @default - no lines */
  readonly locate?: YamlLocator;
  /** The model registry, when there is one. @default - none: the fleet file's versions apply */
  readonly registry?: RegistrySource;
}

/**
 * Which version of each model every environment deploys. A version is stated in exactly one place:
 * - a model the registry holds is "registry-managed": every environment pins its version in
 *   `environments.<env>.versions` (what `model-serving deploy` writes), which must be a version
 *   that was promoted to the environment's stage; the registry gives its archive. Its
 *   `models[].version` and `mar` must be left out, so they can never disagree with the registry.
 *   A promotion approves a version for a stage; only a deploy (a reviewed change of the fleet
 *   file) changes what runs. Without a pin the model does not run in that environment, so a new
 *   model can reach staging before production;
 * - any other model runs its `models[].version` from `models[].mar`, in every environment.
 *
 * Every broken rule is reported at once, located in the fleet file, and names the registry line
 * it disagrees with. Throws {@link FleetConfigError}.
 */
export function resolveReleases(options: ResolveReleasesOptions): DeployedReleases {
  const { fleet } = options;
  const fleetFile = options.fleetFile ?? '<fleet>';
  const registry = options.registry?.registry;
  const registryFile = options.registry?.file ?? 'the model registry';
  const at = (path: (string | number)[]) => options.registry?.locate?.(path) ?? {};
  const registryLine = (path: (string | number)[]) => {
    const where = at(path);
    return where.line === undefined ? `${registryFile} (${formatFieldPath(path)})` : `${registryFile}:${where.line} (${formatFieldPath(path)})`;
  };
  const problems: { path: (string | number)[]; message: string }[] = [];
  const out: Record<string, Record<string, DeployedRelease>> = {};

  fleet.models.forEach((model, index) => {
    const managed = registry?.models[model.name] !== undefined;
    if (managed) {
      for (const key of ['version', 'mar'] as const) {
        if (model[key] !== undefined) {
          problems.push({
            path: ['models', index, key],
            message: `${model.name} is registered in ${registryLine(['models', model.name])}, which decides its versions and archives; remove "${key}" here (environments.<env>.versions pins a version per environment)`,
          });
        }
      }
    } else if (model.version === undefined || model.mar === undefined) {
      const missing = ['version', 'mar'].filter((key) => model[key as 'version' | 'mar'] === undefined).join(' and ');
      problems.push({
        path: ['models', index],
        message: registry
          ? `${model.name} is not in ${registryFile} and has no ${missing}: register it (model-serving model register --name ${model.name} --version <semver> --path <.mar>), or set version and mar here`
          : `needs ${missing}: without a model registry the fleet file says which version runs (or create one: model-serving model init)`,
      });
    }
  });

  for (const [envName, env] of Object.entries(fleet.environments)) {
    const releases: Record<string, DeployedRelease> = {};
    const problemsBefore = problems.length;
    for (const model of fleet.models) {
      const entry = registry?.models[model.name];
      const pinned = env.versions?.[model.name];
      const pinPath = ['environments', envName, 'versions', model.name];
      if (entry === undefined) {
        if (pinned !== undefined) {
          problems.push({
            path: pinPath,
            message: registry
              ? `pins ${pinned}, but ${model.name} is not in ${registryFile}; register it first: model-serving model register --name ${model.name} --version ${pinned} --path <.mar>`
              : `pins ${pinned}, which needs the model registry (registry.yaml beside the fleet file, or --registry/MODEL_REGISTRY; create one with: model-serving model init)`,
          });
        } else if (model.version !== undefined && model.mar !== undefined) {
          releases[model.name] = { version: model.version, mar: model.mar };
        }
        continue;
      }
      if (pinned !== undefined) {
        const registered = entry.versions[pinned];
        if (registered === undefined) {
          problems.push({
            path: pinPath,
            message: `pins ${model.name} ${pinned}, which ${registryLine(['models', model.name, 'versions'])} does not register (registered: ${Object.keys(entry.versions).join(', ') || 'none'}); register it first: model-serving model register --name ${model.name} --version ${pinned} --path <.mar>`,
          });
          continue;
        }
        const promoted = entry.history.some((h) => h.action === RegistryAction.PROMOTE && h.version === pinned && h.stage === env.stage);
        if (!promoted) {
          problems.push({
            path: pinPath,
            message: `pins ${model.name} ${pinned}, which ${registryFile} never promoted to ${env.stage}, the stage of environment ${envName}; promote it first: model-serving model promote --name ${model.name} --version ${pinned} --to ${env.stage} --reason "..."`,
          });
          continue;
        }
        releases[model.name] = { version: pinned, mar: registered.path };
      }
      // Unpinned, a registry-managed model does not run here (yet): a promotion approves a
      // version, and only a deploy, a reviewed change of this file, puts it in an environment.
    }
    if (Object.keys(releases).length === 0 && problems.length === problemsBefore) {
      const model = fleet.models[0].name;
      problems.push({
        path: ['environments', envName],
        message: `runs no model: pin one with "model-serving deploy ${envName} <version> <strategy>${fleet.models.length > 1 ? ` --model ${model}` : ''}"${registry?.models[model]?.stages[env.stage] ? ` (the ${env.stage} stage holds ${model} ${registry.models[model].stages[env.stage]})` : ''}, which writes environments.${envName}.versions`,
      });
    }
    out[envName] = releases;

    if (env.backup && env.backup.source === undefined) {
      const source = modelStorePrefix(modelArchives(fleet, registry));
      if (source === undefined) {
        problems.push({ path: ['environments', envName, 'backup', 'source'], message: 'is required: the models\' archives are not all in one S3 bucket, so name the model store to copy' });
      } else if (env.backup.destination.startsWith(source) || source.startsWith(env.backup.destination)) {
        problems.push({ path: ['environments', envName, 'backup', 'destination'], message: `got "${env.backup.destination}"; must not contain or lie inside the model store ${source}; every run would copy the earlier backups again` });
      }
    }
  }

  if (problems.length > 0) {
    const located: FleetProblem[] = problems.map((p) => ({ path: formatFieldPath(p.path), ...(options.locate?.(p.path) ?? {}), message: p.message }));
    located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw new FleetConfigError(fleetFile, located);
  }
  return out;
}

/** {@link resolveReleases} for a fleet and registry without files: messages carry field paths only. */
export function deployedReleases(fleet: FleetConfig, registry?: ModelRegistry): DeployedReleases {
  return resolveReleases({ fleet, registry: registry ? { file: 'the model registry', registry } : undefined });
}

/**
 * Every archive the fleet's models may run: each registered version of a registry-managed model,
 * and the `mar` of every other one. Their common bucket is the model store a backup copies.
 */
export function modelArchives(fleet: FleetConfig, registry?: ModelRegistry): string[] {
  return fleet.models.flatMap((model) => {
    const entry = registry?.models[model.name];
    if (entry) return Object.values(entry.versions).map((v) => v.path);
    return model.mar === undefined ? [] : [model.mar];
  });
}
