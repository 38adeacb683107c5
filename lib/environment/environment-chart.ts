import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { type EnvironmentConfig, type FleetConfig, type GatewayConfig, modelReleaseType } from '../fleet';
import { GatewayApiImplementation, GatewayFrontend, GatewayKind, GatewayRoute, IssuerKind } from '../gateway';
import { ModelNetworkPolicy, NamespaceGuardrails } from '../isolation';
import { parseQuantity } from '../private/quantity';
import { LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_PART_OF, MANAGED_BY } from '../private/labels';
import { toResourceName } from '../private/names';
import { GpuAutoscaler, ScalingBackend } from '../autoscaling';
import { packageIndexEgressRule, servingImageOf } from '../image';
import { imageRef } from '../private/image-ref';
import { RedisCache, RedisPersistence } from '../cache';
import { ModelStoreBackup, modelStorePrefix } from '../operations';
import { GpuMetrics, MonitoringBundle } from '../monitoring';
import { CanaryRollout, GatewayApiPluginAccess, ReleaseStrategy, ReleaseType } from '../release';
import { ModelArchive, TorchServeService, WorkloadKind } from '../torchserve';

/** Room in the quota for one-off pods (backups, packaging jobs, debugging). */
const QUOTA_SPARE_PODS = 4;
const QUOTA_SPARE_CPU = 4;
const QUOTA_SPARE_MEMORY_BYTES = 8 * 2 ** 30;

/** Where each gateway's proxies usually run; `network.gatewayNamespaces` overrides it. */
function defaultGatewayNamespace(gateway: GatewayConfig): string {
  switch (gateway.kind) {
    case GatewayKind.NGINX: return 'ingress-nginx';
    case GatewayKind.KONG: return 'kong';
    case GatewayKind.TRAEFIK: return 'traefik';
    default:
      switch (gateway.implementation) {
        case GatewayApiImplementation.TRAEFIK: return 'traefik';
        case GatewayApiImplementation.ENVOY_GATEWAY: return 'envoy-gateway-system';
        case GatewayApiImplementation.NGINX_GATEWAY_FABRIC: return 'nginx-gateway';
        default: return 'kong';
      }
  }
}

/** Where the environment's GPU metrics come from (monitoring.gpuMetrics; DCGM by default). */
function gpuMetricsOf(env: EnvironmentConfig): GpuMetrics {
  const gpu = env.monitoring?.gpuMetrics;
  if (gpu?.source === 'torchserve') return GpuMetrics.torchServe();
  return gpu?.dcgmHonorLabels ? GpuMetrics.dcgm({ namespaceLabel: 'namespace', podLabel: 'pod' }) : GpuMetrics.dcgm();
}

function releaseStrategy(config: EnvironmentConfig['strategy'], type: EnvironmentConfig['strategy']['type']): ReleaseStrategy {
  switch (type) {
    case 'canary': return ReleaseStrategy.canary({ weights: config.canary.weights, pause: Duration.seconds(config.canary.pauseSeconds) });
    case 'blue-green': return ReleaseStrategy.blueGreen({ autoPromotionEnabled: config.blueGreen.autoPromotion, scaleDownDelay: Duration.seconds(config.blueGreen.scaleDownDelaySeconds) });
    default: return ReleaseStrategy.rolling();
  }
}

/**
 * The gateway as rendered. A Kong Ingress cannot carry canary weights, and Argo Rollouts shifts
 * Kong traffic through HTTPRoutes (its Gateway API plugin), so a Kong canary is served by Kong's
 * Gateway API support: the same plugins, on a Gateway of class "kong".
 */
function gatewayFor(gateway: GatewayConfig, strategies: Iterable<ReleaseStrategy>): GatewayConfig {
  if (gateway.kind === GatewayKind.KONG && [...strategies].some((s) => s.type === ReleaseType.CANARY)) {
    return { ...gateway, kind: GatewayKind.GATEWAY_API, implementation: GatewayApiImplementation.KONG, className: gateway.className ?? 'kong' };
  }
  return gateway;
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
  public readonly releases: ReadonlyMap<string, CanaryRollout>;
  /** Whether a canary here needs the Argo Rollouts Gateway API plugin installed. */
  public readonly usesGatewayApiPlugin: boolean;
  /** Whether a model here runs as an Argo Rollout (canary or blue-green), whose fields Argo Rollouts rewrites. */
  public readonly usesRollouts: boolean;
  /** The models' autoscalers, keyed by TorchServe model name; empty without `autoscaling`. */
  public readonly autoscalers: ReadonlyMap<string, GpuAutoscaler>;
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
    const strategies = new Map(models.map((m) => [m.name, releaseStrategy(env.strategy, modelReleaseType(env, m.name))]));
    this.usesRollouts = [...strategies.values()].some((s) => s.needsRollout);
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
        modelFetcherImage: imageRef(props.fleet.modelFetcher),
        pythonPackageIndex: model.installAtLoad?.indexUrl,
        replicas: env.replicas,
        cpu: env.resources.cpu,
        memory: env.resources.memory,
        gpuCount: env.resources.gpu,
        ephemeralStorage: env.resources.ephemeralStorage,
        jvmHeap: env.resources.jvmHeap,
        batchSize: model.batchSize,
        maxBatchDelay: Duration.millis(model.maxBatchDelayMs),
        minWorkers: model.workers.min,
        maxWorkers: model.workers.max,
        responseTimeout: Duration.seconds(model.responseTimeoutSeconds),
        startupTimeout: Duration.seconds(model.startupTimeoutSeconds),
        gpuMemoryFraction: model.gpuMemoryFraction,
        enableGrpc: env.grpc,
        nodeSelector: env.placement.nodeSelector,
        tolerations: env.placement.tolerations,
        allowSpot: env.placement.spot,
        iamRoleArn: env.serviceAccount.roleArn,
        workload: strategies.get(model.name)!.needsRollout ? WorkloadKind.ROLLOUT : WorkloadKind.DEPLOYMENT,
        maxReplicas: Math.max(env.replicas, env.autoscaling?.maxReplicas ?? 0),
        env: cache?.connectionEnv(),
      }));
    }
    this.services = services;
    for (const service of services.values()) cache?.allowFrom(service);
    this.routes = env.gateway ? this.addGateway(props.fleet.name, env.namespace, gatewayFor(env.gateway, strategies.values()), strategies) : new Map();

    const gpuMetrics = gpuMetricsOf(env);
    const autoscalers = new Map<string, GpuAutoscaler>();
    const scaling = env.autoscaling;
    if (scaling) {
      for (const service of this.services.values()) {
        autoscalers.set(service.modelName, new GpuAutoscaler(this, `${service.name}-autoscaler`, {
          service,
          backend: scaling.backend as ScalingBackend,
          minReplicas: scaling.minReplicas ?? env.replicas,
          maxReplicas: scaling.maxReplicas,
          prometheusUrl: env.prometheus?.url,
          cpuUtilization: scaling.cpuUtilization,
          memoryUtilization: scaling.memoryUtilization,
          queueWaitTarget: Duration.millis(scaling.queueWaitTargetMs),
          gpuUtilization: scaling.gpuUtilization,
          gpuMetrics: scaling.gpuUtilization !== undefined ? gpuMetrics : undefined,
          scaleUpStabilization: Duration.seconds(scaling.scaleUp.stabilizationSeconds),
          scaleUpPods: scaling.scaleUp.pods,
          scaleUpPeriod: Duration.seconds(scaling.scaleUp.periodSeconds),
          scaleDownStabilization: Duration.seconds(scaling.scaleDown.stabilizationSeconds),
          scaleDownPods: scaling.scaleDown.pods,
          scaleDownPeriod: Duration.seconds(scaling.scaleDown.periodSeconds),
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
          scrapeInterval: Duration.seconds(monitoring.scrapeIntervalSeconds),
          gpuMetrics,
          latencyThreshold: Duration.millis(monitoring.thresholds.latencyP95Ms),
          errorRatioThreshold: monitoring.thresholds.errorRatio,
          gpuMemoryThreshold: monitoring.thresholds.gpuMemoryRatio,
          podRestartsThreshold: monitoring.thresholds.podRestarts,
          queueWaitThreshold: Duration.millis(monitoring.thresholds.queueWaitMs),
          modelLoadingGracePeriod: Duration.minutes(monitoring.thresholds.modelLoadingMinutes),
          hpaName: autoscalers.get(service.modelName)?.hpaName,
          dashboardLabels: monitoring.dashboard.labels,
          dashboardFolder: monitoring.dashboard.folder,
          dashboardFolderAnnotation: monitoring.dashboard.folderAnnotation,
          grafanaDatasource: monitoring.dashboard.datasource,
        }));
      }
    }
    this.monitoring = bundles;

    const releases = new Map<string, CanaryRollout>();
    const gates = env.strategy.gates;
    for (const service of this.services.values()) {
      releases.set(service.modelName, new CanaryRollout(this, `${service.name}-release`, {
        service,
        strategy: strategies.get(service.modelName)!,
        route: this.routes.get(service.modelName),
        gates: {
          maxErrorRate: gates.maxErrorRate,
          maxP95Latency: Duration.millis(gates.maxP95LatencyMs),
          interval: Duration.seconds(gates.intervalSeconds),
          count: gates.count,
          failureLimit: gates.failureLimit,
          minRequests: gates.minRequests,
          prometheusAddress: env.prometheus?.url,
        },
        replicaSetScrape: this.monitoring.get(service.modelName),
      }));
    }
    this.releases = releases;
    this.usesGatewayApiPlugin = [...releases.values()].some((r) => r.usesGatewayApiPlugin);
    if (this.usesGatewayApiPlugin) {
      const controllerNamespace = props.fleet.argoRollouts?.namespace;
      new GatewayApiPluginAccess(this, 'ArgoRolloutsPluginAccess', {
        namespace: env.namespace,
        controller: controllerNamespace ? { name: 'argo-rollouts', namespace: controllerNamespace } : undefined,
        labels: { [LABEL_COMPONENT]: 'release' },
      });
    }

    const gatewayNamespaces = env.network.gatewayNamespaces ?? [defaultGatewayNamespace(env.gateway as GatewayConfig)];
    const policies = new Map<string, ModelNetworkPolicy>();
    for (const service of this.services.values()) {
      policies.set(service.modelName, new ModelNetworkPolicy(this, `${service.name}-network-policy`, {
        service,
        gatewayNamespaces,
        monitoringNamespaces: env.network.monitoringNamespaces,
        managementNamespaces: env.network.managementNamespaces,
        managementCidrs: env.network.managementCidrs,
        objectStorageCidrs: env.network.objectStorageCidrs,
        grpc: env.grpc,
      }));
    }
    this.networkPolicies = policies;
    if (cache) for (const policy of policies.values()) policy.addEgress(cache.egressRule());
    for (const model of props.fleet.models) {
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
        image: imageRef(props.fleet.modelFetcher),
        objectStorageCidrs: env.network.objectStorageCidrs,
      });
    }

    // Every model may double at its largest size during a rollout (surge, blue-green preview).
    const perPod = env.resources;
    const ceiling = Math.max(env.replicas, env.autoscaling?.maxReplicas ?? 0);
    const pods = models.length * ceiling * 2;
    new NamespaceGuardrails(this, 'Guardrails', {
      namespace: env.namespace,
      labels: { [LABEL_COMPONENT]: 'guardrails' },
      budget: {
        pods: pods + QUOTA_SPARE_PODS,
        cpu: pods * parseQuantity(perPod.cpu) + QUOTA_SPARE_CPU,
        memoryBytes: pods * parseQuantity(perPod.memory) + QUOTA_SPARE_MEMORY_BYTES,
        ephemeralStorageBytes: pods * parseQuantity(perPod.ephemeralStorage) + QUOTA_SPARE_MEMORY_BYTES,
        gpus: pods * perPod.gpu,
      },
    });
  }

  private addGateway(fleetName: string, namespace: string, gateway: GatewayConfig, strategies: ReadonlyMap<string, ReleaseStrategy>): Map<string, GatewayRoute> {
    const frontend = new GatewayFrontend(this, 'Gateway', {
      kind: gateway.kind as GatewayKind,
      implementation: gateway.implementation,
      name: fleetName,
      namespace,
      hosts: [gateway.host, ...(gateway.management ? [gateway.management.host] : [])],
      tlsIssuerName: gateway.tls.issuer,
      tlsIssuerKind: gateway.tls.issuerKind as IssuerKind,
      gatewayClassName: gateway.kind === 'gateway-api' ? gateway.className : undefined,
      jwtCredentialSecrets: gateway.jwt?.credentialSecrets,
      labels: { [LABEL_COMPONENT]: 'gateway' },
    });
    const routes = new Map<string, GatewayRoute>();
    // All models share the host; /ping can go to one of them, the first in the fleet file.
    [...this.services.values()].forEach((service, index) => {
      routes.set(service.modelName, new GatewayRoute(this, `${service.name}-route`, {
        kind: gateway.kind as GatewayKind,
        implementation: gateway.implementation,
        gatewayName: frontend.gatewayName,
        className: gateway.kind === 'gateway-api' ? undefined : gateway.className,
        service,
        host: gateway.host,
        tlsSecretName: frontend.tlsSecretName,
        routeHealthCheck: index === 0,
        managementHost: gateway.management?.host,
        managementAllowFrom: gateway.management?.allowFrom,
        requireJwt: gateway.jwt !== undefined,
        jwtAuthUrl: gateway.jwt?.authUrl,
        rateLimitPerSecond: gateway.rateLimit?.requestsPerSecond,
        rateLimitBurst: gateway.rateLimit?.burst,
        cacheGetResponses: gateway.cache,
        canary: strategies.get(service.modelName)!.type === ReleaseType.CANARY,
        preview: strategies.get(service.modelName)!.type === ReleaseType.BLUE_GREEN,
        metricsHonorLabels: gateway.metricsHonorLabels,
      }));
    });
    return routes;
  }
}
