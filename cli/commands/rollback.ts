import type { Command } from 'commander';
import { type YamlEdit, editYamlText } from '../../lib/repository';
import { type ModelRegistry, RegistryAction, RegistryStage, promoteVersion, resolveActor } from '../../lib/registry';
import { modelVersionProblem } from '../../lib/torchserve';
import { CliError, refusing } from '../cli-error';
import { openRepository, outputOption, registryOption } from '../options';
import { printSummary, selectModel } from '../summary';

interface RollbackOptions {
  readonly model?: string;
  readonly to?: string;
  readonly reason: string;
}

/**
 * `model-serving rollback <environment>`: runs the version a model ran before the current one.
 * The environment's pin (if it has one) moves back, and so does its stage in the registry when
 * the stage still points at the version being rolled back, with the reason in the audit trail.
 * The strategy stays as it is, so a Rollout goes back without being replaced by a Deployment.
 */
export function registerRollback(program: Command): void {
  program
    .command('rollback')
    .description('run the previous version of a model in an environment again: moves the pin and the registry stage back, synthesizes, and shows everything that changes')
    .argument('<environment>', 'an environment of the fleet file')
    .option('--model <name>', 'the model to roll back (needed when the fleet has several)')
    .option('--to <version>', 'the version to go back to (default: the version promoted to the stage before the current one)')
    .requiredOption('--reason <text>', 'why, for the audit trail')
    .addOption(registryOption())
    .addOption(outputOption())
    .action((environment: string, options: RollbackOptions, command: Command) => {
      const repository = openRepository(command);
      const nothing = 'Nothing was changed.';
      const fleet = refusing(() => repository.loadFleet(), nothing);
      const registryFile = refusing(() => repository.requireRegistry(), nothing);
      const env = fleet.config.environments[environment];
      if (env === undefined) throw new CliError(`<environment> "${environment}" is not an environment of the fleet; it defines: ${Object.keys(fleet.config.environments).join(', ')}. ${nothing}`);
      const model = selectModel(fleet.config, options.model);
      const entry = registryFile.registry.models[model];
      if (entry === undefined) throw new CliError(`${model} is not in the model registry, so it has no versions to go back to; set its version in the fleet file instead. ${nothing}`);
      const current = refusing(() => repository.releases(fleet, registryFile), nothing)[environment][model].version;
      const toProblem = options.to === undefined ? undefined : modelVersionProblem(options.to);
      if (toProblem) throw new CliError(`--to "${options.to}": ${toProblem}. ${nothing}`);
      const target = options.to ?? previousVersion(registryFile.registry, model, env.stage, current);
      if (target === undefined) {
        throw new CliError(`no version of ${model} was promoted to ${env.stage} before ${current}, so there is nothing to go back to; name one with --to <version>. ${nothing}`);
      }
      if (target === current) throw new CliError(`${environment} runs ${model} ${current} already. ${nothing}`);
      const promotedBefore = entry.history.some((h) => h.action === RegistryAction.PROMOTE && h.stage === env.stage && h.version === target);
      if (!promotedBefore) {
        const promotions = registryFile.locate?.(['models', model, 'history']).line;
        throw new CliError(`${options.to !== undefined ? `--to "${target}": ` : ''}${model} ${target} was never promoted to ${env.stage}${promotions !== undefined ? ` (${repository.display(registryFile.file)}:${promotions}, models.${model}.history)` : ''}, so ${environment} cannot go back to it; promote it first: model-serving model promote --name ${model} --version ${target} --to ${env.stage} --reason "..." ${nothing}`);
      }

      // The stage moves back only while it still names the version being rolled back.
      let registry: ModelRegistry | undefined;
      if (entry.stages[env.stage] === current) {
        registry = refusing(() => promoteVersion(registryFile.registry, {
          model,
          version: target,
          stage: env.stage,
          reason: `rollback of ${environment} from ${current}: ${options.reason}`,
          // A version once in production was staged before, or forced then; going back repeats no check.
          force: env.stage === RegistryStage.PRODUCTION,
          actor: resolveActor(),
          time: new Date(),
        }), nothing).registry;
      }
      const edits: YamlEdit[] = env.versions?.[model] !== undefined ? [{ path: ['environments', environment, 'versions', model], value: target }] : [];
      const plan = refusing(() => repository.plan({ registry, fleetText: edits.length > 0 ? editYamlText(fleet.text, edits) : undefined }), nothing);
      plan.apply();
      printSummary(repository, plan, {
        headline: `Rolled back ${model} on ${environment} from ${current} to ${target}${registry ? ` (the registry's ${env.stage} stage is ${target} again)` : ''}. Commit the change and apply it as usual; to stop a canary or blue-green release that is still running, use "kubectl argo rollouts abort ${model.replace(/_/g, '-')} -n ${env.namespace}".`,
        head: `${model} ${target} on ${environment} (rollback from ${current})`,
      });
    });
}

/** The version promoted to `stage` last before the latest promotion of `current`, if another. */
function previousVersion(registry: ModelRegistry, model: string, stage: string, current: string): string | undefined {
  const promotions = registry.models[model].history.filter((h) => h.action === RegistryAction.PROMOTE && h.stage === stage).map((h) => h.version);
  const latest = promotions.lastIndexOf(current);
  const before = latest === -1 ? promotions : promotions.slice(0, latest);
  return [...before].reverse().find((version) => version !== current);
}
