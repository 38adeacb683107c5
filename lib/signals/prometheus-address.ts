import { httpUrlProblem } from '../private/url';

/**
 * The Prometheus an environment queries when it names none: the `prometheus-operated` Service
 * that Prometheus Operator creates in front of every Prometheus it runs (here in `monitoring`,
 * as kube-prometheus-stack installs it). Release gates, KEDA triggers and the prometheus-adapter
 * rules all read this one address, so they judge the same series.
 */
export const DEFAULT_PROMETHEUS_URL = 'http://prometheus-operated.monitoring.svc:9090';

/**
 * Why `url` cannot be a Prometheus address, or `undefined` when it can. The fleet file's
 * prometheus.url, the release gates and the autoscaler follow it. Completes "got <url>; ...".
 */
export function prometheusUrlProblem(url: string): string | undefined {
  return httpUrlProblem(url, `an http(s) URL such as "${DEFAULT_PROMETHEUS_URL}"`);
}
