import fs from 'node:fs';
import type { Command } from 'commander';
import { recoverInterruptedSwap } from '../../lib/output';
import { CliError, isUserError } from '../cli-error';
import { openRepository, outputOption, registryOption } from '../options';

/**
 * `model-serving synth`, also the cdk8s app (`main.ts`, run by `npm run synth` and `cdk8s synth`):
 * synthesizes every environment of the fleet file into the output folder, atomically.
 */
export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('synthesize every environment of the fleet file into the output folder, atomically')
    .addOption(registryOption())
    .addOption(outputOption())
    .action((_options: unknown, command: Command) => {
      const repository = openRepository(command);
      const outdir = repository.display(repository.paths.outdir);
      recoverInterruptedSwap(repository.paths.outdir);
      const existed = fs.existsSync(repository.paths.outdir);
      try {
        const result = repository.synthesize();
        console.error(`model-serving: ${result.manifests} manifests for ${result.environments.length} environments (${result.environments.join(', ')}) in ${outdir}/`);
      } catch (error) {
        if (!isUserError(error)) throw error;
        // Say what happened to the output folder: the cdk8s CLI deletes it before it runs the app.
        const note = existed
          ? `Nothing was written; ${outdir}/ is unchanged.`
          : `Nothing was written, and ${outdir}/ does not exist${process.env.CDK8S_OUTDIR ? ' ("cdk8s synth" deletes its output folder before it runs the app)' : ''}. Restore the committed output with "git checkout -- ${outdir}", or fix the problem and synthesize again (npm run synth).`;
        throw new CliError(`${(error as Error).message}\n${note}`);
      }
    });
}
