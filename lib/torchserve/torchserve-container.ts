import type { Duration } from 'cdk8s';
import { TorchServePorts } from './torchserve-config';

// What the TorchServe container is, however it runs: the pods of TorchServeService render from
// these, and so does anything else that runs the same image (the local compose file), so the two
// cannot drift apart. Facts of the TorchServe image (pytorch/serve docker/Dockerfile, v0.12.0):
// `useradd -m model-server` (uid 1000), `WORKDIR /home/model-server`.

const HOME = '/home/model-server';
const CONFIG_DIR = `${HOME}/config`;
const MODEL_STORE = `${HOME}/model-store`;

/** Where things are in the TorchServe container, and how it starts. */
export const TORCHSERVE_CONTAINER = {
  /** The container's name in the pod, which `kubectl cp -c` and `kubectl logs -c` name. */
  name: 'torchserve',
  /** The image's model-server user; its uid is also its gid. */
  uid: 1000,
  home: HOME,
  /** The folder config.properties is mounted into (read-only). */
  configDir: CONFIG_DIR,
  configFile: `${CONFIG_DIR}/config.properties`,
  /** The folder TorchServe loads the model archives from (read-only). */
  modelStore: MODEL_STORE,
  tmpDir: `${HOME}/tmp`,
  logDir: `${HOME}/logs`,
  cacheDir: `${HOME}/.cache`,
  /** The size of /dev/shm: PyTorch workers share tensors through it, and runtimes default to 64Mi. */
  sharedMemory: '1Gi',
  // Bypass the image entrypoint: it backgrounds TorchServe and then `tail`s, so a crashed server
  // would leave a live container. --ncs: no config snapshots on a read-only disk. Token auth is
  // switched off in config.properties, whose key every version reads; the CLI flag was renamed
  // between releases.
  command: ['torchserve'],
  args: ['--start', '--foreground', '--ncs', '--ts-config', `${CONFIG_DIR}/config.properties`, '--model-store', MODEL_STORE],
} as const;

/** What the container's own environment variables depend on. */
export interface TorchServeEnvOptions {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly gpuMemoryFraction: number;
  /** The package index of `install_py_dep_per_model`. @default - requirements are not installed at load */
  readonly pythonPackageIndex?: string;
}

/** The environment variables the TorchServe container gets, in order; a user's own come after. */
export function torchServeEnv(options: TorchServeEnvOptions): { readonly name: string; readonly value: string }[] {
  return [
    { name: 'TEMP', value: TORCHSERVE_CONTAINER.tmpDir },
    { name: 'LOG_LOCATION', value: TORCHSERVE_CONTAINER.logDir },
    { name: 'METRICS_LOCATION', value: TORCHSERVE_CONTAINER.logDir },
    { name: 'MODEL_NAME', value: options.modelName },
    { name: 'MODEL_VERSION', value: options.modelVersion },
    { name: 'GPU_MEMORY_FRACTION', value: String(options.gpuMemoryFraction) },
    // pip, run by TorchServe at model load: no cache on the size-limited emptyDir, no version
    // check against pypi.org, which the network policy does not open.
    ...(options.pythonPackageIndex !== undefined
      ? [{ name: 'PIP_INDEX_URL', value: options.pythonPackageIndex }, { name: 'PIP_NO_CACHE_DIR', value: '1' }, { name: 'PIP_DISABLE_PIP_VERSION_CHECK', value: '1' }]
      : []),
  ];
}

/** Every name {@link torchServeEnv} may set; a user's own variables must not reuse them. */
export const TORCHSERVE_ENV_NAMES: readonly string[] = torchServeEnv({ modelName: '', modelVersion: '', gpuMemoryFraction: 0, pythonPackageIndex: '' }).map((e) => e.name);

/** A probe's timing, as Kubernetes counts it. */
export interface ProbeTiming {
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
}

/** What the probes depend on. */
export interface TorchServeProbeOptions {
  readonly modelName: string;
  readonly modelVersion: string;
  /** Workers that must be READY for the model to take traffic. */
  readonly minWorkers: number;
  /** TorchServe's model load timeout (`default_startup_timeout`). */
  readonly startupTimeout: Duration;
}

/** The TorchServe container's probes, as data: the pods and the compose healthcheck render them. */
export interface TorchServeProbes {
  /** How long a container has to start; see {@link torchServeStartupSeconds}. */
  readonly startupSeconds: number;
  /** Started once `minWorkers` workers are READY; retried for {@link startupSeconds}. */
  readonly startup: ProbeTiming & { readonly command: readonly string[] };
  /** Ready while `minWorkers` workers are READY. */
  readonly readiness: ProbeTiming & { readonly command: readonly string[] };
  /**
   * Alive while the frontend answers `GET <path>` on the inference port (named `portName` in the
   * pod). It starts only after startup succeeded, so it never kills a slow load.
   */
  readonly liveness: ProbeTiming & { readonly path: string; readonly portName: string };
}

/**
 * The probes of a TorchServe container. /ping answers 200 while the model is still loading, so
 * startup and readiness ask the management API how many workers of this version are READY.
 */
export function torchServeProbes(options: TorchServeProbeOptions): TorchServeProbes {
  const readyWorkersCheck = [
    'python3', '-I', '-B', '-c',
    'import json,sys,urllib.request;'
    + `d=json.load(urllib.request.urlopen("http://127.0.0.1:${TorchServePorts.MANAGEMENT}/models/${options.modelName}/${encodeURIComponent(options.modelVersion)}",timeout=4));`
    + `sys.exit(0 if sum(w["status"]=="READY" for w in d[0]["workers"])>=${options.minWorkers} else 1)`,
  ];
  const startupSeconds = torchServeStartupSeconds(options.startupTimeout);
  return {
    startupSeconds,
    startup: { command: readyWorkersCheck, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: Math.ceil(startupSeconds / 10) },
    readiness: { command: readyWorkersCheck, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    liveness: { path: '/ping', portName: 'http', periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
  };
}

/**
 * How long a TorchServe container has to start when the model may take `startupTimeout` to load:
 * the JVM, the worker processes and the model load all happen inside this budget.
 */
export function torchServeStartupSeconds(startupTimeout: Duration): number {
  return startupTimeout.toSeconds() + 60;
}

/**
 * How long TorchServe may take to stop once it got SIGTERM: its longest request, and 15 seconds to
 * shut down. A pod waits the drain delay before that; a local container has nothing to drain.
 */
export function torchServeStopSeconds(responseTimeout: Duration): number {
  return responseTimeout.toSeconds() + 15;
}
