import type { Command } from 'commander';
import { loadFleet } from '../../lib/fleet';
import { synthesizeFleet } from '../../lib/output';
import type { GlobalOptions } from '../global-options';

/** `model-serving synth`: the same as `npm run synth`, from the CLI. */
export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('synthesize every environment of the fleet file into the output folder, atomically')
    .option('-o, --output <dir>', 'output folder', process.env.CDK8S_OUTDIR ?? 'dist')
    .action((options: { output: string }, command: Command) => {
      const { config } = command.optsWithGlobals<GlobalOptions>();
      const result = synthesizeFleet({ fleet: loadFleet(config), outdir: options.output });
      console.error(`model-serving: ${result.manifests} manifests for ${result.environments.length} environments (${result.environments.join(', ')}) in ${options.output}/`);
    });
}
