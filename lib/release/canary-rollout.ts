import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import type { GatewayRoute, RequestMetrics } from '../gateway';
import { DEFAULT_PROMETHEUS_URL, ROLLOUTS_POD_TEMPLATE_HASH, type ReplicaSetScrape, TorchServeMetrics, prometheusUrlProblem } from '../monitoring';
import { ValidationError } from '../private/validation-error';
import { type TorchServeService, WorkloadKind } from '../torchserve';
import { type ReleaseStrategy, ReleaseType } from './release-strategy';

/** The metric gates every canary step and blue-green promotion must pass. */
export interface ReleaseGates {
  /** Largest acceptable share of 5xx responses. @default 0.05 */
  readonly maxErrorRate?: number;
  /**
   * Largest acceptable p95 latency. Where the gateway cannot tell canary requests apart, the
   * gate compares TorchServe's mean latency of the canary pods with it (TorchServe has no
   * latency histogram). @default Duration.millis(500)
   */
  readonly maxP95Latency?: Duration;
  /** Time between measurements. @default Duration.minutes(1) */
  readonly interval?: Duration;
  /** Measurements per analysis. @default 3 */
  readonly count?: number;
  /** Failed measurements tolerated before the release aborts. @default 1 */
  readonly failureLimit?: number;
  /**
   * Fewest requests the measured version must have answered within a measurement's window for
   * the measurement to judge it. Below that (no traffic, no series at all) the measurement is
   * inconclusive, never a pass: the analysis ends Inconclusive and the Rollout pauses until
   * someone promotes or aborts it. @default 30
   */
  readonly minRequests?: number;
  /** The environment's Prometheus, which scrapes the gateway and TorchServe. @default DEFAULT_PROMETHEUS_URL */
  readonly prometheusAddress?: string;
}

/**
 * What one AnalysisTemplate measures, as PromQL: how many requests it saw, their 5xx ratio and
 * their latency in seconds.
 */
interface GateSignals {
  /** What the signals are, for the template's `model-serving/measures` annotation. */
  readonly measures: string;
  /** The latency metric's name: "p95-latency", or "mean-latency" for TorchServe's counters. */
  readonly latencyMetric: string;
  requestCount(window: string): string;
  errorRatio(window: string): string;
  latencySeconds(window: string): string;
  /** Arguments the template declares and each analysis step passes. */
  readonly args: readonly { readonly name: string; readonly valueFrom: Record<string, unknown> }[];
}

/** The argument carrying the new ReplicaSet's pod-template hash. */
const CANARY_HASH_ARG = 'canary-hash';

function gatewaySignals(metrics: RequestMetrics, what: string): GateSignals {
  return {
    measures: `${what} (${metrics.source}): 5xx ratio and p95 latency at the gateway`,
    latencyMetric: 'p95-latency',
    requestCount: (w) => metrics.requestCount(w),
    errorRatio: (w) => metrics.errorRatio(w),
    latencySeconds: (w) => metrics.latencyQuantile(0.95, w),
    args: [],
  };
}

function replicaSetSignals(service: TorchServeService): GateSignals {
  const metrics = TorchServeMetrics.of(service, { podTemplateHash: `{{args.${CANARY_HASH_ARG}}}` });
  return {
    measures: "the canary only: TorchServe's own metrics of the new ReplicaSet's pods, 5xx responses per prediction request and MEAN latency (queue wait included; TorchServe has no histogram, so no p95)",
    latencyMetric: 'mean-latency',
    requestCount: (w) => metrics.requestCount(w),
    errorRatio: (w) => metrics.serverErrorRatio(w),
    latencySeconds: (w) => metrics.meanLatencySeconds(w),
    args: [{ name: CANARY_HASH_ARG, valueFrom: { podTemplateHashValue: 'Latest' } }],
  };
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
  /**
   * The scrape of the model's TorchServe metrics (its MonitoringBundle), which must copy
   * `rollouts-pod-template-hash` onto the series. A canary needs it when the gateway reports
   * stable and canary requests together (Kong and Envoy Gateway HTTPRoutes): the gates then read
   * the new ReplicaSet's pods. @default - none; such a canary fails at construction
   */
  readonly replicaSetScrape?: ReplicaSetScrape;
}

/**
 * Releases a model version by the chosen strategy. Rolling keeps the Deployment's zero-downtime
 * update. Canary and blue-green drive an Argo Rollout: traffic is split by the environment's
 * gateway (an NGINX canary Ingress, a weighted TraefikService, or HTTPRoute weights through the
 * Argo Rollouts Gateway API plugin), and every step must pass an AnalysisTemplate that checks
 * the NEW version's error rate and latency alone: the gateway's series of the canary backend, or
 * TorchServe's metrics of the new ReplicaSet's pods where the gateway shares one upstream.
 * Blue-green judges the preview's requests before promotion and live traffic after. The gates
 * fail closed: no data, or fewer than `minRequests` requests, is Inconclusive and pauses the
 * Rollout; a failure aborts it.
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
    const label = route!.gateway.label;
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
      if (!route!.requestMetrics) fail('NoRequestMetrics', `gateway "${label}" exports no per-route request metrics, so canary steps cannot be analysed`);
      const signals = route!.canaryRequestMetrics
        ? gatewaySignals(route!.canaryRequestMetrics, "the canary only: the gateway's series of the canary Service")
        : this.replicaSetGates(service, label, props.replicaSetScrape, fail);
      copyInferenceService(canaryService, 'canary');
      this.analysisTemplateName = this.defineGates(service, `${service.name}-release-gates`, signals, gates);
      const analysisArgs = signals.args.map((arg) => ({ name: arg.name, valueFrom: arg.valueFrom }));
      const { weights, pause } = strategy.canaryOptions!;
      // The gateway says how Argo Rollouts shifts its weights.
      const trafficRouting = route!.gateway.canaryTrafficRouting(route!.predictionRouteName, service.namespace);
      this.usesGatewayApiPlugin = route!.gateway.usesGatewayApiPlugin;
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
            { analysis: { templates: [{ templateName: this.analysisTemplateName }], ...(analysisArgs.length > 0 ? { args: analysisArgs } : {}) } },
          ]),
        },
      });
    } else {
      const previewService = route!.previewServiceName ?? fail('RouteNotPrepared', "the GatewayRoute must be created with 'preview: true'");
      const previewMetrics = route!.previewRequestMetrics ?? fail('NoRequestMetrics', `gateway "${label}" exports no per-route request metrics, so the preview cannot be analysed`);
      copyInferenceService(previewService, 'preview');
      // Before promotion only the preview's requests (those with the preview header) count.
      this.analysisTemplateName = this.defineGates(service, `${service.name}-preview-gates`, gatewaySignals(previewMetrics, "the preview only: the gateway's series of the preview route"), gates);
      // After the switch the active Service selects the new pods: live traffic judges them.
      const live = route!.liveRequestMetrics;
      const activeGates = live ? this.defineGates(service, `${service.name}-release-gates`, gatewaySignals(live, 'live traffic after promotion: the prediction route without preview requests'), gates) : undefined;
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

  /** Gates on the new ReplicaSet's pods, for a gateway that cannot tell canary requests apart. */
  private replicaSetGates(service: TorchServeService, label: string, scrape: ReplicaSetScrape | undefined, fail: (code: string, message: string) => never): GateSignals {
    if (!scrape?.podTargetLabels.includes(ROLLOUTS_POD_TEMPLATE_HASH)) {
      fail('NoCanaryMetrics', `gateway "${label}" reports stable and canary requests together, so the gates read TorchServe's metrics of the new ReplicaSet's pods; pass 'replicaSetScrape' (the model's MonitoringBundle), whose ServiceMonitor copies ${ROLLOUTS_POD_TEMPLATE_HASH} onto the series`);
    }
    return replicaSetSignals(service);
  }

  /**
   * An AnalysisTemplate that fails closed. Each query yields a value only when the measured
   * version answered at least `minRequests` requests in the window; otherwise it is empty. The
   * conditions read an empty result or NaN as neither success nor failure, which Argo Rollouts
   * records as Inconclusive: the analysis stops there and the Rollout pauses, never promotes.
   */
  private defineGates(service: TorchServeService, name: string, signals: GateSignals, gates: Required<ReleaseGates>): string {
    const window = `${Math.max(60, gates.interval.toSeconds() * 2)}s`;
    const measurement = {
      interval: `${gates.interval.toSeconds()}s`,
      count: gates.count,
      failureLimit: gates.failureLimit,
      // Explicit for reviewers: the first inconclusive measurement ends the analysis Inconclusive.
      inconclusiveLimit: 0,
    };
    const enoughTraffic = `(${signals.requestCount(window)} >= ${gates.minRequests})`;
    const prometheus = (query: string) => ({ prometheus: { address: gates.prometheusAddress, timeout: 30, query: `(${query}) and ${enoughTraffic}` } });
    const judged = 'len(result) == 1 && !isNaN(result[0])';
    const maxLatencySeconds = gates.maxP95Latency.toMilliseconds() / 1000;
    new ApiObject(this, name, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: {
        name,
        namespace: service.namespace,
        labels: service.labelsFor('release'),
        annotations: { 'model-serving/measures': signals.measures },
      },
      spec: {
        ...(signals.args.length > 0 ? { args: signals.args.map((arg) => ({ name: arg.name })) } : {}),
        metrics: [
          {
            name: 'error-rate',
            ...measurement,
            successCondition: `${judged} && result[0] < ${gates.maxErrorRate}`,
            failureCondition: `${judged} && result[0] >= ${gates.maxErrorRate}`,
            provider: prometheus(signals.errorRatio(window)),
          },
          {
            name: signals.latencyMetric,
            ...measurement,
            successCondition: `${judged} && result[0] < ${maxLatencySeconds}`,
            failureCondition: `${judged} && result[0] >= ${maxLatencySeconds}`,
            provider: prometheus(signals.latencySeconds(window)),
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
    minRequests: gates.minRequests ?? 30,
    prometheusAddress: gates.prometheusAddress ?? DEFAULT_PROMETHEUS_URL,
  };
  if (!(resolved.maxErrorRate > 0 && resolved.maxErrorRate < 1)) fail('InvalidGate', `'maxErrorRate' (${resolved.maxErrorRate}) must be between 0 and 1`);
  if (!Number.isInteger(resolved.count) || resolved.count < 1) fail('InvalidGate', `'count' (${resolved.count}) must be a positive integer`);
  if (!Number.isInteger(resolved.failureLimit) || resolved.failureLimit < 0 || resolved.failureLimit >= resolved.count) {
    fail('InvalidGate', `'failureLimit' (${resolved.failureLimit}) must be from 0 to count - 1 (${resolved.count - 1}), or a release could never fail`);
  }
  if (!Number.isInteger(resolved.minRequests) || resolved.minRequests < 1) fail('InvalidGate', `'minRequests' (${resolved.minRequests}) must be a positive integer: with 0, no traffic at all would pass`);
  const urlProblem = prometheusUrlProblem(resolved.prometheusAddress);
  if (urlProblem) fail('InvalidGate', `'prometheusAddress' ("${resolved.prometheusAddress}") ${urlProblem}`);
  return resolved;
}
