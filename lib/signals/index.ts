// What the exporters emit and where Prometheus answers: the series TorchServe, DCGM and
// kube-state-metrics expose as the Prometheus Operator's scrape labels them. Alerts, dashboards,
// autoscalers and release gates all select through these, so they read the same series.
export * from './gpu-metrics';
export * from './prometheus-address';
export * from './torchserve-metrics';
