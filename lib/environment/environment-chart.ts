import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { type EnvironmentConfig, type FleetConfig, type GatewayConfig, modelReleaseType, optionalDuration } from '../fleet';
import { GatewayFrontend, GatewayKind, type GatewayProvider, GatewayRoute, IssuerKind, findGatewayProvider } from '../gateway';
import { ModelNetworkPolicy, NamespaceGuardrails } from '../isolation';
import { parseQuantity } from '../private/quantity';
import { LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_PART_OF, MANAGED_BY } from '../private/labels';
import { toResourceName } from '../private/names';
import { ModelAutoscaler, ScalingBackend } from '../autoscaling';
import { packageIndexEgressRule, servingImageOf } from '../image';
import { imageRef } from '../private/image-ref';
import { RedisCache, RedisPersistence } from '../cache';
import { ModelStoreBackup, modelStorePrefix } from '../operations';
import { MonitoringBundle } from '../monitoring';
import { GpuMetrics } from '../signals';
import { GatewayApiPluginAccess, ModelRelease, ReleaseStrategy, ReleaseType } from '../release';
import { ModelArchive, type PodResources, TorchServeService, WorkloadKind } from '../torchserve';

/** Room in the quota for one-off pods (backups, packaging jobs, debugging). */
const QUOTA_SPARE_PODS = 4;
const QUOTA_SPARE_CPU = 4;
const QUOTA_SPARE_MEMORY_BYTES = 8 * 2 ** 30;

/** The gateway's provider; the fleet schema admits only gateways that have one. */
function providerOf(gateway: GatewayConfig): GatewayProvider {
  const provider = findGatewayProvider(gateway.kind, gateway.implementation);
  if (provider === undefined) throw new Error(`no gateway provider for ${gateway.kind}${gateway.implementation ? ` (${gateway.implementation})` : ''}`);
  return provider;
}

// Everything the fleet file leaves out is passed on as undefined: the constructs own the defaults.

/** Where the environment's GPU metrics come from (monitoring.gpuMetrics); left out, the constructs' default (DCGM). */
function gpuMetricsOf(env: EnvironmentConfig): GpuMetrics | undefined {
  const gpu = env.monitoring?.gpuMetrics;
  if (gpu?.source === 'torchserve') return GpuMetrics.torchServe();
  return gpu?.dcgmHonorLabels ? GpuMetrics.dcgm({ namespaceLabel: 'namespace', podLabel: 'pod' }) : undefined;
}

function releaseStrategy(config: EnvironmentConfig['strategy'], type: EnvironmentConfig['strategy']['type']): ReleaseStrategy {
  switch (type) {
    case 'canary': return ReleaseStrategy.canary({ weights: config.canary?.weights, pause: optionalDuration(config.canary?.pauseSeconds, Duration.seconds) });
    case 'blue-green': return ReleaseStrategy.blueGreen({ autoPromotionEnabled: config.blueGreen?.autoPromotion, scaleDownDelay: optionalDuration(config.blueGreen?.scaleDownDelaySeconds, Duration.seconds) });
    default: return ReleaseStrategy.rolling();
  }
}

/**
 * The gateway as rendered: a gateway that cannot carry canary weights itself (a Kong Ingress)
 * hands the environment to the provider that serves its canaries when a model here releases by
 * canary, since all models share the environment's gateway.
 */
function renderedProvider(gateway: GatewayConfig, strategies: Iterable<ReleaseStrategy>): GatewayProvider {
  const provider = providerOf(gateway);
  return provider.canaryProvider && [...strategies].some((s) => s.type === ReleaseType.CANARY) ? provider.canaryProvider : provider;
}

/** Properties of an {@link EnvironmentChart}. */
export interface EnvironmentChartProps {
  /** The validated fleet file. */
  readonly fleet: FleetConfig;
  /** Which of `fleet.environments` this chart renders. */
  readonly environment: string;
  /**
   * The version and archive of each model here (see `resolveReleases`).
   * @default - each model's `version` and `mar` from the fleet file
   */
  readonly releases?: Readonly<Record<string, { readonly version: string; readonly mar: string }>>;
  /**
   * The model store a `backup` copies when it names no `source`: an S3 prefix holding every
   * archive the models may run (see `modelArchives`).
   * @default - the bucket of the archives in `releases`
   */
  readonly modelStore?: string;
}

/**
 * Everything one environment runs: its namespace and one TorchServeService per model.
 * The chart's id is the environment name, which becomes the output folder `dist/<environment>/`.
 */
export class EnvironmentChart extends Chart {
  /** The model deployments, keyed by TorchServe model name. */
  public readonly services: ReadonlyMap<string, TorchServeService>;
  /** The models' gateway routes, keyed by TorchServe model name; empty without a gateway. */
  public readonly routes: ReadonlyMap<string, GatewayRoute>;
  /** The models' network policies, keyed by TorchServe model name. */
  public readonly networkPolicies: ReadonlyMap<string, ModelNetworkPolicy>;
  /** The models' releases, keyed by TorchServe model name. */
  public readonly releases: ReadonlyMap<string, ModelRelease>;
  /** Whether a canary here needs the Argo Rollouts Gateway API plugin installed. */
  public readonly usesGatewayApiPlugin: boolean;
  /** Whether a model here runs as an Argo Rollout (canary or blue-green), whose fields Argo Rollouts rewrites. */
  public readonly usesRollouts: boolean;
  /** The models' autoscalers, keyed by TorchServe model name; empty without `autoscaling`. */
  public readonly autoscalers: ReadonlyMap<string, ModelAutoscaler>;
  /** The models' monitoring, keyed by TorchServe model name; empty without `monitoring`. */
  public readonly monitoring: ReadonlyMap<string, MonitoringBundle>;

  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    const env = props.fleet.environments[props.environment];
    if (env === undefined) {
      throw new Error(`${scope.node.path}/${id}: unknown environment "${props.environment}"; the fleet defines: ${Object.keys(props.fleet.environments).join(', ')}`);
    }
    // Names come from the fleet file, not the construct path, so they are stable under refactors.
    // No chart-level namespace: cdk8s would stamp it on the cluster-scoped Namespace too.
    super(scope, id, {
      disableResourceNameHashes: true,
      labels: { [LABEL_PART_OF]: props.fleet.name, [LABEL_MANAGED_BY]: MANAGED_BY },
    });

    new k8s.KubeNamespace(this, 'Namespace', {
      metadata: {
        name: env.namespace,
        labels: {
          // Pod Security Admission rejects any pod in this namespace that is not "restricted".
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'v1.28',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    });

    // Each model has its own strategy, so deploying one model never changes how another is released.
    // The models this environment runs: those with a release here (a registry-managed model runs
    // only where a deploy pinned it), else every model of the fleet file.
    const models = props.releases ? props.fleet.models.filter((m) => props.releases?.[m.name] !== undefined) : props.fleet.models;
    // One strategy per release type, shared by the models that use it.
    const byType = new Map<EnvironmentConfig['strategy']['type'], ReleaseStrategy>();
    const strategyOf = (type: EnvironmentConfig['strategy']['type']) => byType.get(type) ?? byType.set(type, releaseStrategy(env.strategy, type)).get(type)!;
    const strategies = new Map(models.map((m) => [m.name, strategyOf(modelReleaseType(env, m.name))]));
    this.usesRollouts = [...strategies.values()].some((s) => s.needsRollout);
    // The AWS CLI image of the model fetch and the backup: the fleet's, else the constructs' default.
    const awsCliImage = props.fleet.modelFetcher && imageRef(props.fleet.modelFetcher);
    const cache = env.redis
      ? new RedisCache(this, 'PredictionCache', {
        namespace: env.namespace,
        partOf: props.fleet.name,
        cpu: env.redis.cpu,
        memory: env.redis.memory,
        evictionPolicy: env.redis.evictionPolicy,
        persistence: env.redis.persistence ? RedisPersistence.appendOnly(env.redis.persistence) : RedisPersistence.none(),
      })
      : undefined;
    const services = new Map<string, TorchServeService>();
    const archives: string[] = [];
    for (const model of models) {
      const release = props.releases?.[model.name] ?? (model.version !== undefined && model.mar !== undefined ? { version: model.version, mar: model.mar } : undefined);
      if (release === undefined) {
        throw new Error(`${this.node.path}: model "${model.name}" has no version and mar in the fleet file, and releases names none; resolve them with resolveReleases`);
      }
      archives.push(release.mar);
      services.set(model.name, new TorchServeService(this, toResourceName(model.name), {
        namespace: env.namespace,
        partOf: props.fleet.name,
        modelName: model.name,
        modelVersion: release.version,
        modelArchive: ModelArchive.fromUri(release.mar),
        handler: model.handler,
        image: servingImageOf(props.fleet, model).ref,
        modelFetcherImage: awsCliImage,
        pythonPackageIndex: model.installAtLoad?.indexUrl,
        replicas: env.replicas,
        cpu: env.resources.cpu,
        memory: env.resources.memory,
        gpuCount: env.resources.gpu,
        ephemeralStorage: env.resources.ephemeralStorage,
        jvmHeap: env.resources.jvmHeap,
        batchSize: model.batchSize,
        maxBatchDelay: optionalDuration(model.maxBatchDelayMs, Duration.millis),
        minWorkers: model.workers?.min,
        maxWorkers: model.workers?.max,
        responseTimeout: optionalDuration(model.responseTimeoutSeconds, Duration.seconds),
        startupTimeout: optionalDuration(model.startupTimeoutSeconds, Duration.seconds),
        gpuMemoryFraction: model.gpuMemoryFraction,
        enableGrpc: env.grpc,
        nodeSelector: env.placement?.nodeSelector,
        tolerations: env.placement?.tolerations,
        allowSpot: env.placement?.spot,
        iamRoleArn: env.serviceAccount?.roleArn,
        workload: strategies.get(model.name)!.needsRollout ? WorkloadKind.ROLLOUT : WorkloadKind.DEPLOYMENT,
        maxReplicas: Math.max(env.replicas, env.autoscaling?.maxReplicas ?? 0),
        env: cache?.connectionEnv(),
      }));
    }
    this.services = services;
    // Each model's release owns its canary or preview Service; the route sends traffic to it,
    // and the release is judged by the route's metrics once monitoring exists (judgeBy below).
    const releases = new Map<string, ModelRelease>();
    const gates = env.strategy.gates;
    for (const service of this.services.values()) {
      releases.set(service.modelName, new ModelRelease(this, `${service.name}-release`, {
        service,
        strategy: strategies.get(service.modelName)!,
        gates: {
          maxErrorRate: gates?.maxErrorRate,
          maxP95Latency: optionalDuration(gates?.maxP95LatencyMs, Duration.millis),
          interval: optionalDuration(gates?.intervalSeconds, Duration.seconds),
          count: gates?.count,
          failureLimit: gates?.failureLimit,
          minRequests: gates?.minRequests,
          prometheusAddress: env.prometheus?.url,
        },
      }));
    }
    this.releases = releases;
    this.routes = env.gateway ? this.addGateway(props.fleet.name, env.namespace, env.gateway, renderedProvider(env.gateway, strategies.values()), releases) : new Map();

    const gpuMetrics = gpuMetricsOf(env);
    const autoscalers = new Map<string, ModelAutoscaler>();
    const scaling = env.autoscaling;
    if (scaling) {
      for (const service of this.services.values()) {
        autoscalers.set(service.modelName, new ModelAutoscaler(this, `${service.name}-autoscaler`, {
          service,
          backend: scaling.backend as ScalingBackend | undefined,
          // Left out, the floor is the service's replicas.
          minReplicas: scaling.minReplicas,
          maxReplicas: scaling.maxReplicas,
          prometheusUrl: env.prometheus?.url,
          cpuUtilization: scaling.cpuUtilization,
          memoryUtilization: scaling.memoryUtilization,
          queueWaitTarget: optionalDuration(scaling.queueWaitTargetMs, Duration.millis),
          gpuUtilization: scaling.gpuUtilization,
          gpuMetrics: scaling.gpuUtilization !== undefined ? gpuMetrics : undefined,
          scaleUpStabilization: optionalDuration(scaling.scaleUp?.stabilizationSeconds, Duration.seconds),
          scaleUpPods: scaling.scaleUp?.pods,
          scaleUpPeriod: optionalDuration(scaling.scaleUp?.periodSeconds, Duration.seconds),
          scaleDownStabilization: optionalDuration(scaling.scaleDown?.stabilizationSeconds, Duration.seconds),
          scaleDownPods: scaling.scaleDown?.pods,
          scaleDownPeriod: optionalDuration(scaling.scaleDown?.periodSeconds, Duration.seconds),
          peakHours: scaling.peakHours,
        }));
      }
    }
    this.autoscalers = autoscalers;
    const bundles = new Map<string, MonitoringBundle>();
    const monitoring = env.monitoring;
    if (monitoring) {
      for (const service of this.services.values()) {
        bundles.set(service.modelName, new MonitoringBundle(this, `${service.name}-monitoring`, {
          service,
          route: this.routes.get(service.modelName),
          requestAlerts: monitoring.requestAlerts,
          environment: props.environment,
          runbookBaseUrl: monitoring.runbookBaseUrl,
          prometheusSelectorLabels: monitoring.prometheusSelectorLabels,
          scrapeInterval: optionalDuration(monitoring.scrapeIntervalSeconds, Duration.seconds),
          gpuMetrics,
          latencyThreshold: optionalDuration(monitoring.thresholds?.latencyP95Ms, Duration.millis),
          errorRatioThreshold: monitoring.thresholds?.errorRatio,
          gpuMemoryThreshold: monitoring.thresholds?.gpuMemoryRatio,
          podRestartsThreshold: monitoring.thresholds?.podRestarts,
          queueWaitThreshold: optionalDuration(monitoring.thresholds?.queueWaitMs, Duration.millis),
          modelLoadingGracePeriod: optionalDuration(monitoring.thresholds?.modelLoadingMinutes, Duration.minutes),
          dashboardLabels: monitoring.dashboard?.labels,
          dashboardFolder: monitoring.dashboard?.folder,
          dashboardFolderAnnotation: monitoring.dashboard?.folderAnnotation,
          grafanaDatasource: monitoring.dashboard?.datasource,
        }));
      }
    }
    this.monitoring = bundles;

    for (const [model, release] of releases) {
      const route = this.routes.get(model);
      if (route) release.judgeBy(route, { replicaSetScrape: this.monitoring.get(model) });
    }
    this.usesGatewayApiPlugin = [...releases.values()].some((r) => r.usesGatewayApiPlugin);
    if (this.usesGatewayApiPlugin) {
      const controllerNamespace = props.fleet.argoRollouts?.namespace;
      new GatewayApiPluginAccess(this, 'ArgoRolloutsPluginAccess', {
        namespace: env.namespace,
        controller: controllerNamespace ? { name: 'argo-rollouts', namespace: controllerNamespace } : undefined,
        labels: { [LABEL_COMPONENT]: 'release' },
      });
    }

    const gatewayNamespaces = env.network?.gatewayNamespaces ?? [providerOf(env.gateway as GatewayConfig).defaultNamespace];
    const policies = new Map<string, ModelNetworkPolicy>();
    for (const service of this.services.values()) {
      policies.set(service.modelName, new ModelNetworkPolicy(this, `${service.name}-network-policy`, {
        service,
        gatewayNamespaces,
        monitoringNamespaces: env.network?.monitoringNamespaces,
        managementNamespaces: env.network?.managementNamespaces,
        managementCidrs: env.network?.managementCidrs,
        objectStorageCidrs: env.network?.objectStorageCidrs,
        grpc: env.grpc,
      }));
    }
    this.networkPolicies = policies;
    // Both sides at once: the model may connect, the cache admits it.
    if (cache) for (const policy of policies.values()) policy.connectTo(cache);
    for (const model of models) {
      if (model.installAtLoad) policies.get(model.name)!.addEgress(packageIndexEgressRule(model.installAtLoad.indexUrl, model.installAtLoad.indexCidrs));
    }
    if (env.backup) {
      new ModelStoreBackup(this, 'ModelStoreBackup', {
        namespace: env.namespace,
        partOf: props.fleet.name,
        // resolveReleases guarantees one bucket when no source is given.
        source: env.backup.source ?? props.modelStore ?? (modelStorePrefix(archives) as string),
        destination: env.backup.destination,
        iamRoleArn: env.backup.roleArn,
        schedule: env.backup.schedule,
        timeZone: env.backup.timeZone,
        storageClass: env.backup.storageClass,
        image: awsCliImage,
        objectStorageCidrs: env.network?.objectStorageCidrs,
      });
    }

    // Every model may double at its largest size during a rollout (surge, blue-green preview).
    // The models share the environment's resources, counted per pod as the services resolved them.
    const perPod = [...this.services.values()][0]?.podResources;
    const ceiling = Math.max(env.replicas, env.autoscaling?.maxReplicas ?? 0);
    const pods = models.length * ceiling * 2;
    const all = (amount: (resources: PodResources) => number): number => (perPod ? pods * amount(perPod) : 0);
    new NamespaceGuardrails(this, 'Guardrails', {
      namespace: env.namespace,
      labels: { [LABEL_COMPONENT]: 'guardrails' },
      budget: {
        pods: pods + QUOTA_SPARE_PODS,
        cpu: all((r) => parseQuantity(r.cpu)) + QUOTA_SPARE_CPU,
        memoryBytes: all((r) => parseQuantity(r.memory)) + QUOTA_SPARE_MEMORY_BYTES,
        ephemeralStorageBytes: all((r) => parseQuantity(r.ephemeralStorage)) + QUOTA_SPARE_MEMORY_BYTES,
        gpus: all((r) => r.gpuCount),
      },
    });
  }

  private addGateway(fleetName: string, namespace: string, gateway: GatewayConfig, provider: GatewayProvider, releases: ReadonlyMap<string, ModelRelease>): Map<string, GatewayRoute> {
    // className names the GatewayClass of a Gateway API gateway, else the IngressClass; a Kong
    // Ingress served through Kong's Gateway API support keeps its class for the Gateway.
    const rendersGateway = provider.kind === GatewayKind.GATEWAY_API;
    const frontend = new GatewayFrontend(this, 'Gateway', {
      gateway: provider,
      name: fleetName,
      namespace,
      hosts: [gateway.host, ...(gateway.management ? [gateway.management.host] : [])],
      tlsIssuerName: gateway.tls.issuer,
      tlsIssuerKind: gateway.tls.issuerKind as IssuerKind,
      gatewayClassName: rendersGateway ? gateway.className : undefined,
      jwtCredentialSecrets: gateway.jwt?.credentialSecrets,
      labels: { [LABEL_COMPONENT]: 'gateway' },
    });
    const routes = new Map<string, GatewayRoute>();
    // All models share the host; /ping can go to one of them, the first in the fleet file.
    [...this.services.values()].forEach((service, index) => {
      const release = releases.get(service.modelName);
      routes.set(service.modelName, frontend.addRoute(`${service.name}-route`, {
        className: rendersGateway ? undefined : gateway.className,
        service,
        host: gateway.host,
        routeHealthCheck: index === 0,
        managementHost: gateway.management?.host,
        managementAllowFrom: gateway.management?.allowFrom,
        requireJwt: gateway.jwt !== undefined,
        jwtAuthUrl: gateway.jwt?.authUrl,
        rateLimitPerSecond: gateway.rateLimit?.requestsPerSecond,
        rateLimitBurst: gateway.rateLimit?.burst,
        cacheGetResponses: gateway.cache,
        canary: release?.canaryBackend,
        preview: release?.previewBackend,
        metricsHonorLabels: gateway.metricsHonorLabels,
      }));
    });
    return routes;
  }
}
