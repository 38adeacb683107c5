/**
 * Every key TorchServe 0.12 reads from config.properties (`ConfigManager.java`, plus `vmargs` and
 * `plugins_path` read by the Python launcher). A key outside this list is silently ignored by
 * TorchServe, so rendering one would be a bug that no test of TorchServe itself would catch.
 *
 * @see https://github.com/pytorch/serve/blob/v0.12.0/frontend/server/src/main/java/org/pytorch/serve/util/ConfigManager.java
 */
export const TORCHSERVE_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'inference_address', 'management_address', 'metrics_address', 'grpc_inference_address', 'grpc_management_address',
  'grpc_inference_port', 'grpc_management_port', 'grpc_inference_max_connection_age_ms', 'grpc_management_max_connection_age_ms',
  'grpc_inference_max_connection_age_grace_ms', 'grpc_management_max_connection_age_grace_ms', 'enable_grpc_ssl',
  'number_of_netty_threads', 'netty_client_threads', 'job_queue_size', 'default_workers_per_model', 'number_of_gpu',
  'model_store', 'load_models', 'models', 'model_snapshot', 'workflow_store', 'default_response_timeout',
  'default_startup_timeout', 'unregister_model_timeout', 'max_request_size', 'max_response_size', 'metrics_mode',
  'metrics_config', 'enable_metrics_api', 'model_metrics_auto_detect', 'disable_system_metrics', 'system_metrics_cmd',
  'metric_time_interval', 'disable_token_authorization', 'token_expiration_min', 'enable_model_api', 'allowed_urls',
  'use_env_allowed_urls', 'install_py_dep_per_model', 'blacklist_env_vars', 'cors_allowed_origin', 'cors_allowed_methods',
  'cors_allowed_headers', 'keystore', 'keystore_pass', 'keystore_type', 'certificate_file', 'private_key_file',
  'decode_input_request', 'limit_max_image_pixels', 'prefer_direct_buffer', 'async_logging', 'enable_envvars_config',
  'default_service_handler', 'service_envelope', 'model_server_home', 'initial_worker_port', 'initial_distribution_port',
  'use_native_io', 'io_ratio', 'ipex_enable', 'ipex_gpu_enable', 'cpu_launcher_enable', 'cpu_launcher_args',
  'ts_open_inference_protocol', 'ts_header_key_sequence_id', 'ts_header_key_sequence_start', 'ts_header_key_sequence_end',
  'cpp_log_config', 'debug', 'python', 'vmargs', 'plugins_path',
]);

/** Fixed ports, the same as the TorchServe image's EXPOSE list. */
export const TorchServePorts = {
  INFERENCE: 8080,
  MANAGEMENT: 8081,
  METRICS: 8082,
  GRPC_INFERENCE: 7070,
  GRPC_MANAGEMENT: 7071,
} as const;

/** Per-model settings, rendered into the `models` JSON. */
export interface TorchServeModelSettings {
  readonly name: string;
  readonly version: string;
  readonly archiveFile: string;
  readonly minWorkers: number;
  readonly maxWorkers: number;
  readonly batchSize: number;
  readonly maxBatchDelayMs: number;
  readonly responseTimeoutSeconds: number;
  readonly startupTimeoutSeconds: number;
}

/** Everything config.properties depends on. */
export interface TorchServeConfigOptions {
  readonly model: TorchServeModelSettings;
  readonly modelStore: string;
  readonly gpuCount: number;
  readonly jobQueueSize: number;
  readonly maxRequestBytes: number;
  readonly jvmHeapMebibytes: number;
  readonly enableGrpc: boolean;
  /** pip-install the archive's requirements file when the model loads. @default false */
  readonly installPyDepPerModel?: boolean;
}

/**
 * Renders config.properties for one model.
 *
 * Lines are in a fixed, grouped order rather than sorted, so that a reviewer reads the
 * addresses, the security switches, the model and the limits as blocks in a diff.
 */
export function renderTorchServeConfig(options: TorchServeConfigOptions): string {
  const { model } = options;
  const entries: [string, string][] = [
    // Default binds are 127.0.0.1, unreachable from a Service.
    ['inference_address', `http://0.0.0.0:${TorchServePorts.INFERENCE}`],
    ['management_address', `http://0.0.0.0:${TorchServePorts.MANAGEMENT}`],
    ['metrics_address', `http://0.0.0.0:${TorchServePorts.METRICS}`],
  ];
  if (options.enableGrpc) {
    entries.push(
      ['grpc_inference_address', '0.0.0.0'],
      ['grpc_inference_port', String(TorchServePorts.GRPC_INFERENCE)],
      ['grpc_management_address', '0.0.0.0'],
      ['grpc_management_port', String(TorchServePorts.GRPC_MANAGEMENT)],
    );
  }
  entries.push(
    // The default "log" mode leaves /metrics empty.
    ['metrics_mode', 'prometheus'],
    ['enable_metrics_api', 'true'],
    // Token auth (on by default since 0.11.1) makes every probe fail with 401; the gateway
    // authenticates callers and the management port is never routed publicly.
    ['disable_token_authorization', 'true'],
    // Models come only from the reviewed model store, never from a register call.
    ['enable_model_api', 'false'],
    ['allowed_urls', `file://${escapeRegex(options.modelStore)}/.*`],
    // Dependencies belong in the image; installing at load is an explicit, slower opt-in.
    ['install_py_dep_per_model', options.installPyDepPerModel ? 'true' : 'false'],
    ['model_store', options.modelStore],
    ['load_models', `${model.name}=${model.archiveFile}`],
    ['models', JSON.stringify({
      [model.name]: {
        [model.version]: {
          minWorkers: model.minWorkers,
          maxWorkers: model.maxWorkers,
          batchSize: model.batchSize,
          maxBatchDelay: model.maxBatchDelayMs,
          responseTimeout: model.responseTimeoutSeconds,
          startupTimeout: model.startupTimeoutSeconds,
        },
      },
    })],
    ['default_workers_per_model', String(model.minWorkers)],
    ['default_response_timeout', String(model.responseTimeoutSeconds)],
    ['default_startup_timeout', String(model.startupTimeoutSeconds)],
    ['job_queue_size', String(options.jobQueueSize)],
    ['number_of_gpu', String(options.gpuCount)],
    ['max_request_size', String(options.maxRequestBytes)],
    ['max_response_size', String(options.maxRequestBytes)],
    // An explicit heap keeps the JVM's share of the container predictable; the rest of the
    // memory limit belongs to the Python workers. Exiting on OOM lets Kubernetes restart cleanly.
    ['vmargs', `-Xmx${options.jvmHeapMebibytes}m -XX:+ExitOnOutOfMemoryError`],
  );
  for (const [key] of entries) {
    if (!TORCHSERVE_CONFIG_KEYS.has(key)) {
      throw new Error(`config.properties key "${key}" is not read by TorchServe 0.12`);
    }
  }
  return `${entries.map(([key, value]) => `${key}=${value}`).join('\n')}\n`;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
