import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { FleetConfig } from '../../lib/fleet';
import { fetchArchiveCommand, renderLocalCompose } from '../../lib/compose';
import { SERVING_IMAGES_DIR, unpinnedImageProblem } from '../../lib/image';
import { toResourceName } from '../../lib/core';
import { CliError } from '../cli-error';
import { openRepository, registryOption } from '../options';

interface ComposeOptions {
  readonly environment?: string;
  readonly file: string;
  readonly gpu: boolean;
  readonly model?: string;
  readonly image?: string;
}

/**
 * `model-serving compose`: a docker-compose.yml that runs the fleet's TorchServe models locally
 * with the cluster's config.properties, so `docker compose up` then `curl localhost:8080/ping`
 * behaves as in the cluster.
 */
export function registerCompose(program: Command): void {
  program
    .command('compose')
    .description('write a docker-compose.yml that runs the fleet\'s TorchServe models locally, with the same config.properties')
    .option('-e, --environment <env>', 'the environment to mirror (resources, GPUs, gRPC) (default: the first staging environment)')
    .option('-f, --file <file>', 'the compose file to write; config files go to compose/ beside it', 'docker-compose.yml')
    .option('--gpu', 'reserve the environment\'s GPUs through the NVIDIA container runtime', false)
    .option('-m, --model <name>', 'only this model (default: every model)')
    .option('--image <ref>', 'another TorchServe image, such as a CPU build; models with a serving image build it FROM this one (default: the fleet\'s image)')
    .addOption(registryOption())
    .action((options: ComposeOptions, command: Command) => {
      const repository = openRepository(command);
      const source = repository.loadFleet();
      const fleet = source.config;
      const config = repository.display(repository.paths.fleetFile);
      const environment = options.environment ?? defaultEnvironment(fleet);
      const env = fleet.environments[environment];
      if (env === undefined) {
        throw new CliError(`--environment "${environment}" is not an environment of ${config}; it defines: ${Object.keys(fleet.environments).join(', ')}`);
      }
      if (options.model !== undefined && !fleet.models.some((m) => m.name === options.model)) {
        throw new CliError(`--model "${options.model}" is not a model of ${config}; it defines: ${fleet.models.map((m) => m.name).join(', ')}`);
      }
      if (options.gpu && env.resources.gpu === 0) {
        throw new CliError(`environment "${environment}" runs on CPU (resources.gpu: 0); drop --gpu or pick an environment with GPUs`);
      }
      if (options.image !== undefined && unpinnedImageProblem(options.image) !== undefined) {
        throw new CliError(`--image "${options.image}" must be repository:tag with a pinned tag, such as pytorch/torchserve:0.12.0-cpu, or repository@sha256:<digest>`);
      }
      // The versions the environment deploys, as synth decides them.
      const composeDir = path.dirname(path.resolve(options.file));
      const compose = renderLocalCompose({
        buildContext: path.relative(composeDir, path.resolve(path.dirname(repository.paths.fleetFile))) || '.',
        fleet,
        environment,
        releases: repository.releases(source, repository.loadRegistry())[environment],
        gpu: options.gpu,
        model: options.model,
        image: options.image,
        configFile: path.basename(config),
      });

      const output = path.resolve(options.file);
      const dir = path.dirname(output);
      for (const file of compose.files) {
        const target = path.join(dir, file.path);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, file.content);
      }
      // Created here, so Docker does not create the bind-mount source itself, owned by root.
      fs.mkdirSync(path.join(dir, compose.modelStoreDir), { recursive: true });
      fs.writeFileSync(output, compose.composeYaml);

      const relative = (p: string) => path.relative(process.cwd(), p) || '.';
      const lines = [
        `model-serving: wrote ${relative(output)} and ${compose.files.map((f) => relative(path.join(dir, f.path))).join(', ')} (environment ${environment}${options.gpu ? ', with GPUs' : ''})`,
        `Put the model archives into ${relative(path.join(dir, compose.modelStoreDir))}/:`,
        ...compose.services.map((s) => `  ${fetchArchiveCommand(s.archive, env.namespace, toResourceName(s.modelName), relative(path.join(dir, compose.modelStoreDir)))}`),
        ...Object.keys(fleet.servingImages ?? {}).filter((name) => !fs.existsSync(path.join(path.dirname(config), SERVING_IMAGES_DIR, name, 'Dockerfile')))
          .map((name) => `Write the serving image's Dockerfile first (${SERVING_IMAGES_DIR}/${name}/Dockerfile): model-serving image`),
        'Then:',
        `  docker compose -f ${relative(output)} up`,
        ...compose.services.map((s) => `  curl localhost:${s.ports.inference}/ping    # ${s.modelName}`),
      ];
      console.error(lines.join('\n'));
    });
}

/** The first environment whose stage is staging, else the first environment. */
function defaultEnvironment(fleet: FleetConfig): string {
  const entries = Object.entries(fleet.environments);
  return (entries.find(([, env]) => env.stage === 'staging') ?? entries[0])[0];
}
