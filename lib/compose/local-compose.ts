import { Duration } from 'cdk8s';
import { stringify } from 'yaml';
import { type EnvironmentConfig, type FleetConfig, type ModelConfig, optionalDuration } from '../fleet';
import { BASE_IMAGE_ARG, SERVING_IMAGES_DIR, servingImageOf } from '../image';
import { LABEL_INSTANCE } from '../private/labels';
import { toResourceName } from '../private/names';
import type { DeployedRelease } from '../registry';
import { parseQuantity, toMebibytes } from '../private/quantity';
import {
  ModelArchive, TORCHSERVE_CONTAINER, TORCHSERVE_DEFAULTS, TorchServePorts, jvmHeapBytesFor, renderTorchServeConfig, torchServeEnv, torchServeProbes,
  torchServeSettings, torchServeStopSeconds,
} from '../torchserve';

/** Options of {@link renderLocalCompose}. */
export interface LocalComposeOptions {
  /** The validated fleet file. */
  readonly fleet: FleetConfig;
  /** The environment whose resources, GPU count and gRPC switch are mirrored. */
  readonly environment: string;
  /** Reserve the environment's GPUs through the NVIDIA container runtime. @default false */
  readonly gpu?: boolean;
  /** Only this model (its TorchServe name). @default - every model of the fleet */
  readonly model?: string;
  /** Another TorchServe image, e.g. a CPU build on a laptop. @default - the fleet's image */
  readonly image?: string;
  /** The fleet file's name, recorded in the header. @default 'serving.yaml' */
  readonly configFile?: string;
  /**
   * The version and archive the environment deploys, per model name, as `resolveReleases`
   * decides them (the fleet file's or the registry's).
   */
  readonly releases: Readonly<Record<string, DeployedRelease>>;
  /**
   * The fleet file's folder, relative to the compose file's: the build context of the serving
   * images (`images/<name>/Dockerfile`), which models with one build instead of pulling.
   * @default '.'
   */
  readonly buildContext?: string;
}

/** One TorchServe service of the compose file. */
export interface LocalComposeService {
  /** The compose service name: the model's Kubernetes name. */
  readonly name: string;
  /** The TorchServe model name. */
  readonly modelName: string;
  readonly archive: ModelArchive;
  /** Host ports (on 127.0.0.1) for inference, management and metrics. */
  readonly ports: { readonly inference: number; readonly management: number; readonly metrics: number };
  /** Path of its config.properties, relative to the compose file. */
  readonly configPath: string;
}

/** What {@link renderLocalCompose} produced; nothing is written yet. */
export interface LocalCompose {
  /** The docker-compose.yml text. */
  readonly composeYaml: string;
  /** Files the compose file mounts, relative to its folder: each model's config.properties. */
  readonly files: ReadonlyArray<{ readonly path: string; readonly content: string }>;
  readonly services: readonly LocalComposeService[];
  /** The archive folder, relative to the compose file; the command creates it. */
  readonly modelStoreDir: string;
}

// The container is TorchServeService's (TORCHSERVE_CONTAINER: paths, user, command, environment,
// probes); its defaults are TORCHSERVE_DEFAULTS, applied where the fleet file leaves a setting out.
const { modelStore: MODEL_STORE } = TORCHSERVE_CONTAINER;
/** Each further model's host ports are this much above the previous model's. */
const PORT_STRIDE = 10;
export const LOCAL_MODEL_STORE_DIR = 'model-store';

/**
 * Renders a docker-compose.yml that runs the fleet's TorchServe models on one machine, with the
 * same config.properties, probes-as-healthcheck, environment and limits as the cluster.
 *
 * Ports are published on 127.0.0.1 only: the management API has no authentication (the
 * gateway provides it in the cluster), so it must not be reachable from the network.
 *
 * @see https://github.com/compose-spec/compose-spec/blob/main/spec.md
 * @see https://docs.docker.com/compose/how-tos/gpu-support/
 */
export function renderLocalCompose(options: LocalComposeOptions): LocalCompose {
  const { fleet } = options;
  const env = fleet.environments[options.environment];
  if (env === undefined) {
    throw new Error(`unknown environment "${options.environment}"; the fleet defines: ${Object.keys(fleet.environments).join(', ')}`);
  }
  const deployed = fleet.models.filter((m) => options.releases[m.name] !== undefined);
  const models = options.model === undefined ? deployed : deployed.filter((m) => m.name === options.model);
  if (models.length === 0) {
    throw new Error(`unknown model "${options.model}"; the fleet defines: ${fleet.models.map((m) => m.name).join(', ')}`);
  }
  const gpu = options.gpu ?? false;
  const envGpus = env.resources.gpu ?? TORCHSERVE_DEFAULTS.gpuCount;
  if (gpu && envGpus === 0) {
    throw new Error(`environment "${options.environment}" runs on CPU (resources.gpu: 0); drop --gpu or pick an environment with GPUs`);
  }
  const gpuCount = gpu ? envGpus : 0;
  const context = options.buildContext ?? '.';
  // A model with a serving image runs it built from the same Dockerfile as in CI, so it loads the
  // same packages; --image then replaces the TorchServe image it is built from.
  const imageOf = (model: ModelConfig): Pick<ServiceInput, 'image' | 'build'> => {
    const serving = servingImageOf(fleet, model);
    if (serving.name === undefined) return { image: options.image ?? serving.ref };
    return {
      image: `${fleet.name}-${serving.name}:local`,
      build: {
        context,
        dockerfile: `${SERVING_IMAGES_DIR}/${serving.name}/Dockerfile`,
        ...(options.image !== undefined ? { args: { [BASE_IMAGE_ARG]: options.image } } : {}),
      },
    };
  };

  const services: LocalComposeService[] = [];
  const files: { path: string; content: string }[] = [];
  const composeServices: Record<string, unknown> = {};
  models.forEach((configured, index) => {
    const release = options.releases[configured.name];
    const model = { ...configured, version: release.version, mar: release.mar };
    const name = toResourceName(model.name);
    const archive = ModelArchive.fromUri(model.mar);
    const base = index * PORT_STRIDE;
    const ports = { inference: TorchServePorts.INFERENCE + base, management: TorchServePorts.MANAGEMENT + base, metrics: TorchServePorts.METRICS + base };
    const configPath = `compose/${name}/config.properties`;
    const settings = settingsOf(model, env);
    files.push({ path: configPath, content: renderConfig(model, settings, env, archive, gpuCount) });
    services.push({ name, modelName: model.name, archive, ports, configPath });
    composeServices[name] = renderService({ model, settings, env, ...imageOf(configured), gpuCount, ports, configPath, grpcBase: base });
  });

  const header = [
    `# Generated by "model-serving compose" from ${options.configFile ?? 'serving.yaml'} (environment "${options.environment}"${gpu ? ', with GPUs' : ''}).`,
    '# Do not edit; run the command again after changing the fleet file.',
    '#',
    `# 1. Put the model archives into ./${LOCAL_MODEL_STORE_DIR}/ (the command prints how to fetch them).`,
    '# 2. docker compose up',
    ...services.map((s) => `# 3. curl localhost:${s.ports.inference}/ping     # ${s.modelName}: inference ${s.ports.inference}, management ${s.ports.management}, metrics ${s.ports.metrics}`),
    '',
  ].join('\n');
  return {
    // YAML 1.1 quoting, so that no parser reads a value such as "no" or "on" as a boolean.
    composeYaml: `${header}${stringify({ services: composeServices }, { lineWidth: 0, version: '1.1' })}`,
    files,
    services,
    modelStoreDir: LOCAL_MODEL_STORE_DIR,
  };
}

/**
 * The shell commands that put a model's archive into the local model store: an S3 copy, or a
 * copy out of a running pod for an archive on a PersistentVolumeClaim.
 */
export function fetchArchiveCommand(archive: ModelArchive, namespace: string, deploymentName: string, modelStoreDir = LOCAL_MODEL_STORE_DIR): string {
  return archive.source === 's3'
    ? `aws s3 cp ${archive.uri} ${modelStoreDir}/${archive.fileName}`
    : `kubectl -n ${namespace} cp -c ${TORCHSERVE_CONTAINER.name} "$(kubectl -n ${namespace} get pod -l ${LABEL_INSTANCE}=${deploymentName} -o jsonpath='{.items[0].metadata.name}')":${MODEL_STORE}/${archive.fileName} ${modelStoreDir}/${archive.fileName}`;
}

type Settings = ReturnType<typeof torchServeSettings>;

/** A model's TorchServe settings as TorchServeService resolves them from the same fleet fields. */
function settingsOf(model: ModelConfig, env: EnvironmentConfig): Settings {
  return torchServeSettings({
    minWorkers: model.workers?.min,
    maxWorkers: model.workers?.max,
    batchSize: model.batchSize,
    maxBatchDelay: optionalDuration(model.maxBatchDelayMs, Duration.millis),
    responseTimeout: optionalDuration(model.responseTimeoutSeconds, Duration.seconds),
    startupTimeout: optionalDuration(model.startupTimeoutSeconds, Duration.seconds),
    gpuMemoryFraction: model.gpuMemoryFraction,
    enableGrpc: env.grpc,
  });
}

function renderConfig(model: ModelConfig & DeployedRelease, settings: Settings, env: EnvironmentConfig, archive: ModelArchive, gpuCount: number): string {
  const jvmHeapBytes = jvmHeapBytesFor(parseQuantity(env.resources.memory), env.resources.jvmHeap !== undefined ? parseQuantity(env.resources.jvmHeap) : undefined);
  return renderTorchServeConfig({
    model: {
      name: model.name,
      version: model.version,
      archiveFile: archive.fileName,
      minWorkers: settings.minWorkers,
      maxWorkers: settings.maxWorkers,
      batchSize: settings.batchSize,
      maxBatchDelayMs: settings.maxBatchDelay.toMilliseconds(),
      responseTimeoutSeconds: settings.responseTimeout.toSeconds(),
      startupTimeoutSeconds: settings.startupTimeout.toSeconds(),
    },
    modelStore: MODEL_STORE,
    gpuCount,
    jobQueueSize: settings.jobQueueSize,
    maxRequestBytes: settings.maxRequestBytes,
    jvmHeapMebibytes: toMebibytes(jvmHeapBytes),
    enableGrpc: settings.enableGrpc,
    installPyDepPerModel: model.installAtLoad !== undefined,
  });
}

interface ServiceInput {
  readonly model: ModelConfig & DeployedRelease;
  readonly settings: Settings;
  readonly env: EnvironmentConfig;
  readonly image: string;
  readonly build?: { readonly context: string; readonly dockerfile: string; readonly args?: Record<string, string> };
  readonly gpuCount: number;
  readonly ports: LocalComposeService['ports'];
  readonly configPath: string;
  readonly grpcBase: number;
}

function renderService(input: ServiceInput): Record<string, unknown> {
  const { model, settings, env } = input;
  // The pods' probes: Compose has one healthcheck, so it runs the readiness probe, and allows the
  // startup probe's budget before failures count.
  const probes = torchServeProbes({ modelName: model.name, modelVersion: model.version, minWorkers: settings.minWorkers, startupTimeout: settings.startupTimeout });
  const publish = (host: number, container: number) => `127.0.0.1:${host}:${container}`;
  const ports = [
    publish(input.ports.inference, TorchServePorts.INFERENCE),
    publish(input.ports.management, TorchServePorts.MANAGEMENT),
    publish(input.ports.metrics, TorchServePorts.METRICS),
    ...(env.grpc
      ? [publish(TorchServePorts.GRPC_INFERENCE + input.grpcBase, TorchServePorts.GRPC_INFERENCE), publish(TorchServePorts.GRPC_MANAGEMENT + input.grpcBase, TorchServePorts.GRPC_MANAGEMENT)]
      : []),
  ];
  const shmMebibytes = toMebibytes(parseQuantity(TORCHSERVE_CONTAINER.sharedMemory));
  const limits = {
    cpus: String(parseQuantity(env.resources.cpu)),
    // Compose byte units are binary: "16384m" is 16Gi.
    memory: `${toMebibytes(parseQuantity(env.resources.memory))}m`,
  };
  return {
    image: input.image,
    ...(input.build ? { build: input.build } : {}),
    // As in the cluster: TorchServe in the foreground, not the image entrypoint that backgrounds it.
    entrypoint: [...TORCHSERVE_CONTAINER.command],
    command: [...TORCHSERVE_CONTAINER.args],
    user: `${TORCHSERVE_CONTAINER.uid}:${TORCHSERVE_CONTAINER.uid}`,
    ports,
    environment: Object.fromEntries(torchServeEnv({
      modelName: model.name,
      modelVersion: model.version,
      gpuMemoryFraction: settings.gpuMemoryFraction,
      pythonPackageIndex: model.installAtLoad?.indexUrl,
    }).map(({ name, value }) => [name, value])),
    volumes: [
      { type: 'bind', source: `./${input.configPath}`, target: TORCHSERVE_CONTAINER.configFile, read_only: true },
      { type: 'bind', source: `./${LOCAL_MODEL_STORE_DIR}`, target: MODEL_STORE, read_only: true },
    ],
    shm_size: shmMebibytes % 1024 === 0 ? `${shmMebibytes / 1024}gb` : `${shmMebibytes}m`,
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
    healthcheck: {
      test: ['CMD', ...probes.readiness.command],
      interval: `${probes.readiness.periodSeconds}s`,
      timeout: `${probes.readiness.timeoutSeconds}s`,
      retries: probes.readiness.failureThreshold,
      start_period: `${probes.startupSeconds}s`,
    },
    // No endpoints to drain on one machine: TorchServe gets what a pod gives it after the drain delay.
    stop_grace_period: `${torchServeStopSeconds(settings.responseTimeout)}s`,
    deploy: {
      resources: {
        limits,
        ...(input.gpuCount > 0 ? { reservations: { devices: [{ driver: 'nvidia', count: input.gpuCount, capabilities: ['gpu'] }] } } : {}),
      },
    },
  };
}
