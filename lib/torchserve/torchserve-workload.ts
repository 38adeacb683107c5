import type { Duration } from 'cdk8s';
import type { IConstruct } from 'constructs';
import type { RolloutSpecStrategy } from '../../imports/rollout-argoproj.io';

/** What runs the pods. */
export enum WorkloadKind {
  /** A Deployment with a zero-downtime rolling update. */
  DEPLOYMENT = 'Deployment',
  /** An Argo Rollout, whose strategy a release sets. */
  ROLLOUT = 'Rollout',
}

/** How autoscalers and checks refer to a workload. */
export interface WorkloadRef {
  readonly apiVersion: string;
  readonly kind: WorkloadKind;
  readonly name: string;
}

/** A Kubernetes Service that a gateway or a release routes to. */
export interface IServiceBackend {
  readonly name: string;
  readonly port: number;
  readonly portName: string;
  /** Adds an annotation to the Service (Kong reads its upstream timeouts there). */
  addAnnotation(key: string, value: string): void;
}

/** A port of a model's inference Service, which a release's canary or preview Service repeats. */
export interface InferencePort {
  readonly name: string;
  readonly port: number;
}

/** What scales a workload's replicas (the cdk8s-plus `IScalable` protocol's other side). */
export interface IWorkloadScaler {
  /** The HorizontalPodAutoscaler that sets the replicas (KEDA names its own HPA). */
  readonly hpaName: string;
}

/** What sets an Argo Rollout's strategy: asked when the Rollout renders. */
export interface IRolloutStrategySource {
  /** The Rollout's `spec.strategy`. */
  rolloutStrategy(): RolloutSpecStrategy;
}

/**
 * One model's TorchServe deployment, as the constructs around it need it: gateway routes,
 * releases, autoscalers, monitoring and network policies. `TorchServeService` implements it; the
 * others take the interface, so they can be composed with any implementation.
 */
export interface ITorchServeWorkload extends IConstruct {
  /** Kubernetes name of every object, and the `app.kubernetes.io/instance` label. */
  readonly name: string;
  readonly namespace: string;
  /** The TorchServe model name, as in `/predictions/<modelName>`. */
  readonly modelName: string;
  readonly modelVersion: string;
  /** The `app.kubernetes.io/part-of` label, if any. */
  readonly partOf?: string;
  /** Labels that select the model's pods; stable across versions. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** The recommended labels for an object of this model; `component` says which part it is. */
  labelsFor(component: string): Record<string, string>;
  /** Pods when nothing autoscales them; an autoscaler's floor otherwise. */
  readonly replicas: number;
  /** How long TorchServe lets a request take; gateways use the same timeout. */
  readonly responseTimeout: Duration;
  /** TorchServe's `max_request_size`; gateways use the same body limit. */
  readonly maxRequestBytes: number;
  /** The Deployment or Rollout that runs the pods. */
  readonly workloadRef: WorkloadRef;
  /** The Service gateways route predictions to (port `http`). */
  readonly inference: IServiceBackend;
  /** The ports of the inference Service, for Services that select the same pods. */
  readonly inferencePorts: readonly InferencePort[];
  /** The management API's Service (port `management`); never public. */
  readonly management: IServiceBackend;
  /** The Service Prometheus scrapes (port `metrics`). */
  readonly metricsServiceName: string;
  /** What scales the replicas, if anything (see {@link markHasAutoscaler}). */
  readonly scaler?: IWorkloadScaler;
  /** Hands the replica count to `scaler`: the workload then carries no `spec.replicas`. */
  markHasAutoscaler(scaler: IWorkloadScaler): void;
  /** Sets what decides the Rollout's strategy; only for a Rollout, and once. */
  useRolloutStrategy(source: IRolloutStrategySource): void;
}
