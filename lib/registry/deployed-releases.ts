import type { FleetConfig } from '../fleet';
import { type ModelRegistry, RegistryError, requireVersionForStage } from './model-registry';

/** What one environment runs of one model. */
export interface DeployedRelease {
  readonly version: string;
  /** The `.mar` archive location. */
  readonly mar: string;
}

/** Per environment, per TorchServe model name. */
export type DeployedReleases = Readonly<Record<string, Readonly<Record<string, DeployedRelease>>>>;

/**
 * Which version of each model every environment deploys, in this order:
 * 1. a pin in `environments.<env>.versions` (what `model-serving deploy` sets), which must be a
 *    registered version that was promoted to the environment's stage;
 * 2. with a registry, the version the environment's stage holds;
 * 3. without one, the fleet file's `models[].version` and `mar`.
 * Throws {@link RegistryError} naming the field when a rule is broken.
 */
export function deployedReleases(fleet: FleetConfig, registry?: ModelRegistry): DeployedReleases {
  const out: Record<string, Record<string, DeployedRelease>> = {};
  for (const [envName, env] of Object.entries(fleet.environments)) {
    const releases: Record<string, DeployedRelease> = {};
    for (const model of fleet.models) {
      const pinned = env.versions?.[model.name];
      const field = `environments.${envName}.versions.${model.name}`;
      if (pinned !== undefined) {
        if (!registry) {
          throw new RegistryError(`${field}: pins ${pinned}, which needs the model registry (registry.yaml beside the fleet file, or --registry/MODEL_REGISTRY)`);
        }
        const path = registry.models[model.name]?.versions[pinned]?.path;
        if (path === undefined) {
          throw new RegistryError(`${field}: ${model.name} ${pinned} is not registered; register it first: model-serving model register --name ${model.name} --version ${pinned} --path <.mar>`);
        }
        const promoted = registry.models[model.name].history.some((h) => h.action === 'promote' && h.version === pinned && h.stage === env.stage);
        if (!promoted) {
          throw new RegistryError(`${field}: ${model.name} ${pinned} was never promoted to ${env.stage}, the stage of environment ${envName}; promote it first: model-serving model promote --name ${model.name} --version ${pinned} --to ${env.stage} --reason "..."`);
        }
        releases[model.name] = { version: pinned, mar: path };
      } else if (registry) {
        try {
          const release = requireVersionForStage(registry, model.name, env.stage);
          releases[model.name] = { version: release.version, mar: release.path };
        } catch (error) {
          throw new RegistryError(`environments.${envName} (stage ${env.stage}): ${(error as Error).message}`);
        }
      } else {
        releases[model.name] = { version: model.version, mar: model.mar };
      }
    }
    out[envName] = releases;
  }
  return out;
}
