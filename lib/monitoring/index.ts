export { TroubleshootingAnchor } from './alert-rules';
export type { AlertRule } from './alert-rules';
export { GpuMetrics } from './gpu-metrics';
export type { DcgmMetricsOptions } from './gpu-metrics';
export { MonitoringBundle } from './monitoring-bundle';
export type { MonitoringBundleProps } from './monitoring-bundle';
export { TorchServeMetrics } from './torchserve-metrics';
export type { TorchServeMetricsOptions } from './torchserve-metrics';
