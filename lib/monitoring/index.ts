export { TroubleshootingAnchor } from './alert-rules';
export type { AlertRule } from './alert-rules';
export { MONITORING_DEFAULTS, MonitoringBundle, requestAlertsProblem, runbookUrlProblem } from './monitoring-bundle';
export type { MonitoringBundleProps } from './monitoring-bundle';
