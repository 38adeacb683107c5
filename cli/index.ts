// The model-serving CLI: bin/model-serving <command>. Each command group lives in
// cli/commands/<group>.ts and registers itself here.
import { Command, CommanderError } from 'commander';
import { FleetConfigError } from '../lib/fleet';
import { ValidationError } from '../lib/private/validation-error';
import { RegistryError } from '../lib/registry';
import { CliError } from './cli-error';
import { registerCompose } from './commands/compose';
import { registerDiff } from './commands/diff';
import { registerDeploy } from './commands/deploy';
import { registerImage } from './commands/image';
import { registerSynth } from './commands/synth';
import { registerModelCommands } from './commands/model';
import { registerValidate } from './commands/validate';

export function buildProgram(): Command {
  const program = new Command('model-serving')
    .description('Manage a TorchServe model fleet: synthesize, validate, release and review its Kubernetes manifests.')
    .option('-c, --config <file>', 'the fleet file', process.env.SERVING_CONFIG ?? 'serving.yaml')
    .showHelpAfterError()
    .exitOverride();
  registerSynth(program);
  registerDeploy(program);
  registerModelCommands(program);
  registerCompose(program);
  registerImage(program);
  registerDiff(program);
  registerValidate(program);
  return program;
}

/** Runs the CLI; returns the exit status instead of exiting, so tests can call it in-process. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors (already printed by commander) exit 2.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError || error instanceof FleetConfigError || error instanceof ValidationError || error instanceof RegistryError) {
      console.error(`error: ${error.message}`);
      return error instanceof CliError ? error.exitCode : 1;
    }
    throw error;
  }
}
