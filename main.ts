// The cdk8s app: reads the fleet file and writes one Kustomize folder per environment.
//
//   npm run synth [-- --config <file>]     # atomic; dist/ by default
//   npx cdk8s synth [-o DIR]               # the cdk8s CLI sets CDK8S_OUTDIR
//
// The fleet file is --config, else $SERVING_CONFIG, else serving.yaml.
import { parseArgs } from 'node:util';
import { FleetConfigError, loadFleet } from './lib/fleet';
import { recoverInterruptedSwap, synthesizeFleet } from './lib/output';
import { ValidationError } from './lib/private/validation-error';
import { RegistryError, registryBesideFleet } from './lib/registry';

const USAGE = `Usage: npm run synth -- [--config <fleet file>]    (node bin/run-ts.mjs main.ts [--config <fleet file>])

Synthesizes every environment of the fleet file into <outdir>/<environment>/.
  --config, -c <file>  the fleet file (default: $SERVING_CONFIG, else serving.yaml)
  --help, -h           show this help
The output folder is $CDK8S_OUTDIR (set by "cdk8s synth -o DIR"), else dist.
The model registry is $MODEL_REGISTRY, else registry.yaml beside the fleet file, if present.`;

function main(argv: string[]): number {
  let values: { config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const configFile = values.config ?? process.env.SERVING_CONFIG ?? 'serving.yaml';
  const outdir = process.env.CDK8S_OUTDIR ?? 'dist';
  try {
    recoverInterruptedSwap(outdir);
    const fleet = loadFleet(configFile);
    const registry = registryBesideFleet(configFile, process.env.MODEL_REGISTRY);
    const result = synthesizeFleet({ fleet, outdir, registry });
    console.error(`model-serving: ${result.manifests} manifests for ${result.environments.length} environments (${result.environments.join(', ')}) in ${outdir}/`);
    return 0;
  } catch (error) {
    if (error instanceof FleetConfigError || error instanceof ValidationError || error instanceof RegistryError) {
      console.error(`error: ${error.message}\nNothing was written; ${outdir}/ is unchanged.`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
