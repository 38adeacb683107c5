import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { type FleetConfig, modelReleaseType } from '../../lib/fleet';
import { type YamlEdit, editYamlText } from '../../lib/repository';
import { modelVersionProblem } from '../../lib/torchserve';
import { CliError, refusing } from '../cli-error';
import { openRepository, outputOption, registryOption } from '../options';
import { printSummary, selectModel } from '../summary';

const STRATEGIES = ['rolling', 'canary', 'blue-green'] as const;

interface DeployOptions {
  readonly model?: string;
  readonly apply?: boolean;
}

/**
 * `model-serving deploy <environment> <version> <rolling|canary|blue-green>`, the guide's
 * deploy.sh: checks the version was promoted to the environment's stage, pins it and the
 * strategy for one model in the fleet file (changing only those lines), synthesizes, prints
 * everything that changes, and with --apply applies it. Any refusal happens before a file is written.
 */
export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description('pin a promoted model version and a release strategy for one model of an environment, synthesize, and show everything that changes')
    .argument('<environment>', 'an environment of the fleet file')
    .argument('<version>', 'a registered version, promoted to the environment\'s stage')
    .argument('<strategy>', `one of: ${STRATEGIES.join(', ')}`)
    .option('--model <name>', 'the model to deploy (needed when the fleet has several); other models keep their version and strategy')
    .addOption(registryOption())
    .addOption(outputOption())
    .option('--apply', 'then run kubectl apply --server-side -k <output>/<environment>')
    .action((environment: string, version: string, strategy: string, options: DeployOptions, command: Command) => {
      const repository = openRepository(command);
      const fleet = repository.loadFleet();
      const model = checkArguments(fleet.config, environment, version, strategy, options.model);
      repository.requireRegistry();

      const env = fleet.config.environments[environment];
      const edits: YamlEdit[] = [{ path: ['environments', environment, 'versions', model], value: version }];
      // A strategy of this model's own, unless it is the environment's default and none was set.
      if (env.strategy.models?.[model] !== undefined || strategy !== env.strategy.type) {
        edits.push({ path: ['environments', environment, 'strategy', 'models', model], value: strategy });
      }
      const plan = refusing(() => repository.plan({ fleetText: editYamlText(fleet.text, edits) }), 'Nothing was changed.');
      const previous = modelReleaseType(env, model);
      plan.apply();
      printSummary(repository, plan, {
        headline: `Deployed ${model} ${version} to ${environment} (stage ${env.stage}) with the ${strategy} strategy${previous !== strategy ? ` (was ${previous})` : ''}.`,
        head: `${model} ${version} on ${environment}, ${strategy}`,
      });

      if (options.apply) {
        const target = path.join(repository.paths.outdir, environment);
        console.log(`kubectl apply --server-side -k ${repository.display(target)}`);
        const applied = spawnSync('kubectl', ['apply', '--server-side', '-k', target], { stdio: 'inherit' });
        if (applied.error) throw new CliError(`kubectl could not run: ${applied.error.message}`);
        if (applied.status !== 0) throw new CliError(`kubectl apply failed (exit ${applied.status}); the files stay updated, fix the cluster side and re-run "kubectl apply --server-side -k ${repository.display(target)}"`, applied.status ?? 1);
      }
    });
}

/** The model a deploy is about, after checking every argument; a refusal names what to type instead. */
function checkArguments(fleet: FleetConfig, environment: string, version: string, strategy: string, requested?: string): string {
  if (!fleet.environments[environment]) throw new CliError(`<environment> "${environment}" is not an environment of the fleet; it defines: ${Object.keys(fleet.environments).join(', ')}. Nothing was changed.`);
  if (!STRATEGIES.includes(strategy as typeof STRATEGIES[number])) throw new CliError(`unknown strategy "${strategy}"; use one of: ${STRATEGIES.join(', ')}. Nothing was changed.`);
  const problem = modelVersionProblem(version);
  if (problem) throw new CliError(`<version> "${version}": ${problem}. Nothing was changed.`);
  return selectModel(fleet, requested);
}
