import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { GatewayKind, type GatewayRoute, type RequestMetrics, gatewayLabel } from '../gateway';
import { ValidationError } from '../private/validation-error';
import { type TorchServeService, WorkloadKind } from '../torchserve';
import { type ReleaseStrategy, ReleaseType } from './release-strategy';

/** The Argo Rollouts Gateway API traffic router plugin's name. */
export const GATEWAY_API_PLUGIN = 'argoproj-labs/gatewayAPI';

/** The metric gates every canary step and blue-green promotion must pass. */
export interface ReleaseGates {
  /** Largest acceptable share of 5xx responses. @default 0.05 */
  readonly maxErrorRate?: number;
  /** Largest acceptable p95 latency. @default Duration.millis(500) */
  readonly maxP95Latency?: Duration;
  /** Time between measurements. @default Duration.minutes(1) */
  readonly interval?: Duration;
  /** Measurements per analysis. @default 3 */
  readonly count?: number;
  /** Failed measurements tolerated before the release aborts. @default 1 */
  readonly failureLimit?: number;
  /** Prometheus that scrapes the gateway. @default 'http://prometheus-operated.monitoring.svc:9090' */
  readonly prometheusAddress?: string;
}

/** Properties of a {@link CanaryRollout}. */
export interface CanaryRolloutProps {
  /** The model to release. For canary and blue-green it must run as `WorkloadKind.ROLLOUT`. */
  readonly service: TorchServeService;
  readonly strategy: ReleaseStrategy;
  /**
   * The model's gateway route: created with `canary: true` for a canary, `preview: true` for
   * blue-green. Its request metrics feed the analysis. @default - required for canary and blue-green
   */
  readonly route?: GatewayRoute;
  /** @default - the defaults of each {@link ReleaseGates} field */
  readonly gates?: ReleaseGates;
}

/**
 * Releases a model version by the chosen strategy. Rolling keeps the Deployment's zero-downtime
 * update. Canary and blue-green drive an Argo Rollout: traffic is split by the environment's
 * gateway (an NGINX canary Ingress, a weighted TraefikService, or HTTPRoute weights through the
 * Argo Rollouts Gateway API plugin), and every step must pass an AnalysisTemplate that checks
 * the gateway's error rate and p95 latency, the same metrics the alerts use; a failure aborts.
 *
 * @see https://argo-rollouts.readthedocs.io/en/stable/features/canary/
 */
export class CanaryRollout extends Construct {
  /** The AnalysisTemplate with the release gates, if the strategy analyses. */
  public readonly analysisTemplateName?: string;
  /** Whether the Argo Rollouts Gateway API plugin must be installed for this release. */
  public readonly usesGatewayApiPlugin: boolean;

  constructor(scope: Construct, id: string, props: CanaryRolloutProps) {
    super(scope, id);
    const fail = (code: string, message: string): never => {
      throw new ValidationError(`CanaryRollout.${code}`, message, this);
    };
    const { service, strategy, route } = props;
    this.usesGatewayApiPlugin = false;
    if (strategy.type === ReleaseType.ROLLING) {
      if (service.workloadRef.kind !== WorkloadKind.DEPLOYMENT) fail('WrongWorkload', 'a rolling release runs as a Deployment; create the service with the default workload');
      return;
    }
    if (service.workloadRef.kind !== WorkloadKind.ROLLOUT) {
      fail('WrongWorkload', `a ${strategy.type} release runs as an Argo Rollout; create the service with workload: WorkloadKind.ROLLOUT`);
    }
    if (!route) fail('NoGateway', `a ${strategy.type} release needs the model's GatewayRoute: the gateway splits the traffic and its metrics gate each step`);
    const gates = resolveGates(props.gates ?? {}, fail);
    const label = gatewayLabel(route!.kind, route!.implementation);
    const copyInferenceService = (name: string, component: string): void => {
      const source = service.inferenceService.toJson();
      new k8s.KubeService(this, `${component}Service`, {
        metadata: {
          name,
          namespace: service.namespace,
          labels: service.labelsFor(component),
          // Kong reads upstream timeouts from the Service; keep them identical to the stable one.
          ...(source.metadata.annotations ? { annotations: source.metadata.annotations } : {}),
        },
        spec: {
          type: 'ClusterIP',
          // Argo Rollouts adds the rollouts-pod-template-hash selector to this Service itself.
          selector: { ...service.selectorLabels },
          ports: source.spec.ports.map((p: { name: string; port: number; targetPort: string }) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromString(p.targetPort), protocol: 'TCP' })),
        },
      });
    };

    if (strategy.type === ReleaseType.CANARY) {
      const canaryService = route!.canaryServiceName ?? fail('RouteNotPrepared', "the GatewayRoute must be created with 'canary: true'");
      const metrics = route!.requestMetrics ?? fail('NoRequestMetrics', `gateway "${label}" exports no per-route request metrics, so canary steps cannot be analysed`);
      copyInferenceService(canaryService, 'canary');
      this.analysisTemplateName = this.defineGates(service, `${service.name}-release-gates`, metrics, gates);
      const { weights, pause } = strategy.canaryOptions!;
      const trafficRouting = (() => {
        switch (route!.kind) {
          case GatewayKind.NGINX: return { nginx: { stableIngress: route!.predictionRouteName } };
          case GatewayKind.TRAEFIK: return { traefik: { weightedTraefikServiceName: route!.predictionRouteName } };
          case GatewayKind.GATEWAY_API: return { plugins: { [GATEWAY_API_PLUGIN]: { httpRoute: route!.predictionRouteName, namespace: service.namespace } } };
          default: return fail('UnsupportedGateway', `gateway "${label}" cannot split canary traffic; use gateway-api`);
        }
      })();
      this.usesGatewayApiPlugin = route!.kind === GatewayKind.GATEWAY_API;
      service.setRolloutStrategy({
        canary: {
          stableService: service.inferenceService.name,
          canaryService,
          maxUnavailable: 0,
          abortScaleDownDelaySeconds: 30,
          trafficRouting,
          steps: weights.flatMap((weight) => [
            { setWeight: weight },
            { pause: { duration: `${pause.toSeconds()}s` } },
            { analysis: { templates: [{ templateName: this.analysisTemplateName }] } },
          ]),
        },
      });
    } else {
      const previewService = route!.previewServiceName ?? fail('RouteNotPrepared', "the GatewayRoute must be created with 'preview: true'");
      const previewMetrics = route!.previewRequestMetrics ?? fail('NoRequestMetrics', `gateway "${label}" exports no per-route request metrics, so the preview cannot be analysed`);
      copyInferenceService(previewService, 'preview');
      this.analysisTemplateName = this.defineGates(service, `${service.name}-preview-gates`, previewMetrics, gates);
      const activeGates = route!.requestMetrics ? this.defineGates(service, `${service.name}-release-gates`, route!.requestMetrics, gates) : undefined;
      const { autoPromotionEnabled, scaleDownDelay } = strategy.blueGreenOptions!;
      service.setRolloutStrategy({
        blueGreen: {
          activeService: service.inferenceService.name,
          previewService,
          autoPromotionEnabled,
          // The old version stays up this long after promotion, so a rollback is instant.
          scaleDownDelaySeconds: scaleDownDelay.toSeconds(),
          prePromotionAnalysis: { templates: [{ templateName: this.analysisTemplateName }] },
          // After the switch, the same gates on live traffic; a failure switches back.
          ...(activeGates ? { postPromotionAnalysis: { templates: [{ templateName: activeGates }] } } : {}),
        },
      });
    }
  }

  private defineGates(service: TorchServeService, name: string, metrics: RequestMetrics, gates: Required<ReleaseGates>): string {
    const window = `${Math.max(60, gates.interval.toSeconds() * 2)}s`;
    const measurement = {
      interval: `${gates.interval.toSeconds()}s`,
      count: gates.count,
      failureLimit: gates.failureLimit,
    };
    const prometheus = (query: string) => ({ prometheus: { address: gates.prometheusAddress, timeout: 30, query } });
    new ApiObject(this, name, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: { name, namespace: service.namespace, labels: service.labelsFor('release') },
      spec: {
        metrics: [
          {
            name: 'error-rate',
            ...measurement,
            // No traffic yet gives an empty result; that is not a failure.
            successCondition: `len(result) == 0 || result[0] < ${gates.maxErrorRate}`,
            provider: prometheus(metrics.errorRatio(window)),
          },
          {
            name: 'p95-latency',
            ...measurement,
            successCondition: `len(result) == 0 || isNaN(result[0]) || result[0] < ${gates.maxP95Latency.toMilliseconds() / 1000}`,
            provider: prometheus(metrics.latencyQuantile(0.95, window)),
          },
        ],
      },
    });
    return name;
  }
}

function resolveGates(gates: ReleaseGates, fail: (code: string, message: string) => never): Required<ReleaseGates> {
  const resolved = {
    maxErrorRate: gates.maxErrorRate ?? 0.05,
    maxP95Latency: gates.maxP95Latency ?? Duration.millis(500),
    interval: gates.interval ?? Duration.minutes(1),
    count: gates.count ?? 3,
    failureLimit: gates.failureLimit ?? 1,
    prometheusAddress: gates.prometheusAddress ?? 'http://prometheus-operated.monitoring.svc:9090',
  };
  if (!(resolved.maxErrorRate > 0 && resolved.maxErrorRate < 1)) fail('InvalidGate', `'maxErrorRate' (${resolved.maxErrorRate}) must be between 0 and 1`);
  if (!Number.isInteger(resolved.count) || resolved.count < 1) fail('InvalidGate', `'count' (${resolved.count}) must be a positive integer`);
  if (!Number.isInteger(resolved.failureLimit) || resolved.failureLimit < 0 || resolved.failureLimit >= resolved.count) {
    fail('InvalidGate', `'failureLimit' (${resolved.failureLimit}) must be from 0 to count - 1 (${resolved.count - 1}), or a release could never fail`);
  }
  if (!/^https?:\/\/[^\s]+$/.test(resolved.prometheusAddress)) fail('InvalidGate', `'prometheusAddress' ("${resolved.prometheusAddress}") must be an http(s) URL`);
  return resolved;
}
