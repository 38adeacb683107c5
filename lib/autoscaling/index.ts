export {
  AUTOSCALER_DEFAULTS, GpuAutoscaler, ModelAutoscaler, ScalingBackend, minReplicasProblem, peakHoursBackendProblem, peakReplicasProblem, queueWaitTargetProblem,
} from './model-autoscaler';
export type { GpuAutoscalerProps, ModelAutoscalerProps, PeakHours, ScaleTarget } from './model-autoscaler';
export { ADAPTER_RULES_KEY, PrometheusAdapterRules } from './prometheus-adapter-rules';
export type { ExternalMetricRule } from './prometheus-adapter-rules';
