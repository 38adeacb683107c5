import { GATEWAY_API_PLUGIN_LOCATION, GATEWAY_API_PLUGIN_SHA256, GATEWAY_API_PLUGIN_VERSION } from '../release/gateway-api-plugin';
import { DEFAULT_PROMETHEUS_URL } from '../signals';

/**
 * A controller, exporter or CRD set the generated output needs in the cluster, with the versions
 * the output was written and checked against (CRD schemas validated, upstream source read for
 * every metric, label and name it relies on) and the settings that matter.
 */
export interface ClusterPrerequisite {
  /** What to install. */
  readonly name: string;
  /** When an environment needs it. */
  readonly neededWhen: string;
  /** The versions the output was checked against. */
  readonly versions: string;
  /** The custom resources of the output it serves, as "<group>/<Kind>". */
  readonly kinds: readonly string[];
  /** Install settings (mostly Helm chart values) without which the output does not work. */
  readonly settings: readonly string[];
}

/** The README section that lists {@link CLUSTER_PREREQUISITES}. */
export const PREREQUISITES_ANCHOR = 'cluster-prerequisites';

/**
 * Everything the output needs in the cluster, in one place. The README's "Cluster
 * prerequisites" section shows this list, and the tests check that every custom resource the
 * output contains is served by one of these entries.
 */
export const CLUSTER_PREREQUISITES: readonly ClusterPrerequisite[] = [
  {
    name: 'cert-manager',
    neededWhen: 'an environment has a gateway',
    versions: 'v1.21',
    kinds: ['cert-manager.io/Certificate'],
    settings: ['the ClusterIssuer (or Issuer) named in gateway.tls.issuer'],
  },
  {
    name: 'Gateway API CRDs (standard channel)',
    neededWhen: 'gateway.kind is gateway-api, or a kong canary',
    versions: 'v1.6 (gateway.networking.k8s.io/v1)',
    kinds: ['gateway.networking.k8s.io/Gateway', 'gateway.networking.k8s.io/HTTPRoute'],
    settings: [],
  },
  {
    name: 'Kong Ingress Controller with Kong Gateway',
    neededWhen: 'gateway kong, or gateway-api with implementation kong',
    versions: 'KIC 3.5, Kong Gateway 3.9 (kong/kong chart 3.x); CRDs from Kong/kubernetes-configuration v1.5',
    kinds: ['configuration.konghq.com/KongPlugin', 'configuration.konghq.com/KongConsumer'],
    settings: [
      'serviceMonitor.enabled=true and serviceMonitor.labels matching the Prometheus (e.g. release: kube-prometheus-stack)',
      'gates and alerts select the Kong `route` label, which no target label shadows; honorLabels may stay unset',
    ],
  },
  {
    name: 'Traefik Proxy',
    neededWhen: 'gateway traefik, or gateway-api with implementation traefik',
    versions: 'v3.2 to v3.7 (traefik chart 41.x, Traefik v3.7.11); Gateway API provider service names of v3.2-v3.7.5 and v3.7.6+',
    kinds: ['traefik.io/IngressRoute', 'traefik.io/Middleware', 'traefik.io/ServersTransport', 'traefik.io/TraefikService'],
    settings: [
      'metrics.prometheus.addServicesLabels left on (the default)',
      'metrics.prometheus.service.enabled=true, metrics.prometheus.serviceMonitor.enabled=true, metrics.prometheus.serviceMonitor.additionalLabels matching the Prometheus',
      'metrics.prometheus.serviceMonitor.honorLabels=false (the default): selectors read exported_service; with true set gateway.metricsHonorLabels: true',
      'providers.kubernetesGateway.enabled=true for gateway-api',
    ],
  },
  {
    name: 'ingress-nginx',
    neededWhen: 'gateway nginx',
    versions: 'controller v1.15 (chart 4.15)',
    kinds: [],
    settings: [
      'controller.metrics.enabled=true, controller.metrics.serviceMonitor.enabled=true, controller.metrics.serviceMonitor.additionalLabels matching the Prometheus',
      'controller.metrics.serviceMonitor.honorLabels unset (the default): selectors read exported_namespace; with true set gateway.metricsHonorLabels: true',
    ],
  },
  {
    name: 'Envoy Gateway',
    neededWhen: 'gateway-api with implementation envoy-gateway',
    versions: 'v1.8 to v1.9',
    kinds: [],
    settings: ['a PodMonitor scraping the proxies\' /stats/prometheus on port metrics (selector app.kubernetes.io/name: envoy, app.kubernetes.io/component: proxy), as upstream examples/kubernetes/metric/pod-monitor.yaml'],
  },
  {
    name: 'Prometheus Operator with Prometheus',
    neededWhen: 'monitoring, autoscaling or a canary or blue-green strategy',
    versions: 'v0.93 (kube-prometheus-stack)',
    kinds: ['monitoring.coreos.com/ServiceMonitor', 'monitoring.coreos.com/PrometheusRule'],
    settings: [
      `a Prometheus at the environment's prometheus.url (default ${DEFAULT_PROMETHEUS_URL})`,
      'serviceMonitorSelector and ruleSelector matching monitoring.prometheusSelectorLabels (default release: kube-prometheus-stack)',
    ],
  },
  {
    name: 'kube-state-metrics',
    neededWhen: 'monitoring',
    versions: 'as in kube-prometheus-stack (scraped with honorLabels: true)',
    kinds: [],
    settings: ['its ServiceMonitor keeps honorLabels: true, so namespace and pod are the object\'s'],
  },
  {
    name: 'NVIDIA DCGM exporter',
    neededWhen: 'monitoring.gpuMetrics.source dcgm (the default), or autoscaling.gpuUtilization',
    versions: 'GPU Operator dcgm-exporter with Kubernetes pod mapping',
    kinds: [],
    settings: ['serviceMonitor enabled; honorLabels false gives exported_namespace/exported_pod (the default here); with true set monitoring.gpuMetrics.dcgmHonorLabels: true'],
  },
  {
    name: 'Grafana with the dashboard sidecar',
    neededWhen: 'monitoring',
    versions: 'grafana chart in kube-prometheus-stack',
    kinds: [],
    settings: ['sidecar.dashboards.enabled=true with label grafana_dashboard, sidecar.dashboards.folderAnnotation=grafana_folder, sidecar.dashboards.provider.foldersFromFilesStructure=true'],
  },
  {
    name: 'KEDA',
    neededWhen: 'autoscaling.backend keda (the default)',
    versions: 'v2.20',
    kinds: ['keda.sh/ScaledObject'],
    settings: ['network access from keda-operator to the environment\'s prometheus.url'],
  },
  {
    name: 'prometheus-adapter',
    neededWhen: 'autoscaling.backend hpa-with-prometheus-adapter',
    versions: 'v0.12 (prometheus-adapter chart)',
    kinds: [],
    settings: [
      'prometheus.url and prometheus.port set to the environment\'s prometheus.url (the rules ConfigMap records it)',
      'rules.external merged with the generated prometheus-adapter-external-rules ConfigMap',
    ],
  },
  {
    name: 'Argo Rollouts',
    neededWhen: 'strategy canary or blue-green',
    versions: 'v1.9 (argo-rollouts chart 2.41)',
    kinds: ['argoproj.io/Rollout', 'argoproj.io/AnalysisTemplate'],
    settings: [
      'controller.extraArgs: [--traefik-api-group=traefik.io] with a traefik canary (v1.9 defaults to the Traefik v2 group)',
    ],
  },
  {
    name: 'Argo Rollouts Gateway API plugin',
    neededWhen: 'a canary through gateway-api (or kong)',
    versions: GATEWAY_API_PLUGIN_VERSION,
    kinds: [],
    settings: [
      `Helm: controller.trafficRouterPlugins: [{name: argoproj-labs/gatewayAPI, location: ${GATEWAY_API_PLUGIN_LOCATION}, sha256: ${GATEWAY_API_PLUGIN_SHA256}}]`,
      'without Helm: argoRollouts.pluginConfigMap: true writes dist/argo-rollouts/ (the whole argo-rollouts-config ConfigMap)',
    ],
  },
  {
    name: 'Argo CD',
    neededWhen: 'the fleet file has an argocd section',
    versions: 'v3.5',
    kinds: ['argoproj.io/Application'],
    settings: ['the generated Applications use ServerSideApply and ignore the fields Argo Rollouts rewrites'],
  },
];

/** The prerequisite that serves custom resources of `apiVersion` and `kind`, if any. */
export function prerequisiteFor(apiVersion: string, kind: string): ClusterPrerequisite | undefined {
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return CLUSTER_PREREQUISITES.find((p) => p.kinds.includes(`${group}/${kind}`));
}

/** The README's table of {@link CLUSTER_PREREQUISITES}, one row each, in Markdown. */
export function prerequisitesTable(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = CLUSTER_PREREQUISITES.map((p) => `| ${cell(p.name)} | ${cell(p.neededWhen)} | ${cell(p.versions)} | ${p.kinds.length > 0 ? p.kinds.map((k) => `\`${k}\``).join(', ') : '-'} | ${p.settings.length > 0 ? p.settings.map(cell).join('; ') : '-'} |`);
  return ['| what | needed when | checked against | serves | settings that matter |', '|---|---|---|---|---|', ...rows].join('\n');
}
