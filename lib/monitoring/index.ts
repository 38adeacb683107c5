export { TroubleshootingAnchor } from './alert-rules';
export type { AlertRule } from './alert-rules';
export { MonitoringBundle } from './monitoring-bundle';
export type { MonitoringBundleProps } from './monitoring-bundle';
