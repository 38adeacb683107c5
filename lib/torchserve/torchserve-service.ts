import { createHash } from 'node:crypto';
import { type ApiObject, Chart, Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import {
  ANNOTATION_PREFIX, LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, LABEL_PART_OF, LABEL_VERSION, MANAGED_BY,
} from '../private/labels';
import { LABEL_VALUE_PATTERN, isDnsLabel, isLabelKey, toResourceName } from '../private/names';
import { isPositiveQuantity, parseQuantity, toMebibytes } from '../private/quantity';
import { AWS_CLI_IMAGE } from '../private/aws';
import { unpinnedImageProblem } from '../private/image-ref';
import { ValidationError } from '../core/validation-error';
import { httpUrlProblem } from '../private/url';
import { ModelArchive } from './model-archive';
import { modelNameProblem } from './model-name';
import { modelVersionLabel, modelVersionProblem } from './model-version';
import { TorchServePorts, renderTorchServeConfig } from './torchserve-config';
import {
  TORCHSERVE_CONTAINER, TORCHSERVE_ENV_NAMES, type TorchServeProbes, torchServeEnv, torchServeProbes, torchServeStartupSeconds, torchServeStopSeconds,
} from './torchserve-container';
import { restrictedContainerSecurity, restrictedPodSecurity } from '../private/pod-hardening';
import { sortKeys } from '../private/sort-keys';
import { RolloutWithPodTemplate } from '../private/rollout';
import {
  type IRolloutStrategySource, type IServiceBackend, type ITorchServeWorkload, type IWorkloadScaler, type InferencePort, WorkloadKind, type WorkloadRef,
} from './torchserve-workload';

/** A toleration for the pods' node placement. */
export interface PodToleration {
  /** @default - matches every key (only with operator Exists) */
  readonly key?: string;
  /** @default TORCHSERVE_DEFAULTS.tolerationOperator ('Equal') */
  readonly operator?: 'Exists' | 'Equal';
  /** @default - no value */
  readonly value?: string;
  /** @default - every effect */
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  /** @default - tolerated forever */
  readonly tolerationSeconds?: number;
}

/**
 * The longest handler name or path. The handler is recorded in a pod annotation, and all of a
 * pod's annotations share 256 KiB; a handler path is far shorter than this.
 */
export const MAX_HANDLER_LENGTH = 1024;

/** The smallest JVM heap TorchServe's frontend runs with. */
export const MIN_JVM_HEAP_MEBIBYTES = 128;

/** The JVM heap of a pod with `memoryBytes`: `jvmHeapBytes` when given, else a quarter of the memory, at most 4 GiB. */
export function jvmHeapBytesFor(memoryBytes: number, jvmHeapBytes?: number): number {
  return jvmHeapBytes ?? Math.min(memoryBytes / 4, 4 * 2 ** 30);
}

/**
 * What a {@link TorchServeService} uses for an optional prop left out. The fleet file leaves
 * these out too, so a model runs the same whether it is written in a fleet file or in code.
 */
export const TORCHSERVE_DEFAULTS = {
  modelFetcherImage: AWS_CLI_IMAGE,
  replicas: 1,
  gpuCount: 1,
  ephemeralStorage: '20Gi',
  batchSize: 8,
  maxBatchDelay: Duration.millis(100),
  minWorkers: 4,
  responseTimeout: Duration.seconds(60),
  startupTimeout: Duration.minutes(5),
  gpuMemoryFraction: 0.8,
  jobQueueSize: 100,
  // TorchServe's own default.
  maxRequestBytes: 6_553_500,
  enableGrpc: false,
  allowSpot: false,
  drainDelay: Duration.seconds(15),
  tolerationOperator: 'Equal',
} as const;

/** The workers a pod starts and may scale to, either left out: `maxWorkers` defaults to `minWorkers`. */
export function workerRange(minWorkers?: number, maxWorkers?: number): { readonly min: number; readonly max: number } {
  const min = minWorkers ?? TORCHSERVE_DEFAULTS.minWorkers;
  return { min, max: maxWorkers ?? min };
}

/** The props that say how TorchServe serves a model (see {@link torchServeSettings}). */
export type TorchServeSettingsProps = Pick<TorchServeServiceProps,
  'minWorkers' | 'maxWorkers' | 'batchSize' | 'maxBatchDelay' | 'responseTimeout' | 'startupTimeout' | 'gpuMemoryFraction' | 'jobQueueSize' | 'maxRequestBytes' | 'enableGrpc'>;

/**
 * How TorchServe serves a model as {@link TorchServeService} runs it: each setting given, else
 * its default. Not checked here (the construct checks them); local compose runs the same
 * settings without keeping a second copy of the defaults.
 */
export function torchServeSettings(props: TorchServeSettingsProps) {
  const workers = workerRange(props.minWorkers, props.maxWorkers);
  return {
    minWorkers: workers.min,
    maxWorkers: workers.max,
    batchSize: props.batchSize ?? TORCHSERVE_DEFAULTS.batchSize,
    maxBatchDelay: props.maxBatchDelay ?? TORCHSERVE_DEFAULTS.maxBatchDelay,
    responseTimeout: props.responseTimeout ?? TORCHSERVE_DEFAULTS.responseTimeout,
    startupTimeout: props.startupTimeout ?? TORCHSERVE_DEFAULTS.startupTimeout,
    gpuMemoryFraction: props.gpuMemoryFraction ?? TORCHSERVE_DEFAULTS.gpuMemoryFraction,
    jobQueueSize: props.jobQueueSize ?? TORCHSERVE_DEFAULTS.jobQueueSize,
    maxRequestBytes: props.maxRequestBytes ?? TORCHSERVE_DEFAULTS.maxRequestBytes,
    enableGrpc: props.enableGrpc ?? TORCHSERVE_DEFAULTS.enableGrpc,
  };
}

/**
 * Why `minWorkers` and `maxWorkers` (either left out) cannot go together, or `undefined` when they
 * can. `maxWorkers` defaults to `minWorkers`, so `{ min: 8 }` alone is fine. The fleet file
 * reports it at workers.min and the construct throws it. Completes "got <minWorkers>; ...".
 */
export function workersProblem(minWorkers?: number, maxWorkers?: number): string | undefined {
  const { min, max } = workerRange(minWorkers, maxWorkers);
  if (min <= max) return undefined;
  return `must not exceed the maximum number of workers (${max})${minWorkers === undefined ? `; the minimum defaults to ${min}` : ''}`;
}

/**
 * Why `url` cannot be the package index of `pythonPackageIndex` (the fleet file's
 * installAtLoad.indexUrl), or `undefined`: https, and no credentials, since it is written into
 * the pod spec. Completes "got <url>; ...".
 */
export function packageIndexProblem(url: string): string | undefined {
  return httpUrlProblem(url, 'the https URL of a package index, such as "https://pypi.internal.example.com/simple"', { httpsOnly: true, noCredentials: true });
}

/** What each pod of a {@link TorchServeService} requests, and is limited to. */
export interface PodResources {
  readonly cpu: string;
  readonly memory: string;
  readonly ephemeralStorage: string;
  readonly gpuCount: number;
}

/** Properties of a {@link TorchServeService}. */
export interface TorchServeServiceProps {
  /**
   * The TorchServe model name, as in `POST /predictions/<modelName>`. May contain "_",
   * which becomes "-" in Kubernetes names.
   */
  readonly modelName: string;
  /** The model's semantic version. It must match the version packaged into the `.mar`. */
  readonly modelVersion: string;
  /** Where the model archive lives. */
  readonly modelArchive: ModelArchive;
  /**
   * The handler packaged into the archive. TorchServe reads it from the archive itself; it is
   * recorded on the pods so an operator can see which handler a running version uses. At most
   * {@link MAX_HANDLER_LENGTH} characters.
   */
  readonly handler: string;
  /** The image the pods run, `repository:tag`, `repository@sha256:…` or both; pinned (never `latest`). */
  readonly image: string;
  /** CPU limit and request, a Kubernetes quantity such as "4". */
  readonly cpu: string;
  /** Memory limit and request, such as "16Gi". Holds the JVM heap and the Python workers. */
  readonly memory: string;

  /**
   * Kubernetes object names, and the `app.kubernetes.io/instance` label. Changing it replaces
   * the Deployment, because selectors are immutable.
   * @default - the model name with "_" replaced by "-"
   */
  readonly name?: string;
  /** @default - the chart's namespace */
  readonly namespace?: string;
  /** The `app.kubernetes.io/part-of` label. @default - no part-of label */
  readonly partOf?: string;
  /** Image of the init container that copies S3 archives. @default TORCHSERVE_DEFAULTS.modelFetcherImage ('amazon/aws-cli:2.22.35') */
  readonly modelFetcherImage?: string;
  /** Pods to run. @default TORCHSERVE_DEFAULTS.replicas (1) */
  readonly replicas?: number;
  /** The most pods an autoscaler may run; anti-affinity applies from two. @default - `replicas` */
  readonly maxReplicas?: number;
  /** GPUs per pod (`nvidia.com/gpu`); 0 runs on CPU. @default TORCHSERVE_DEFAULTS.gpuCount (1) */
  readonly gpuCount?: number;
  /** Ephemeral storage per pod: the copied archive, its unpacked copy, logs and caches. @default TORCHSERVE_DEFAULTS.ephemeralStorage ('20Gi') */
  readonly ephemeralStorage?: string;
  /** The JVM heap of the TorchServe frontend. @default - a quarter of `memory`, at most 4Gi */
  readonly jvmHeap?: string;
  /** Requests batched together per inference call. @default TORCHSERVE_DEFAULTS.batchSize (8) */
  readonly batchSize?: number;
  /** How long TorchServe waits to fill a batch. @default TORCHSERVE_DEFAULTS.maxBatchDelay (100 ms) */
  readonly maxBatchDelay?: Duration;
  /** Workers started per pod. @default TORCHSERVE_DEFAULTS.minWorkers (4) */
  readonly minWorkers?: number;
  /** Upper bound TorchServe may scale workers to; at least `minWorkers` (see {@link workersProblem}). @default - `minWorkers` */
  readonly maxWorkers?: number;
  /** A worker that takes longer to answer is deemed stuck and restarted. @default TORCHSERVE_DEFAULTS.responseTimeout (60 s) */
  readonly responseTimeout?: Duration;
  /** Time allowed to load the model; also sizes the startup probe. @default TORCHSERVE_DEFAULTS.startupTimeout (5 min) */
  readonly startupTimeout?: Duration;
  /** Fraction of GPU memory the handler may use, handed over as `GPU_MEMORY_FRACTION`. @default TORCHSERVE_DEFAULTS.gpuMemoryFraction (0.8) */
  readonly gpuMemoryFraction?: number;
  /** Requests queued per model before TorchServe answers 503. @default TORCHSERVE_DEFAULTS.jobQueueSize (100) */
  readonly jobQueueSize?: number;
  /** Largest request and response body, in bytes. @default TORCHSERVE_DEFAULTS.maxRequestBytes (6553500, TorchServe's default) */
  readonly maxRequestBytes?: number;
  /** Serve gRPC on 7070 (inference) and 7071 (management). @default TORCHSERVE_DEFAULTS.enableGrpc (false) */
  readonly enableGrpc?: boolean;
  /** @default {} */
  readonly nodeSelector?: Record<string, string>;
  /** @default [] */
  readonly tolerations?: PodToleration[];
  /**
   * Prefer spot capacity. When false the pods are kept off spot nodes (Karpenter and EKS
   * managed node group labels), which is what production needs.
   * @default TORCHSERVE_DEFAULTS.allowSpot (false)
   */
  readonly allowSpot?: boolean;
  /** IAM role for the pods (IRSA), used to read the archive from S3. @default - no role annotation */
  readonly iamRoleArn?: string;
  /** Time for endpoints and gateways to stop sending traffic before TorchServe stops. @default TORCHSERVE_DEFAULTS.drainDelay (15 s) */
  readonly drainDelay?: Duration;
  /** What runs the pods; a Rollout needs a strategy from a CanaryRollout. @default WorkloadKind.DEPLOYMENT */
  readonly workload?: WorkloadKind;
  /**
   * Extra environment variables for the handler (e.g. the Redis cache's address). Names the
   * construct sets itself are refused, and secrets belong in Secrets, not here. @default {}
   */
  readonly env?: Record<string, string>;
  /**
   * Install the archive's requirements file when the model loads, from this package index
   * (`install_py_dep_per_model=true`; pip reads `PIP_INDEX_URL` from the environment TorchServe
   * hands it). Slow and network-dependent: every cold start downloads the packages, so the pods
   * need egress to the index. Prefer an image with the requirements baked in.
   * @default - requirements are not installed at load
   */
  readonly pythonPackageIndex?: string;
}

const { modelStore: MODEL_STORE } = TORCHSERVE_CONTAINER;

/**
 * Everything one TorchServe deployment needs: a ConfigMap with config.properties, a
 * ServiceAccount, a hardened Deployment with probes that know when the model is loaded,
 * inference, management and metrics Services, and a PodDisruptionBudget.
 *
 * @see https://github.com/pytorch/serve/blob/v0.12.0/docs/configuration.md
 */
export class TorchServeService extends Construct implements ITorchServeWorkload {
  /** Kubernetes name of every object, and the instance label. */
  public readonly name: string;
  /** The TorchServe model name, as in `/predictions/<modelName>`. */
  public readonly modelName: string;
  /** The model version this deployment serves. */
  public readonly modelVersion: string;
  /** How long TorchServe lets a request take; gateways use the same timeout. */
  public readonly responseTimeout: Duration;
  /** TorchServe's `max_request_size`; gateways use the same body limit. */
  public readonly maxRequestBytes: number;
  /** The `app.kubernetes.io/part-of` label, if any. */
  public readonly partOf?: string;
  /** Pods per environment when nothing autoscales them; the autoscaler's floor otherwise. */
  public readonly replicas: number;
  /** What each pod requests and is limited to, defaults applied; quotas count pods by it. */
  public readonly podResources: PodResources;
  private autoscaler?: IWorkloadScaler;
  private strategySource?: IRolloutStrategySource;
  /** The namespace every object is in. */
  public readonly namespace: string;
  /** Labels that select this model's pods; stable across versions and refactors. */
  public readonly selectorLabels: Readonly<Record<string, string>>;
  /** The Service that gateways route to (port `http`, 8080). */
  public readonly inferenceService: k8s.KubeService;
  /** The management API (port `management`, 8081); never route it publicly. */
  public readonly managementService: k8s.KubeService;
  /** The Prometheus endpoint (port `metrics`, 8082). */
  public readonly metricsService: k8s.KubeService;
  /** The Deployment or Argo Rollout running the pods. */
  public readonly workload: ApiObject;
  /** How autoscalers and PDB checks refer to {@link workload}. */
  public readonly workloadRef: WorkloadRef;
  /** The ports of the inference Service. */
  public readonly inferencePorts: readonly InferencePort[];
  public readonly configMap: k8s.KubeConfigMap;
  public readonly serviceAccount: k8s.KubeServiceAccount;
  public readonly podDisruptionBudget: k8s.KubePodDisruptionBudget;

  constructor(scope: Construct, id: string, props: TorchServeServiceProps) {
    super(scope, id);
    const p = this.validate(props);
    this.name = p.name;
    this.namespace = p.namespace;
    this.modelName = p.modelName;
    this.modelVersion = p.modelVersion;
    this.responseTimeout = p.responseTimeout;
    this.maxRequestBytes = p.maxRequestBytes;
    this.partOf = p.partOf;
    this.replicas = p.replicas;
    this.podResources = { cpu: p.cpu, memory: p.memory, ephemeralStorage: p.ephemeralStorage, gpuCount: p.gpuCount };
    this.selectorLabels = { [LABEL_NAME]: 'torchserve', [LABEL_INSTANCE]: p.name };
    const labels = (component: string) => this.labelsFor(component);
    const metadata = (name: string, component: string) => ({ name, namespace: p.namespace, labels: labels(component) });
    // Only what a new model version really changes carries the version label: the workload, its
    // pods and the config. A release then changes two files, not every object of the model.
    const versionLabel = { [LABEL_VERSION]: modelVersionLabel(p.modelVersion) };
    const versioned = (name: string, component: string) => ({ name, namespace: p.namespace, labels: { ...labels(component), ...versionLabel } });

    const configProperties = renderTorchServeConfig({
      model: {
        name: p.modelName,
        version: p.modelVersion,
        archiveFile: p.modelArchive.fileName,
        minWorkers: p.minWorkers,
        maxWorkers: p.maxWorkers,
        batchSize: p.batchSize,
        maxBatchDelayMs: p.maxBatchDelay.toMilliseconds(),
        responseTimeoutSeconds: p.responseTimeout.toSeconds(),
        startupTimeoutSeconds: p.startupTimeout.toSeconds(),
      },
      modelStore: MODEL_STORE,
      gpuCount: p.gpuCount,
      jobQueueSize: p.jobQueueSize,
      maxRequestBytes: p.maxRequestBytes,
      jvmHeapMebibytes: p.jvmHeapMebibytes,
      enableGrpc: p.enableGrpc,
      installPyDepPerModel: p.pythonPackageIndex !== undefined,
    });

    this.configMap = new k8s.KubeConfigMap(this, 'Config', {
      metadata: versioned(`${p.name}-config`, 'inference'),
      data: { 'config.properties': configProperties },
    });

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: {
        ...metadata(p.name, 'inference'),
        ...(p.iamRoleArn ? { annotations: { 'eks.amazonaws.com/role-arn': p.iamRoleArn } } : {}),
      },
      // The pods never call the Kubernetes API. IRSA mounts its own projected token.
      automountServiceAccountToken: false,
    });

    const template: k8s.PodTemplateSpec = {
      metadata: {
        labels: { ...labels('inference'), ...versionLabel },
        annotations: {
          // A config change alone would not roll the pods; a changed checksum does.
          [`${ANNOTATION_PREFIX}/config-checksum`]: createHash('sha256').update(configProperties).digest('hex'),
          [`${ANNOTATION_PREFIX}/model-archive`]: p.modelArchive.uri,
          [`${ANNOTATION_PREFIX}/handler`]: p.handler,
          'kubectl.kubernetes.io/default-container': TORCHSERVE_CONTAINER.name,
        },
      },
      spec: this.renderPodSpec(p),
    };
    const common = {
      // Rendered from this construct's state: no replicas once an autoscaler owns them, so an
      // apply never resets what the HPA chose.
      replicas: Lazy.any({ produce: () => (this.autoscaler ? undefined : p.replicas) }) as unknown as number,
      revisionHistoryLimit: 5,
      minReadySeconds: 10,
      progressDeadlineSeconds: Math.max(600, torchServeStartupSeconds(p.startupTimeout) + 300),
      selector: { matchLabels: { ...this.selectorLabels } },
    };
    if (p.workload === WorkloadKind.ROLLOUT) {
      this.workload = new RolloutWithPodTemplate(this, 'Resource', {
        metadata: versioned(p.name, 'inference'),
        // The strategy is the release's, asked for when the Rollout renders.
        spec: { ...common, strategy: Lazy.any({ produce: () => this.strategySource?.rolloutStrategy() }) as never },
      }, template);
      this.node.addValidation({
        validate: () => (this.strategySource ? [] : [`${this.node.path}: a Rollout needs a strategy; release it with a ModelRelease`]),
      });
    } else {
      this.workload = new k8s.KubeDeployment(this, 'Resource', {
        metadata: versioned(p.name, 'inference'),
        spec: {
          ...common,
          // Zero downtime: a new pod must be ready before an old one goes.
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: k8s.IntOrString.fromNumber(1), maxUnavailable: k8s.IntOrString.fromNumber(0) } },
          template,
        },
      });
    }
    this.workloadRef = { apiVersion: this.workload.apiVersion, kind: p.workload, name: p.name };

    const servicePorts = (ports: [string, number][]): k8s.ServicePort[] =>
      ports.map(([portName, port]) => ({ name: portName, port, targetPort: k8s.IntOrString.fromString(portName), protocol: 'TCP' }));
    this.inferencePorts = [{ name: 'http', port: TorchServePorts.INFERENCE }, ...(p.enableGrpc ? [{ name: 'grpc', port: TorchServePorts.GRPC_INFERENCE }] : [])];
    this.inferenceService = new k8s.KubeService(this, 'InferenceService', {
      metadata: metadata(p.name, 'inference'),
      spec: {
        type: 'ClusterIP',
        selector: { ...this.selectorLabels },
        ports: servicePorts(this.inferencePorts.map((port) => [port.name, port.port])),
      },
    });
    this.managementService = new k8s.KubeService(this, 'ManagementService', {
      metadata: metadata(`${p.name}-management`, 'management'),
      spec: {
        type: 'ClusterIP',
        selector: { ...this.selectorLabels },
        ports: servicePorts([['management', TorchServePorts.MANAGEMENT], ...(p.enableGrpc ? [['grpc-management', TorchServePorts.GRPC_MANAGEMENT] as [string, number]] : [])]),
      },
    });
    this.metricsService = new k8s.KubeService(this, 'MetricsService', {
      metadata: metadata(`${p.name}-metrics`, 'metrics'),
      spec: { type: 'ClusterIP', selector: { ...this.selectorLabels }, ports: servicePorts([['metrics', TorchServePorts.METRICS]]) },
    });

    this.podDisruptionBudget = new k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: metadata(p.name, 'inference'),
      spec: {
        // maxUnavailable (not minAvailable) never blocks a node drain, even at one replica.
        maxUnavailable: k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: { ...this.selectorLabels } },
        // A pod stuck loading a model must not block drains either.
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }

  /** The Service gateways route predictions to. */
  public get inference(): IServiceBackend {
    return backendOf(this.inferenceService, 'http', TorchServePorts.INFERENCE);
  }

  /** The management API's Service. */
  public get management(): IServiceBackend {
    return backendOf(this.managementService, 'management', TorchServePorts.MANAGEMENT);
  }

  /** The Service Prometheus scrapes. */
  public get metricsServiceName(): string {
    return this.metricsService.name;
  }

  /** What scales the replicas, if anything. */
  public get scaler(): IWorkloadScaler | undefined {
    return this.autoscaler;
  }

  /**
   * Hands the replica count to an autoscaler (the cdk8s-plus `IScalable` protocol): the
   * workload then carries no `spec.replicas`, so an apply never resets what the HPA chose.
   */
  public markHasAutoscaler(scaler: IWorkloadScaler): void {
    if (this.autoscaler && this.autoscaler !== scaler) {
      throw new ValidationError('TorchServeService.AlreadyAutoscaled', `already scaled by ${this.autoscaler.hpaName}; two autoscalers would fight over the replicas`, this);
    }
    this.autoscaler = scaler;
  }

  /** Sets what decides the Argo Rollout's strategy (a release); only for Rollouts, and once. */
  public useRolloutStrategy(source: IRolloutStrategySource): void {
    if (this.workloadRef.kind !== WorkloadKind.ROLLOUT) {
      throw new ValidationError('TorchServeService.NotARollout', 'a rollout strategy needs workload: WorkloadKind.ROLLOUT', this);
    }
    if (this.strategySource) {
      throw new ValidationError('TorchServeService.StrategyAlreadySet', 'the rollout strategy is already set; one release per service', this);
    }
    this.strategySource = source;
  }

  /**
   * The recommended labels for an object that belongs to this model, e.g. its routes or
   * monitors; `component` says which part it is ("inference", "gateway", "monitoring"). They
   * leave out `app.kubernetes.io/version`: such objects stay the same across model versions,
   * and so do their files in a release's diff.
   */
  public labelsFor(component: string): Record<string, string> {
    return {
      ...this.selectorLabels,
      [LABEL_COMPONENT]: component,
      ...(this.partOf ? { [LABEL_PART_OF]: this.partOf } : {}),
      [LABEL_MANAGED_BY]: MANAGED_BY,
    };
  }

  private renderPodSpec(p: ResolvedProps): k8s.PodSpec {
    const containerSecurity = restrictedContainerSecurity();
    const fromS3 = p.modelArchive.source === 's3';
    const modelStoreMount: k8s.VolumeMount = fromS3
      ? { name: 'model-store', mountPath: MODEL_STORE, readOnly: true }
      : { name: 'model-store', mountPath: MODEL_STORE, readOnly: true, ...(p.modelArchive.directory ? { subPath: p.modelArchive.directory } : {}) };
    const resources = (cpu: string, memory: string, ephemeral: string, gpus: number): k8s.ResourceRequirements => {
      const amounts: Record<string, k8s.Quantity> = {
        'cpu': k8s.Quantity.fromString(cpu),
        'memory': k8s.Quantity.fromString(memory),
        'ephemeral-storage': k8s.Quantity.fromString(ephemeral),
        ...(gpus > 0 ? { 'nvidia.com/gpu': k8s.Quantity.fromNumber(gpus) } : {}),
      };
      // Requests equal limits: GPU pods need it, and Guaranteed QoS keeps inference off the
      // eviction list when a node runs short.
      return { requests: amounts, limits: amounts };
    };

    const initContainers: k8s.Container[] = fromS3
      ? [{
        name: 'fetch-model',
        image: p.modelFetcherImage,
        imagePullPolicy: 'IfNotPresent',
        command: ['aws', 's3', 'cp', '--only-show-errors', p.modelArchive.uri, `${MODEL_STORE}/${p.modelArchive.fileName}`],
        // The AWS CLI writes its cache under $HOME.
        env: [{ name: 'HOME', value: '/tmp' }],
        resources: resources('500m', '512Mi', '1Gi', 0),
        securityContext: containerSecurity,
        volumeMounts: [{ name: 'model-store', mountPath: MODEL_STORE }, { name: 'fetch-tmp', mountPath: '/tmp' }],
      }]
      : [];

    // The probes are data (torchServeProbes), which a local compose file renders too.
    const probes = torchServeProbes(p);
    const execProbe = ({ command, ...timing }: TorchServeProbes['startup']): k8s.Probe => ({ exec: { command: [...command] }, ...timing });
    const { path: livenessPath, portName: livenessPort, ...livenessTiming } = probes.liveness;

    const ports: k8s.ContainerPort[] = [
      { name: 'http', containerPort: TorchServePorts.INFERENCE, protocol: 'TCP' },
      { name: 'management', containerPort: TorchServePorts.MANAGEMENT, protocol: 'TCP' },
      { name: 'metrics', containerPort: TorchServePorts.METRICS, protocol: 'TCP' },
      ...(p.enableGrpc
        ? [
          { name: 'grpc', containerPort: TorchServePorts.GRPC_INFERENCE, protocol: 'TCP' },
          { name: 'grpc-management', containerPort: TorchServePorts.GRPC_MANAGEMENT, protocol: 'TCP' },
        ]
        : []),
    ];

    const affinity: k8s.Affinity = {
      nodeAffinity: p.allowSpot
        ? {
          preferredDuringSchedulingIgnoredDuringExecution: [{
            weight: 50,
            preference: { matchExpressions: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] }] },
          }],
        }
        : {
          // NotIn also matches nodes without the label, so clusters without Karpenter or
          // managed node groups schedule as before.
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{
              matchExpressions: [
                { key: 'karpenter.sh/capacity-type', operator: 'NotIn', values: ['spot'] },
                { key: 'eks.amazonaws.com/capacityType', operator: 'NotIn', values: ['SPOT'] },
              ],
            }],
          },
        },
      ...(Math.max(p.replicas, p.maxReplicas ?? 0) >= 2
        ? {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [{
              weight: 100,
              podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...this.selectorLabels } } },
            }],
          },
        }
        : {}),
    };

    return {
      serviceAccountName: p.name,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: p.drainDelay.toSeconds() + torchServeStopSeconds(p.responseTimeout),
      securityContext: restrictedPodSecurity(TORCHSERVE_CONTAINER.uid),
      ...(Object.keys(p.nodeSelector).length > 0 ? { nodeSelector: sortKeys(p.nodeSelector) } : {}),
      ...(p.tolerations.length > 0 ? { tolerations: p.tolerations } : {}),
      affinity,
      topologySpreadConstraints: ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        // GPU nodes are scarce: spread when possible, never leave a pod pending for it.
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { ...this.selectorLabels } },
      })),
      ...(initContainers.length > 0 ? { initContainers } : {}),
      containers: [{
        name: TORCHSERVE_CONTAINER.name,
        image: p.image,
        imagePullPolicy: 'IfNotPresent',
        command: [...TORCHSERVE_CONTAINER.command],
        args: [...TORCHSERVE_CONTAINER.args],
        ports,
        env: [
          ...torchServeEnv(p),
          ...Object.entries(sortKeys(p.env)).map(([name, value]) => ({ name, value })),
        ],
        resources: resources(p.cpu, p.memory, p.ephemeralStorage, p.gpuCount),
        startupProbe: execProbe(probes.startup),
        readinessProbe: execProbe(probes.readiness),
        livenessProbe: { httpGet: { path: livenessPath, port: k8s.IntOrString.fromString(livenessPort) }, ...livenessTiming },
        lifecycle: { preStop: { exec: { command: ['/bin/sh', '-c', `sleep ${p.drainDelay.toSeconds()}`] } } },
        securityContext: containerSecurity,
        volumeMounts: [
          { name: 'config', mountPath: TORCHSERVE_CONTAINER.configDir, readOnly: true },
          modelStoreMount,
          { name: 'tmp', mountPath: TORCHSERVE_CONTAINER.tmpDir },
          { name: 'logs', mountPath: TORCHSERVE_CONTAINER.logDir },
          { name: 'cache', mountPath: TORCHSERVE_CONTAINER.cacheDir },
          { name: 'system-tmp', mountPath: '/tmp' },
          { name: 'dshm', mountPath: '/dev/shm' },
        ],
      }],
      volumes: [
        { name: 'config', configMap: { name: `${p.name}-config`, defaultMode: 0o444 } },
        fromS3
          ? { name: 'model-store', emptyDir: {} }
          : { name: 'model-store', persistentVolumeClaim: { claimName: p.modelArchive.container, readOnly: true } },
        { name: 'tmp', emptyDir: {} },
        { name: 'logs', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } },
        { name: 'cache', emptyDir: { sizeLimit: k8s.Quantity.fromString('2Gi') } },
        { name: 'system-tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('2Gi') } },
        { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString(TORCHSERVE_CONTAINER.sharedMemory) } },
        ...(fromS3 ? [{ name: 'fetch-tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } }] : []),
      ],
    };
  }

  private validate(props: TorchServeServiceProps): ResolvedProps {
    const fail = (code: string, message: string): never => {
      throw new ValidationError(`TorchServeService.${code}`, message, this);
    };
    const name = props.name ?? toResourceName(props.modelName);
    if (!isDnsLabel(name) || name.length > 48) {
      fail('InvalidName', `'name' ("${name}") must be a DNS-1123 label of at most 48 characters, so "<name>-management" fits in 63`);
    }
    const nameProblem = modelNameProblem(props.modelName);
    if (nameProblem) fail('InvalidModelName', `'modelName' ("${props.modelName}") ${nameProblem}`);
    if (props.handler.length === 0 || props.handler.length > MAX_HANDLER_LENGTH) {
      fail('InvalidHandler', `'handler' must be 1 to ${MAX_HANDLER_LENGTH} characters (it has ${props.handler.length}); it is recorded in a pod annotation`);
    }
    const versionIssue = modelVersionProblem(props.modelVersion);
    if (versionIssue) fail('InvalidModelVersion', `'modelVersion' ("${props.modelVersion}") ${versionIssue}`);
    const namespace = props.namespace ?? Chart.of(this).namespace;
    if (namespace === undefined || !isDnsLabel(namespace)) {
      fail('InvalidNamespace', `'namespace' (${JSON.stringify(namespace)}) must be a DNS-1123 label; set it on the construct or the chart`);
    }
    for (const [prop, image] of [['image', props.image], ['modelFetcherImage', props.modelFetcherImage]] as const) {
      const problem = image === undefined ? undefined : unpinnedImageProblem(image);
      if (problem) fail('UnpinnedImage', `'${prop}' ("${image}") ${problem}`);
    }
    const indexProblem = props.pythonPackageIndex === undefined ? undefined : packageIndexProblem(props.pythonPackageIndex);
    if (indexProblem) fail('InvalidPackageIndex', `'pythonPackageIndex' ("${props.pythonPackageIndex}") ${indexProblem}`);
    for (const [prop, value] of [['cpu', props.cpu], ['memory', props.memory], ['ephemeralStorage', props.ephemeralStorage], ['jvmHeap', props.jvmHeap]] as const) {
      if (value !== undefined && !isPositiveQuantity(value)) {
        fail('InvalidQuantity', `'${prop}' ("${value}") must be a positive Kubernetes quantity such as "4" or "16Gi"`);
      }
    }
    const memoryBytes = parseQuantity(props.memory);
    const jvmHeapBytes = jvmHeapBytesFor(memoryBytes, props.jvmHeap !== undefined ? parseQuantity(props.jvmHeap) : undefined);
    if (jvmHeapBytes >= memoryBytes) {
      fail('HeapTooLarge', `'jvmHeap' (${props.jvmHeap}) must be below 'memory' (${props.memory}); the Python workers need the rest`);
    }
    if (toMebibytes(jvmHeapBytes) < MIN_JVM_HEAP_MEBIBYTES) {
      fail('HeapTooSmall', `the JVM heap (${toMebibytes(jvmHeapBytes)}Mi) must be at least ${MIN_JVM_HEAP_MEBIBYTES}Mi; raise 'memory' or set 'jvmHeap'`);
    }
    const integer = (prop: string, value: number, min: number, max: number): number => {
      if (!Number.isInteger(value) || value < min || value > max) {
        fail('OutOfRange', `'${prop}' (${value}) must be an integer from ${min} to ${max}`);
      }
      return value;
    };
    const settings = torchServeSettings(props);
    const minWorkers = integer('minWorkers', settings.minWorkers, 1, 64);
    const maxWorkers = integer('maxWorkers', settings.maxWorkers, 1, 64);
    const workersIssue = workersProblem(props.minWorkers, props.maxWorkers);
    if (workersIssue) fail('InvalidWorkers', `'minWorkers' (${minWorkers}) ${workersIssue}`);
    const gpuMemoryFraction = settings.gpuMemoryFraction;
    if (!(gpuMemoryFraction > 0 && gpuMemoryFraction <= 1)) {
      fail('OutOfRange', `'gpuMemoryFraction' (${gpuMemoryFraction}) must be greater than 0 and at most 1`);
    }
    for (const [key, value] of Object.entries(props.nodeSelector ?? {})) {
      if (!isLabelKey(key) || !LABEL_VALUE_PATTERN.test(value)) {
        fail('InvalidNodeSelector', `'nodeSelector' entry "${key}: ${value}" is not a valid label key and value`);
      }
    }
    for (const [key, value] of Object.entries(props.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) fail('InvalidEnv', `'env' name "${key}" must be a valid environment variable name`);
      if (TORCHSERVE_ENV_NAMES.includes(key)) fail('InvalidEnv', `'env' must not set ${key}, which TorchServeService sets itself`);
      if (/secret|password|token|bearer/i.test(key) && value !== '') fail('InvalidEnv', `'env' must not carry a secret value in ${key}; mount a Secret instead`);
    }
    return {
      ...props,
      name,
      namespace: namespace as string,
      modelFetcherImage: props.modelFetcherImage ?? TORCHSERVE_DEFAULTS.modelFetcherImage,
      replicas: integer('replicas', props.replicas ?? TORCHSERVE_DEFAULTS.replicas, 1, 1000),
      gpuCount: integer('gpuCount', props.gpuCount ?? TORCHSERVE_DEFAULTS.gpuCount, 0, 16),
      ephemeralStorage: props.ephemeralStorage ?? TORCHSERVE_DEFAULTS.ephemeralStorage,
      jvmHeapMebibytes: toMebibytes(jvmHeapBytes),
      batchSize: integer('batchSize', settings.batchSize, 1, 1024),
      maxBatchDelay: settings.maxBatchDelay,
      minWorkers,
      maxWorkers,
      responseTimeout: settings.responseTimeout,
      startupTimeout: settings.startupTimeout,
      gpuMemoryFraction,
      jobQueueSize: integer('jobQueueSize', settings.jobQueueSize, 1, 100_000),
      maxRequestBytes: integer('maxRequestBytes', settings.maxRequestBytes, 1024, 2 ** 31 - 1),
      enableGrpc: settings.enableGrpc,
      nodeSelector: props.nodeSelector ?? {},
      tolerations: (props.tolerations ?? []).map((t) => ({ ...t, operator: t.operator ?? TORCHSERVE_DEFAULTS.tolerationOperator })),
      allowSpot: props.allowSpot ?? TORCHSERVE_DEFAULTS.allowSpot,
      drainDelay: props.drainDelay ?? TORCHSERVE_DEFAULTS.drainDelay,
      workload: props.workload ?? WorkloadKind.DEPLOYMENT,
      env: props.env ?? {},
    };
  }
}

interface ResolvedProps extends TorchServeServiceProps {
  readonly name: string;
  readonly namespace: string;
  readonly modelFetcherImage: string;
  readonly replicas: number;
  readonly gpuCount: number;
  readonly ephemeralStorage: string;
  readonly jvmHeapMebibytes: number;
  readonly batchSize: number;
  readonly maxBatchDelay: Duration;
  readonly minWorkers: number;
  readonly maxWorkers: number;
  readonly responseTimeout: Duration;
  readonly startupTimeout: Duration;
  readonly gpuMemoryFraction: number;
  readonly jobQueueSize: number;
  readonly maxRequestBytes: number;
  readonly enableGrpc: boolean;
  readonly nodeSelector: Record<string, string>;
  readonly tolerations: PodToleration[];
  readonly allowSpot: boolean;
  readonly drainDelay: Duration;
  readonly workload: WorkloadKind;
  readonly env: Record<string, string>;
}

/** A Service as a backend that gateways route to. */
function backendOf(service: k8s.KubeService, portName: string, port: number): IServiceBackend {
  return { name: service.name, port, portName, addAnnotation: (key, value) => service.metadata.addAnnotation(key, value) };
}
