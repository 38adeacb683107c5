export { GpuAutoscaler, ScalingBackend } from './gpu-autoscaler';
export type { GpuAutoscalerProps, PeakHours, ScaleTarget } from './gpu-autoscaler';
export { ADAPTER_RULES_KEY, PrometheusAdapterRules } from './prometheus-adapter-rules';
export type { ExternalMetricRule } from './prometheus-adapter-rules';
