import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { loadFleet, parseFleet } from '../../lib/fleet';
import { synthesizeFleet } from '../../lib/output';
import { deployedReleases, registryBesideFleet, versionProblem, writeFileAtomic } from '../../lib/registry';
import { diffManifests, readManifestDirectory, renderDiffMarkdown } from '../../lib/review';
import { CliError } from '../cli-error';
import type { GlobalOptions } from '../global-options';

const STRATEGIES = ['rolling', 'canary', 'blue-green'];

interface DeployOptions {
  readonly model?: string;
  readonly registry?: string;
  readonly output: string;
  readonly apply?: boolean;
}

/**
 * `model-serving deploy <environment> <version> <rolling|canary|blue-green>`, the guide's
 * deploy.sh: checks the version was promoted to the environment's stage, pins it and the
 * strategy in the fleet file, synthesizes, prints what changes, and with --apply applies it.
 * Any refusal happens before a file is written.
 */
export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description('pin a promoted model version and a release strategy for an environment, synthesize, and show what changes')
    .argument('<environment>', 'an environment of the fleet file')
    .argument('<version>', 'a registered version, promoted to the environment\'s stage')
    .argument('<strategy>', `one of: ${STRATEGIES.join(', ')}`)
    .option('--model <name>', 'the model to deploy (needed when the fleet has several)')
    .option('--registry <file>', 'the model registry (default: $MODEL_REGISTRY, else registry.yaml beside the fleet file)')
    .option('-o, --output <dir>', 'output folder', process.env.CDK8S_OUTDIR ?? 'dist')
    .option('--apply', 'then run kubectl apply --server-side -k <output>/<environment>')
    .action((environment: string, version: string, strategy: string, options: DeployOptions, command: Command) => {
      const { config } = command.optsWithGlobals<GlobalOptions>();
      const fleet = loadFleet(config);
      const env = fleet.environments[environment];
      if (!env) throw new CliError(`unknown environment "${environment}"; the fleet defines: ${Object.keys(fleet.environments).join(', ')}. Nothing was changed.`);
      if (!STRATEGIES.includes(strategy)) throw new CliError(`unknown strategy "${strategy}"; use one of: ${STRATEGIES.join(', ')}. Nothing was changed.`);
      const problem = versionProblem(version);
      if (problem) throw new CliError(`version "${version}" ${problem}. Nothing was changed.`);
      const models = fleet.models.map((m) => m.name);
      const model = options.model ?? (models.length === 1 ? models[0] : undefined);
      if (!model) throw new CliError(`the fleet has several models (${models.join(', ')}); choose one with --model. Nothing was changed.`);
      if (!models.includes(model)) throw new CliError(`unknown model "${model}"; the fleet defines: ${models.join(', ')}. Nothing was changed.`);
      const registry = registryBesideFleet(config, options.registry ?? process.env.MODEL_REGISTRY);
      if (!registry) throw new CliError(`deploy needs the model registry: none beside ${config} (create it with "model-serving model register"), and no --registry or MODEL_REGISTRY. Nothing was changed.`);

      // Edit the reviewed file in place, comments and all.
      const doc = parseDocument(fs.readFileSync(config, 'utf-8'));
      doc.setIn(['environments', environment, 'versions', model], version);
      if (doc.hasIn(['environments', environment, 'strategy'])) doc.setIn(['environments', environment, 'strategy', 'type'], strategy);
      else doc.setIn(['environments', environment, 'strategy'], doc.createNode({ type: strategy }));
      const text = doc.toString();
      const edited = parseFleet(text, config);
      try {
        deployedReleases(edited, registry);
      } catch (error) {
        throw new CliError(`${(error as Error).message}. Nothing was changed.`);
      }

      // Synthesize the result first: a fleet that cannot be built is refused before any write.
      const preview = fs.mkdtempSync(path.join(os.tmpdir(), 'model-serving-deploy-'));
      try {
        synthesizeFleet({ fleet: edited, outdir: path.join(preview, 'out'), registry });
        const before = fs.existsSync(options.output) ? readManifestDirectory(options.output) : new Map();
        const after = readManifestDirectory(path.join(preview, 'out'));
        const only = (set: ReadonlyMap<string, readonly unknown[]>) => new Map([...set].filter(([folder]) => folder === environment)) as typeof after;
        const diff = diffManifests(only(before), only(after));
        writeFileAtomic(config, text);
        synthesizeFleet({ fleet: edited, outdir: options.output, registry });
        console.log(`Deployed ${model} ${version} to ${environment} (stage ${env.stage}) with the ${strategy} strategy: ${config} and ${options.output}/ updated.\n`);
        console.log(renderDiffMarkdown(diff, { base: `\`${options.output}/${environment}\` before`, head: `${model} ${version}, ${strategy}` }));
      } finally {
        fs.rmSync(preview, { recursive: true, force: true });
      }

      if (options.apply) {
        const target = path.join(options.output, environment);
        console.log(`kubectl apply --server-side -k ${target}`);
        const applied = spawnSync('kubectl', ['apply', '--server-side', '-k', target], { stdio: 'inherit' });
        if (applied.error) throw new CliError(`kubectl could not run: ${applied.error.message}`);
        if (applied.status !== 0) throw new CliError(`kubectl apply failed (exit ${applied.status}); the files stay updated, fix the cluster side and re-run "kubectl apply --server-side -k ${target}"`, applied.status ?? 1);
      }
    });
}
