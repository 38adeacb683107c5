// The model-serving CLI: bin/model-serving <command>. Each command group lives in
// cli/commands/<group>.ts and registers itself here.
import { Command, CommanderError } from 'commander';
import { CliError, isUserError } from './cli-error';
import { registerCheck } from './commands/check';
import { registerCompose } from './commands/compose';
import { registerDiff } from './commands/diff';
import { registerDeploy } from './commands/deploy';
import { registerImage } from './commands/image';
import { registerSynth } from './commands/synth';
import { registerModelCommands } from './commands/model';
import { registerRollback } from './commands/rollback';
import { registerValidate } from './commands/validate';

export function buildProgram(): Command {
  const program = new Command('model-serving')
    .description('Manage a TorchServe model fleet: synthesize, validate, release and review its Kubernetes manifests.')
    .option('-c, --config <file>', 'the fleet file (default: $SERVING_CONFIG, else serving.yaml); the registry, dist/ and packaging/ live beside it')
    .showHelpAfterError()
    // Every command's help shows --config, which every command takes.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  registerSynth(program);
  registerDeploy(program);
  registerRollback(program);
  registerModelCommands(program);
  registerCompose(program);
  registerImage(program);
  registerDiff(program);
  registerValidate(program);
  registerCheck(program);
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
    if (isUserError(error)) {
      console.error(`error: ${error.message}`);
      return error instanceof CliError ? error.exitCode : 1;
    }
    // A bug, not bad input: one line, and the trace only when asked for.
    if (process.env.MODEL_SERVING_DEBUG) console.error(error);
    else console.error(`error: an unexpected internal error: ${(error as Error)?.message ?? String(error)}\nThis is a bug in model-serving, not a problem with your files. Run again with MODEL_SERVING_DEBUG=1 for the stack trace, and report it with that output.`);
    return 70;
  }
}
