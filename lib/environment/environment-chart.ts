import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import type { FleetConfig } from '../fleet';
import { LABEL_MANAGED_BY, LABEL_PART_OF, MANAGED_BY } from '../private/labels';
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
  }
}
