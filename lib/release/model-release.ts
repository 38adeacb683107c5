import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import {
  AnalysisTemplate, AnalysisTemplateSpecMetricsCount, AnalysisTemplateSpecMetricsFailureLimit, AnalysisTemplateSpecMetricsInconclusiveLimit,
} from '../../imports/analysistemplate-argoproj.io';
import * as k8s from '../../imports/k8s';
import { type RolloutSpecStrategy, RolloutSpecStrategyCanaryMaxUnavailable, RolloutSpecStrategyCanaryStepsPauseDuration } from '../../imports/rollout-argoproj.io';
import type { IModelRoute, RequestMetrics } from '../gateway';
import { DEFAULT_PROMETHEUS_URL, ROLLOUTS_POD_TEMPLATE_HASH, type ReplicaSetScrape, TorchServeMetrics, prometheusUrlProblem } from '../signals';
import { ValidationError } from '../core/validation-error';
import { type IRolloutStrategySource, type IServiceBackend, type ITorchServeWorkload, WorkloadKind } from '../torchserve';
import { type ReleaseStrategy, ReleaseType } from './release-strategy';

/** What {@link ReleaseGates} uses for a field left out; the fleet file leaves them out too. */
export const GATE_DEFAULTS = {
  maxErrorRate: 0.05,
  maxP95Latency: Duration.millis(500),
  interval: Duration.minutes(1),
  count: 3,
  failureLimit: 1,
  minRequests: 30,
  prometheusAddress: DEFAULT_PROMETHEUS_URL,
} as const;

/**
 * Why a gate that tolerates `failureLimit` failed measurements out of `count` (either left out)
 * cannot work, or `undefined`: at `count` failures or more it could never fail. The fleet file
 * reports it at gates.failureLimit and {@link ModelRelease} throws it. Completes "got <failureLimit>; ...".
 */
export function failureLimitProblem(count?: number, failureLimit?: number): string | undefined {
  const measurements = count ?? GATE_DEFAULTS.count;
  const limit = failureLimit ?? GATE_DEFAULTS.failureLimit;
  if (limit < measurements) return undefined;
  return `must be below count (${measurements}), or a release could never fail${failureLimit === undefined ? `; failureLimit defaults to ${limit}` : ''}`;
}

/** The metric gates every canary step and blue-green promotion must pass. */
export interface ReleaseGates {
  /** Largest acceptable share of 5xx responses. @default GATE_DEFAULTS.maxErrorRate (0.05) */
  readonly maxErrorRate?: number;
  /**
   * Largest acceptable p95 latency. Where the gateway cannot tell canary requests apart, the
   * gate compares TorchServe's mean latency of the canary pods with it (TorchServe has no
   * latency histogram). @default GATE_DEFAULTS.maxP95Latency (500 ms)
   */
  readonly maxP95Latency?: Duration;
  /** Time between measurements. @default GATE_DEFAULTS.interval (1 min) */
  readonly interval?: Duration;
  /** Measurements per analysis. @default GATE_DEFAULTS.count (3) */
  readonly count?: number;
  /** Failed measurements tolerated before the release aborts; below `count` (see {@link failureLimitProblem}). @default GATE_DEFAULTS.failureLimit (1) */
  readonly failureLimit?: number;
  /**
   * Fewest requests the measured version must have answered within a measurement's window for
   * the measurement to judge it. Below that (no traffic, no series at all) the measurement is
   * inconclusive, never a pass: the analysis ends Inconclusive and the Rollout pauses until
   * someone promotes or aborts it. @default GATE_DEFAULTS.minRequests (30)
   */
  readonly minRequests?: number;
  /** The environment's Prometheus, which scrapes the gateway and TorchServe. @default GATE_DEFAULTS.prometheusAddress (DEFAULT_PROMETHEUS_URL) */
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

function replicaSetSignals(service: ITorchServeWorkload): GateSignals {
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

/** Properties of a {@link ModelRelease}. */
export interface ModelReleaseProps {
  /** The model to release. For canary and blue-green it must run as `WorkloadKind.ROLLOUT`. */
  readonly service: ITorchServeWorkload;
  readonly strategy: ReleaseStrategy;
  /** @default - the defaults of each {@link ReleaseGates} field */
  readonly gates?: ReleaseGates;
}

/** Options of {@link ModelRelease.judgeBy}. */
export interface JudgeByOptions {
  /**
   * The scrape of the model's TorchServe metrics (its MonitoringBundle), which must copy
   * `rollouts-pod-template-hash` onto the series. A canary needs it when the gateway reports
   * stable and canary requests together (Kong and Envoy Gateway HTTPRoutes): the gates then read
   * the new ReplicaSet's pods. @default - none; such a canary fails
   */
  readonly replicaSetScrape?: ReplicaSetScrape;
}

/**
 * Releases a model version by the chosen strategy: rolling, canary or blue-green. Rolling keeps
 * the Deployment's zero-downtime update. Canary and blue-green drive an Argo Rollout: the
 * release owns the canary or preview Service (route it with {@link canaryBackend} or
 * {@link previewBackend}), then {@link judgeBy} attaches the model's gateway route, which splits
 * the traffic, and defines the gates every step must pass: an AnalysisTemplate that checks the
 * NEW version's error rate and latency alone, from the gateway's series of the canary backend, or
 * TorchServe's metrics of the new ReplicaSet's pods where the gateway shares one upstream.
 * Blue-green judges the preview's requests before promotion and live traffic after. The gates
 * fail closed: no data, or fewer than `minRequests` requests, is Inconclusive and pauses the
 * Rollout; a failure aborts it. The Rollout's strategy renders from this construct's state.
 *
 * @see https://argo-rollouts.readthedocs.io/en/stable/features/canary/
 */
export class ModelRelease extends Construct implements IRolloutStrategySource {
  /** The canary Service the gateway weights against the stable one (canary only). */
  public readonly canaryBackend?: IServiceBackend;
  /** The blue-green preview Service the gateway routes preview requests to (blue-green only). */
  public readonly previewBackend?: IServiceBackend;
  public readonly strategy: ReleaseStrategy;
  private readonly service: ITorchServeWorkload;
  private readonly gates: Required<ReleaseGates>;
  private judged?: { readonly strategy: RolloutSpecStrategy; readonly usesGatewayApiPlugin: boolean; readonly analysisTemplateName: string };

  constructor(scope: Construct, id: string, props: ModelReleaseProps) {
    super(scope, id);
    const { service, strategy } = props;
    this.service = service;
    this.strategy = strategy;
    this.gates = resolveGates(props.gates ?? {}, (code, message) => this.fail(code, message));
    if (strategy.type === ReleaseType.ROLLING) {
      if (service.workloadRef.kind !== WorkloadKind.DEPLOYMENT) this.fail('WrongWorkload', 'a rolling release runs as a Deployment; create the service with the default workload');
      return;
    }
    if (service.workloadRef.kind !== WorkloadKind.ROLLOUT) {
      this.fail('WrongWorkload', `a ${strategy.type} release runs as an Argo Rollout; create the service with workload: WorkloadKind.ROLLOUT`);
    }
    if (strategy.type === ReleaseType.CANARY) this.canaryBackend = this.releaseService('canary');
    else this.previewBackend = this.releaseService('preview');
    service.useRolloutStrategy(this);
    this.node.addValidation({
      validate: () => (this.judged ? [] : [`${this.node.path}: a ${strategy.type} release needs the model's gateway route, which splits the traffic and whose metrics gate each step: call judgeBy(route)`]),
    });
  }

  /** Whether the Argo Rollouts Gateway API plugin must be installed for this release. */
  public get usesGatewayApiPlugin(): boolean {
    return this.judged?.usesGatewayApiPlugin ?? false;
  }

  /** The AnalysisTemplate every step (or the promotion) must pass, once judged. */
  public get analysisTemplateName(): string | undefined {
    return this.judged?.analysisTemplateName;
  }

  /**
   * Attaches the model's gateway route, which must route {@link canaryBackend} or
   * {@link previewBackend}: its request metrics (or the new pods' TorchServe metrics) gate the
   * release, and its gateway shifts the canary traffic.
   */
  public judgeBy(route: IModelRoute, options: JudgeByOptions = {}): void {
    const { service, strategy } = this;
    if (strategy.type === ReleaseType.ROLLING) return;
    if (this.judged) this.fail('AlreadyJudged', 'judgeBy was called already; a release has one route');
    const label = route.gateway.label;
    if (strategy.type === ReleaseType.CANARY) {
      if (route.canaryServiceName !== this.canaryBackend?.name) this.fail('RouteNotPrepared', `the route must send canary traffic to this release's canaryBackend ("${this.canaryBackend?.name}")`);
      if (!route.requestMetrics) this.fail('NoRequestMetrics', `gateway "${label}" exports no per-route request metrics, so canary steps cannot be analysed`);
      const signals = route.canaryRequestMetrics
        ? gatewaySignals(route.canaryRequestMetrics, "the canary only: the gateway's series of the canary Service")
        : this.replicaSetGates(label, options.replicaSetScrape);
      const analysisTemplateName = this.defineGates(`${service.name}-release-gates`, signals);
      const analysisArgs = signals.args.map((arg) => ({ name: arg.name, valueFrom: arg.valueFrom }));
      const { weights, pause } = strategy.canaryOptions!;
      this.judged = {
        analysisTemplateName,
        usesGatewayApiPlugin: route.gateway.usesGatewayApiPlugin,
        strategy: {
          canary: {
            stableService: service.inference.name,
            canaryService: route.canaryServiceName,
            maxUnavailable: RolloutSpecStrategyCanaryMaxUnavailable.fromNumber(0),
            abortScaleDownDelaySeconds: 30,
            // The gateway says how Argo Rollouts shifts its weights.
            trafficRouting: route.gateway.canaryTrafficRouting(route.predictionRouteName, service.namespace),
            steps: weights.flatMap((weight) => [
              { setWeight: weight },
              { pause: { duration: RolloutSpecStrategyCanaryStepsPauseDuration.fromString(`${pause.toSeconds()}s`) } },
              { analysis: { templates: [{ templateName: analysisTemplateName }], ...(analysisArgs.length > 0 ? { args: analysisArgs } : {}) } },
            ]),
          },
        },
      };
      return;
    }
    if (route.previewServiceName !== this.previewBackend?.name) this.fail('RouteNotPrepared', `the route must send preview requests to this release's previewBackend ("${this.previewBackend?.name}")`);
    const previewMetrics = route.previewRequestMetrics ?? this.fail('NoRequestMetrics', `gateway "${label}" exports no per-route request metrics, so the preview cannot be analysed`);
    // Before promotion only the preview's requests (those with the preview header) count.
    const analysisTemplateName = this.defineGates(`${service.name}-preview-gates`, gatewaySignals(previewMetrics, "the preview only: the gateway's series of the preview route"));
    // After the switch the active Service selects the new pods: live traffic judges them.
    const live = route.liveRequestMetrics;
    const activeGates = live ? this.defineGates(`${service.name}-release-gates`, gatewaySignals(live, 'live traffic after promotion: the prediction route without preview requests')) : undefined;
    const { autoPromotionEnabled, scaleDownDelay } = strategy.blueGreenOptions!;
    this.judged = {
      analysisTemplateName,
      usesGatewayApiPlugin: false,
      strategy: {
        blueGreen: {
          activeService: service.inference.name,
          previewService: route.previewServiceName,
          autoPromotionEnabled,
          // The old version stays up this long after promotion, so a rollback is instant.
          scaleDownDelaySeconds: scaleDownDelay.toSeconds(),
          prePromotionAnalysis: { templates: [{ templateName: analysisTemplateName }] },
          // After the switch, the same gates on live traffic; a failure switches back.
          ...(activeGates ? { postPromotionAnalysis: { templates: [{ templateName: activeGates }] } } : {}),
        },
      },
    };
  }

  /** The Rollout's `spec.strategy`, from this release's state (see {@link judgeBy}). */
  public rolloutStrategy(): RolloutSpecStrategy {
    return this.judged?.strategy ?? {};
  }

  private fail(code: string, message: string): never {
    throw new ValidationError(`ModelRelease.${code}`, message, this);
  }

  /**
   * The canary or preview Service: the model's pods on the inference ports; Argo Rollouts adds
   * the rollouts-pod-template-hash selector to it to pick the new ReplicaSet.
   */
  private releaseService(component: 'canary' | 'preview'): IServiceBackend {
    const service = this.service;
    const resource = new k8s.KubeService(this, `${component}Service`, {
      metadata: { name: `${service.name}-${component}`, namespace: service.namespace, labels: service.labelsFor(component) },
      spec: {
        type: 'ClusterIP',
        selector: { ...service.selectorLabels },
        ports: service.inferencePorts.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromString(p.name), protocol: 'TCP' })),
      },
    });
    const http = service.inferencePorts.find((p) => p.name === 'http') ?? service.inferencePorts[0];
    return { name: resource.name, port: http.port, portName: http.name, addAnnotation: (key, value) => resource.metadata.addAnnotation(key, value) };
  }

  /** Gates on the new ReplicaSet's pods, for a gateway that cannot tell canary requests apart. */
  private replicaSetGates(label: string, scrape: ReplicaSetScrape | undefined): GateSignals {
    if (!scrape?.podTargetLabels.includes(ROLLOUTS_POD_TEMPLATE_HASH)) {
      this.fail('NoCanaryMetrics', `gateway "${label}" reports stable and canary requests together, so the gates read TorchServe's metrics of the new ReplicaSet's pods; pass 'replicaSetScrape' (the model's MonitoringBundle), whose ServiceMonitor copies ${ROLLOUTS_POD_TEMPLATE_HASH} onto the series`);
    }
    return replicaSetSignals(this.service);
  }

  /**
   * An AnalysisTemplate that fails closed. Each query yields a value only when the measured
   * version answered at least `minRequests` requests in the window; otherwise it is empty. The
   * conditions read an empty result or NaN as neither success nor failure, which Argo Rollouts
   * records as Inconclusive: the analysis stops there and the Rollout pauses, never promotes.
   */
  private defineGates(name: string, signals: GateSignals): string {
    const { service, gates } = this;
    const window = `${Math.max(60, gates.interval.toSeconds() * 2)}s`;
    const measurement = {
      interval: `${gates.interval.toSeconds()}s`,
      count: AnalysisTemplateSpecMetricsCount.fromNumber(gates.count),
      failureLimit: AnalysisTemplateSpecMetricsFailureLimit.fromNumber(gates.failureLimit),
      // Explicit for reviewers: the first inconclusive measurement ends the analysis Inconclusive.
      inconclusiveLimit: AnalysisTemplateSpecMetricsInconclusiveLimit.fromNumber(0),
    };
    const enoughTraffic = `(${signals.requestCount(window)} >= ${gates.minRequests})`;
    const prometheus = (query: string) => ({ prometheus: { address: gates.prometheusAddress, timeout: 30, query: `(${query}) and ${enoughTraffic}` } });
    const judged = 'len(result) == 1 && !isNaN(result[0])';
    const maxLatencySeconds = gates.maxP95Latency.toMilliseconds() / 1000;
    new AnalysisTemplate(this, name, {
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

/**
 * The former name of {@link ModelRelease}, which covers rolling releases too.
 * @deprecated use ModelRelease
 */
export const CanaryRollout = ModelRelease;
/** @deprecated use ModelRelease */
export type CanaryRollout = ModelRelease;
/** @deprecated use ModelReleaseProps */
export type CanaryRolloutProps = ModelReleaseProps;

function resolveGates(gates: ReleaseGates, fail: (code: string, message: string) => never): Required<ReleaseGates> {
  const resolved = {
    maxErrorRate: gates.maxErrorRate ?? GATE_DEFAULTS.maxErrorRate,
    maxP95Latency: gates.maxP95Latency ?? GATE_DEFAULTS.maxP95Latency,
    interval: gates.interval ?? GATE_DEFAULTS.interval,
    count: gates.count ?? GATE_DEFAULTS.count,
    failureLimit: gates.failureLimit ?? GATE_DEFAULTS.failureLimit,
    minRequests: gates.minRequests ?? GATE_DEFAULTS.minRequests,
    prometheusAddress: gates.prometheusAddress ?? GATE_DEFAULTS.prometheusAddress,
  };
  if (!(resolved.maxErrorRate > 0 && resolved.maxErrorRate < 1)) fail('InvalidGate', `'maxErrorRate' (${resolved.maxErrorRate}) must be between 0 and 1`);
  // A limit of 0 fails every measurement: the release could never pass.
  const latencyMs = resolved.maxP95Latency.toMilliseconds({ integral: false });
  if (!(latencyMs > 0)) fail('InvalidGate', `'maxP95Latency' (${latencyMs}ms) must be positive`);
  // Argo Rollouts takes the interval as a duration string; the template writes whole seconds.
  const intervalSeconds = resolved.interval.toSeconds({ integral: false });
  if (!Number.isInteger(intervalSeconds) || intervalSeconds < 10 || intervalSeconds > 3600) {
    fail('InvalidGate', `'interval' (${intervalSeconds}s) must be whole seconds from 10s to 1h`);
  }
  if (!Number.isInteger(resolved.count) || resolved.count < 1) fail('InvalidGate', `'count' (${resolved.count}) must be a positive integer`);
  if (!Number.isInteger(resolved.failureLimit) || resolved.failureLimit < 0) fail('InvalidGate', `'failureLimit' (${resolved.failureLimit}) must be an integer, 0 or more`);
  const limitIssue = failureLimitProblem(gates.count, gates.failureLimit);
  if (limitIssue) fail('InvalidGate', `'failureLimit' (${resolved.failureLimit}) ${limitIssue}`);
  if (!Number.isInteger(resolved.minRequests) || resolved.minRequests < 1) fail('InvalidGate', `'minRequests' (${resolved.minRequests}) must be a positive integer: with 0, no traffic at all would pass`);
  const urlProblem = prometheusUrlProblem(resolved.prometheusAddress);
  if (urlProblem) fail('InvalidGate', `'prometheusAddress' ("${resolved.prometheusAddress}") ${urlProblem}`);
  return resolved;
}
