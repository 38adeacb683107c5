import { type Command, Option } from 'commander';
// Not the lib/repository index: that would load the schema validators into every command.
import { ServingRepository } from '../lib/repository/serving-repository';

// Every command names the repository's files with the same flags and finds them by the same
// rule (lib/repository/repository-paths.ts), so a command never reads one registry while
// another writes a second one somewhere else.

/** `--registry <file>`, for every command that reads or changes the model registry. */
export function registryOption(): Option {
  return new Option('--registry <file>', 'the model registry (default: $MODEL_REGISTRY, else registry.yaml beside the fleet file)');
}

/** `-o, --output <dir>`, for every command that reads or writes the synthesized output folder. */
export function outputOption(): Option {
  return new Option('-o, --output <dir>', 'the output folder (default: $CDK8S_OUTDIR, else dist beside the fleet file)');
}

/** `--packaging-dir <dir>`, for the commands that write or check packaging Jobs. */
export function packagingDirOption(): Option {
  return new Option('--packaging-dir <dir>', 'the folder of packaging Jobs (default: packaging beside the fleet file)');
}

/** The serving repository named by the command's options (and the root's --config). */
export function openRepository(command: Command): ServingRepository {
  const options = command.optsWithGlobals<{ config?: string; registry?: string; output?: string; packagingDir?: string }>();
  return ServingRepository.open({ config: options.config, registry: options.registry, output: options.output, packagingDir: options.packagingDir });
}
