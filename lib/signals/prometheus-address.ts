/**
 * The Prometheus an environment queries when it names none: the `prometheus-operated` Service
 * that Prometheus Operator creates in front of every Prometheus it runs (here in `monitoring`,
 * as kube-prometheus-stack installs it). Release gates, KEDA triggers and the prometheus-adapter
 * rules all read this one address, so they judge the same series.
 */
export const DEFAULT_PROMETHEUS_URL = 'http://prometheus-operated.monitoring.svc:9090';

const HTTP_URL = /^https?:\/\/[^\s]+$/;

/** Why `url` cannot be a Prometheus address, or `undefined` when it can. */
export function prometheusUrlProblem(url: string): string | undefined {
  return HTTP_URL.test(url) ? undefined : 'must be an http(s) URL such as "http://prometheus-operated.monitoring.svc:9090"';
}
