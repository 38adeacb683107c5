import path from 'node:path';

/** What a command was told about where the serving repository's files are. */
export interface RepositoryPathOptions {
  /** The fleet file (`--config`). @default - $SERVING_CONFIG, else serving.yaml */
  readonly config?: string;
  /** The model registry (`--registry`). @default - $MODEL_REGISTRY, else registry.yaml beside the fleet file */
  readonly registry?: string;
  /** The output folder (`--output`). @default - $CDK8S_OUTDIR, else dist beside the fleet file */
  readonly output?: string;
  /** The folder of packaging Jobs (`--packaging-dir`). @default - packaging beside the fleet file */
  readonly packagingDir?: string;
}

/** Where every file of a serving repository is. Relative paths are relative to the working folder. */
export interface RepositoryPaths {
  readonly fleetFile: string;
  readonly registryFile: string;
  /** Whether the registry was named (`--registry` or $MODEL_REGISTRY): then it must exist. */
  readonly registryNamed: boolean;
  readonly outdir: string;
  readonly packagingDir: string;
}

/**
 * The one rule every command follows. The fleet file is `--config`, else `$SERVING_CONFIG`, else
 * `serving.yaml`. The registry, the output folder and the packaging folder live beside the fleet
 * file (the root of the serving repository), so a command run from another folder with
 * `--config ../serving.yaml` finds the same files as one run beside it. `--registry` or
 * `$MODEL_REGISTRY`, and `--output` or `$CDK8S_OUTDIR` (which `cdk8s synth -o` sets), override them.
 */
export function resolveRepositoryPaths(options: RepositoryPathOptions = {}, env: NodeJS.ProcessEnv = process.env): RepositoryPaths {
  const fleetFile = options.config ?? nonEmpty(env.SERVING_CONFIG) ?? 'serving.yaml';
  const root = path.dirname(fleetFile);
  const namedRegistry = options.registry ?? nonEmpty(env.MODEL_REGISTRY);
  return {
    fleetFile,
    registryFile: namedRegistry ?? path.join(root, 'registry.yaml'),
    registryNamed: namedRegistry !== undefined,
    outdir: options.output ?? nonEmpty(env.CDK8S_OUTDIR) ?? path.join(root, 'dist'),
    packagingDir: options.packagingDir ?? path.join(root, 'packaging'),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
