import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFleet } from '../lib/fleet';
import { type KubeObject, POLICY_CHECKS, checkPolicies } from '../lib/policy';
import { DEFAULT_FLEET, synthToTemp } from './helpers/app';
import { fleetWithGateway } from './helpers/fleets';
import { readEnvironment } from './helpers/manifests';

const fleet = loadFleet(DEFAULT_FLEET);
const productionNamespaces = Object.values(fleet.environments).filter((e) => e.stage === 'production').map((e) => e.namespace);

const GATEWAY_VARIANTS: [string, string | undefined][] = [
  ['the default fleet', undefined],
  ['nginx', fleetWithGateway({ kind: 'nginx', host: 'api.example.com', tls: { issuer: 'le' }, management: { host: 'mgmt.example.com', allowFrom: ['10.0.0.0/8'] } })],
  ['kong', fleetWithGateway({ kind: 'kong', host: 'api.example.com', tls: { issuer: 'le' }, jwt: { credentialSecrets: ['jwt'] } })],
  ['traefik', fleetWithGateway({ kind: 'traefik', host: 'api.example.com', tls: { issuer: 'le' }, rateLimit: { requestsPerSecond: 10 } })],
  ['gateway-api (envoy-gateway)', fleetWithGateway({ kind: 'gateway-api', implementation: 'envoy-gateway', host: 'api.example.com', tls: { issuer: 'le' } })],
];

describe('the policy suite on the whole output', () => {
  it.each(GATEWAY_VARIANTS)('passes every check for %s, in every environment', (_name, text) => {
    const outdir = text === undefined ? synthToTemp() : synthToTemp({ text });
    for (const env of ['staging', 'production']) {
      const objects = readEnvironment(path.join(outdir, env)) as KubeObject[];
      expect(objects.length).toBeGreaterThan(10);
      expect(checkPolicies(objects, { productionNamespaces })).toEqual([]);
    }
  });

  it('runs the restricted profile, the kube-linter defaults and our own checks', () => {
    const ids = POLICY_CHECKS.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining([
      'pss-privilege-escalation', 'pss-run-as-non-root', 'pss-capabilities', 'pss-seccomp', 'pss-volume-types',
      'kl-no-read-only-root-fs', 'kl-latest-tag', 'kl-liveness-port', 'kl-readiness-port', 'kl-dangling-service', 'kl-mismatching-selector', 'kl-no-anti-affinity', 'kl-pdb-unhealthy-pod-eviction-policy',
      'ms-requests-and-limits', 'ms-dangling-ingress', 'ms-dangling-hpa', 'ms-dangling-networkpolicy', 'ms-production-spread',
    ]));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

// ---- every check can fail ----

const LABELS = { 'app.kubernetes.io/name': 'torchserve', 'app.kubernetes.io/instance': 'm' };
const SECURE = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };
const RESOURCES = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } };

function podSpec(): any {
  return {
    serviceAccountName: 'm',
    securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: LABELS } } }] } },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: LABELS } }],
    containers: [{
      name: 'app',
      image: 'pytorch/torchserve:0.12.0-gpu',
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      env: [{ name: 'MODEL_NAME', value: 'm' }],
      livenessProbe: { httpGet: { path: '/ping', port: 'http' } },
      readinessProbe: { tcpSocket: { port: 8080 } },
      startupProbe: { httpGet: { path: '/ping', port: 'http' } },
      resources: RESOURCES,
      securityContext: { ...SECURE },
    }],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  };
}

function baseObjects(): any[] {
  const meta = (kind: string, name = 'm') => ({ name, namespace: 'prod', labels: kind === 'Deployment' ? LABELS : {} });
  return [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('Deployment'), spec: { replicas: 2, selector: { matchLabels: LABELS }, template: { metadata: { labels: LABELS }, spec: podSpec() } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('ServiceAccount') },
    { apiVersion: 'v1', kind: 'Service', metadata: meta('Service'), spec: { selector: LABELS, ports: [{ name: 'http', port: 8080, targetPort: 'http' }] } },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta('PodDisruptionBudget'), spec: { maxUnavailable: 1, selector: { matchLabels: LABELS }, unhealthyPodEvictionPolicy: 'AlwaysAllow' } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('NetworkPolicy'), spec: { podSelector: { matchLabels: LABELS }, policyTypes: ['Ingress'] } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta('Ingress'), spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'm', port: { name: 'http' } } } }] } }] } },
    { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta('HorizontalPodAutoscaler'), spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'm' }, minReplicas: 2, maxReplicas: 4 } },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: meta('Job', 'package'), spec: { ttlSecondsAfterFinished: 3600, template: { metadata: { labels: {} }, spec: { ...podSpec(), restartPolicy: 'Never' } } } },
    { apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta('CronJob', 'backup'), spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { metadata: { labels: {} }, spec: { ...podSpec(), restartPolicy: 'OnFailure' } } } } } },
  ];
}

type Mutation = (objects: any[]) => void;
const deployment = (o: any[]) => o.find((x) => x.kind === 'Deployment');
const pod = (o: any[]) => deployment(o).spec.template.spec;
const container = (o: any[]) => pod(o).containers[0];

const FAILING_FIXTURES: [string, Mutation][] = [
  ['pss-privileged', (o) => { container(o).securityContext.privileged = true; }],
  ['pss-host-namespaces', (o) => { pod(o).hostNetwork = true; }],
  ['pss-host-path', (o) => { pod(o).volumes.push({ name: 'h', hostPath: { path: '/var/data' } }); }],
  ['pss-host-ports', (o) => { container(o).ports[0].hostPort = 8080; }],
  ['pss-capabilities', (o) => { container(o).securityContext.capabilities = { drop: ['NET_RAW'] }; }],
  ['pss-privilege-escalation', (o) => { delete container(o).securityContext.allowPrivilegeEscalation; }],
  ['pss-run-as-non-root', (o) => { delete pod(o).securityContext.runAsNonRoot; delete container(o).securityContext.runAsNonRoot; }],
  ['pss-run-as-user', (o) => { container(o).securityContext.runAsUser = 0; }],
  ['pss-seccomp', (o) => { delete pod(o).securityContext.seccompProfile; }],
  ['pss-volume-types', (o) => { pod(o).volumes.push({ name: 'n', nfs: { server: 'x', path: '/' } }); }],
  ['pss-proc-mount', (o) => { container(o).securityContext.procMount = 'Unmasked'; }],
  ['pss-sysctls', (o) => { pod(o).securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }]; }],
  ['pss-probe-host', (o) => { container(o).livenessProbe.httpGet.host = '10.0.0.1'; }],
  ['kl-dangling-service', (o) => { o.find((x) => x.kind === 'Service').spec.selector = { app: 'nothing' }; }],
  ['kl-deprecated-service-account-field', (o) => { pod(o).serviceAccount = 'other'; }],
  ['kl-docker-sock', (o) => { pod(o).volumes.push({ name: 'd', hostPath: { path: '/var/run/docker.sock' } }); }],
  ['kl-drop-net-raw-capability', (o) => { container(o).securityContext.capabilities = { drop: ['CHOWN'] }; }],
  ['kl-duplicate-env-var', (o) => { container(o).env.push({ name: 'MODEL_NAME', value: 'x' }); }],
  ['kl-env-var-secret', (o) => { container(o).env.push({ name: 'API_SECRET', value: 'hunter2' }); }],
  ['kl-invalid-target-ports', (o) => { container(o).ports[0].name = 'http_inference_port'; }],
  ['kl-job-ttl-seconds-after-finished', (o) => { delete o.find((x) => x.kind === 'Job').spec.ttlSecondsAfterFinished; }],
  ['kl-latest-tag', (o) => { container(o).image = 'pytorch/torchserve:latest'; }],
  ['kl-liveness-port', (o) => { container(o).livenessProbe.httpGet.port = 'metrics'; }],
  ['kl-readiness-port', (o) => { container(o).readinessProbe.tcpSocket.port = 9999; }],
  ['kl-startup-port', (o) => { container(o).startupProbe.httpGet.port = 7070; }],
  ['kl-mismatching-selector', (o) => { deployment(o).spec.selector.matchLabels = { 'app.kubernetes.io/name': 'other' }; }],
  ['kl-no-anti-affinity', (o) => { delete pod(o).affinity; }],
  ['kl-no-extensions-v1beta', (o) => { o.push({ apiVersion: 'extensions/v1beta1', kind: 'Ingress', metadata: { name: 'old', namespace: 'prod' }, spec: {} }); }],
  ['kl-no-read-only-root-fs', (o) => { container(o).securityContext.readOnlyRootFilesystem = false; }],
  ['kl-non-existent-service-account', (o) => { pod(o).serviceAccountName = 'ghost'; }],
  ['kl-pdb-max-unavailable', (o) => { o.find((x) => x.kind === 'PodDisruptionBudget').spec.maxUnavailable = 0; }],
  ['kl-pdb-min-available', (o) => { const pdb = o.find((x) => x.kind === 'PodDisruptionBudget'); delete pdb.spec.maxUnavailable; pdb.spec.minAvailable = 2; }],
  ['kl-pdb-unhealthy-pod-eviction-policy', (o) => { delete o.find((x) => x.kind === 'PodDisruptionBudget').spec.unhealthyPodEvictionPolicy; }],
  ['kl-privilege-escalation-container', (o) => { container(o).securityContext.allowPrivilegeEscalation = true; }],
  ['kl-privileged-container', (o) => { container(o).securityContext.privileged = true; }],
  ['kl-run-as-non-root', (o) => { pod(o).securityContext.runAsGroup = 0; }],
  ['kl-sensitive-host-mounts', (o) => { pod(o).volumes.push({ name: 'etc', hostPath: { path: '/etc' } }); }],
  ['kl-ssh-port', (o) => { container(o).ports.push({ name: 'ssh', containerPort: 22 }); }],
  ['kl-unsafe-sysctls', (o) => { pod(o).securityContext.sysctls = [{ name: 'net.core.somaxconn', value: '1024' }]; }],
  ['kl-unset-cpu-requirements', (o) => { container(o).resources = { requests: { memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }; }],
  ['kl-unset-memory-requirements', (o) => { container(o).resources = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1' } }; }],
  ['ms-requests-and-limits', (o) => { delete container(o).resources.limits.cpu; }],
  ['ms-dangling-ingress', (o) => { o.find((x) => x.kind === 'Ingress').spec.rules[0].http.paths[0].backend.service.port = { name: 'management' }; }],
  ['ms-dangling-hpa', (o) => { o.find((x) => x.kind === 'HorizontalPodAutoscaler').spec.scaleTargetRef = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'm' }; }],
  ['ms-dangling-networkpolicy', (o) => { o.find((x) => x.kind === 'NetworkPolicy').spec.podSelector = { matchLabels: { app: 'nothing' } }; }],
  ['ms-production-spread', (o) => { delete pod(o).affinity; pod(o).topologySpreadConstraints = []; }],
];

describe('each policy check has a fixture that makes it fail', () => {
  it('accepts the clean base fixture', () => {
    expect(checkPolicies(baseObjects(), { productionNamespaces: ['prod'] })).toEqual([]);
  });

  it('covers every check', () => {
    expect(FAILING_FIXTURES.map(([id]) => id).sort()).toEqual(POLICY_CHECKS.map((c) => c.id).sort());
  });

  it.each(FAILING_FIXTURES)('%s fails on its fixture', (id, mutate) => {
    const objects = baseObjects();
    mutate(objects);
    const violations = checkPolicies(objects, { productionNamespaces: ['prod'] });
    expect(violations.map((v) => v.check)).toContain(id);
    expect(violations.find((v) => v.check === id)?.message).toBeTruthy();
  });
});
