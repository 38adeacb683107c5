import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import type { FleetConfig, GatewayConfig } from '../fleet';
import { GatewayFrontend, type GatewayKind, GatewayRoute, IssuerKind } from '../gateway';
import { LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_PART_OF, MANAGED_BY } from '../private/labels';
import { toResourceName } from '../private/names';
import { ModelArchive, TorchServeService } from '../torchserve';

/** Properties of an {@link EnvironmentChart}. */
export interface EnvironmentChartProps {
  /** The validated fleet file. */
  readonly fleet: FleetConfig;
  /** Which of `fleet.environments` this chart renders. */
  readonly environment: string;
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

    const services = new Map<string, TorchServeService>();
    for (const model of props.fleet.models) {
      services.set(model.name, new TorchServeService(this, toResourceName(model.name), {
        namespace: env.namespace,
        partOf: props.fleet.name,
        modelName: model.name,
        modelVersion: model.version,
        modelArchive: ModelArchive.fromUri(model.mar),
        handler: model.handler,
        image: `${props.fleet.image.repository}:${props.fleet.image.tag}`,
        modelFetcherImage: `${props.fleet.modelFetcher.repository}:${props.fleet.modelFetcher.tag}`,
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
      }));
    }
    this.services = services;
    this.routes = env.gateway ? this.addGateway(props.fleet.name, env.namespace, env.gateway) : new Map();
  }

  private addGateway(fleetName: string, namespace: string, gateway: GatewayConfig): Map<string, GatewayRoute> {
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
      }));
    });
    return routes;
  }
}
