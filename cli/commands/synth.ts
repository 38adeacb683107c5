import type { Command } from 'commander';
import { loadFleet } from '../../lib/fleet';
import { synthesizeFleet } from '../../lib/output';
import { registryBesideFleet } from '../../lib/registry';
import type { GlobalOptions } from '../global-options';

/** `model-serving synth`: the same as `npm run synth`, from the CLI. */
export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('synthesize every environment of the fleet file into the output folder, atomically')
    .option('-o, --output <dir>', 'output folder', process.env.CDK8S_OUTDIR ?? 'dist')
    .option('--registry <file>', 'the model registry (default: $MODEL_REGISTRY, else registry.yaml beside the fleet file, if present)')
    .action((options: { output: string; registry?: string }, command: Command) => {
      const { config } = command.optsWithGlobals<GlobalOptions>();
      const fleet = loadFleet(config);
      const registry = registryBesideFleet(config, options.registry ?? process.env.MODEL_REGISTRY);
      const result = synthesizeFleet({ fleet, outdir: options.output, registry });
      console.error(`model-serving: ${result.manifests} manifests for ${result.environments.length} environments (${result.environments.join(', ')}) in ${options.output}/`);
    });
}
