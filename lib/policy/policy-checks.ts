/**
 * Static policy checks over synthesized manifests: the Pod Security Standards "restricted"
 * profile, kube-linter's default checks, and a few cross-object checks of our own. It reads
 * Argo Rollouts' pod templates too, which kube-linter and kube-score cannot see.
 *
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 * @see https://docs.kubelinter.io/#/generated/checks
 */
import { parseImageRef } from '../private/image-ref';

/** A Kubernetes object as parsed from YAML. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [key: string]: any;
}

export type PolicyStandard = 'pss-restricted' | 'kube-linter' | 'model-serving';

export interface PolicyCheck {
  readonly id: string;
  readonly standard: PolicyStandard;
  readonly description: string;
}

export interface PolicyViolation {
  readonly check: string;
  /** `Kind/namespace/name`. */
  readonly object: string;
  readonly message: string;
}

export interface PolicyOptions {
  /** Namespaces that run production: two or more replicas there need anti-affinity or spread. @default [] */
  readonly productionNamespaces?: readonly string[];
}

interface PodTemplate {
  readonly owner: KubeObject;
  readonly labels: Record<string, string>;
  readonly spec: any;
  /** Replicas, where the workload says (undefined when an autoscaler owns them). */
  readonly replicas?: number;
  readonly isJob: boolean;
}

const CHECKS: PolicyCheck[] = [];
type Checker = (templates: PodTemplate[], objects: KubeObject[], options: PolicyOptions) => PolicyViolation[];
const CHECKERS = new Map<string, Checker>();

function define(id: string, standard: PolicyStandard, description: string, checker: Checker): void {
  CHECKS.push({ id, standard, description });
  CHECKERS.set(id, checker);
}

/** Every check this suite runs. */
export const POLICY_CHECKS: readonly PolicyCheck[] = CHECKS;

/** Runs every check over `objects` (one environment's output); returns the violations, sorted. */
export function checkPolicies(objects: readonly KubeObject[], options: PolicyOptions = {}): PolicyViolation[] {
  const list = [...objects];
  const templates = podTemplates(list);
  const violations: PolicyViolation[] = [];
  for (const [, checker] of CHECKERS) violations.push(...checker(templates, list, options));
  return violations.sort((a, b) => a.check.localeCompare(b.check) || a.object.localeCompare(b.object));
}

function ref(o: KubeObject): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function podTemplates(objects: KubeObject[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const o of objects) {
    let template: any;
    let replicas: number | undefined;
    let isJob = false;
    switch (o.kind) {
      case 'Deployment': case 'StatefulSet': case 'ReplicaSet': case 'DaemonSet': case 'Rollout':
        template = o.spec?.template;
        replicas = o.kind === 'DaemonSet' ? undefined : o.spec?.replicas;
        break;
      case 'Job':
        template = o.spec?.template;
        isJob = true;
        break;
      case 'CronJob':
        template = o.spec?.jobTemplate?.spec?.template;
        isJob = true;
        break;
      case 'Pod':
        template = { metadata: o.metadata, spec: o.spec };
        break;
      default:
        continue;
    }
    if (template?.spec) out.push({ owner: o, labels: template.metadata?.labels ?? {}, spec: template.spec, replicas, isJob });
  }
  return out;
}

function containers(spec: any, withInit = true): any[] {
  return [...(spec.containers ?? []), ...(withInit ? [...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])] : [])];
}

function perContainer(id: string, test: (c: any, pod: any, t: PodTemplate) => string | undefined, withInit = true): Checker {
  return (templates) => templates.flatMap((t) => containers(t.spec, withInit).flatMap((c) => {
    const problem = test(c, t.spec, t);
    return problem ? [{ check: id, object: ref(t.owner), message: `container "${c.name}": ${problem}` }] : [];
  }));
}

function perPod(id: string, test: (pod: any, t: PodTemplate) => string | undefined): Checker {
  return (templates) => templates.flatMap((t) => {
    const problem = test(t.spec, t);
    return problem ? [{ check: id, object: ref(t.owner), message: problem }] : [];
  });
}

function perObject(id: string, kinds: string[], test: (o: KubeObject, objects: KubeObject[], templates: PodTemplate[]) => string | undefined): Checker {
  return (templates, objects) => objects.filter((o) => kinds.includes(o.kind)).flatMap((o) => {
    const problem = test(o, objects, templates);
    return problem ? [{ check: id, object: ref(o), message: problem }] : [];
  });
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function labelSelectorMatches(selector: any, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const matchLabels: Record<string, string> = selector.matchLabels ?? {};
  const expressions: any[] = selector.matchExpressions ?? [];
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return true;
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v) && expressions.every((e) => {
    const has = e.key in labels;
    switch (e.operator) {
      case 'In': return has && e.values.includes(labels[e.key]);
      case 'NotIn': return !has || !e.values.includes(labels[e.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
}

const sameNamespace = (a: KubeObject, b: KubeObject) => (a.metadata.namespace ?? '') === (b.metadata.namespace ?? '');
const effective = (c: any, pod: any, key: string) => c.securityContext?.[key] ?? pod.securityContext?.[key];

// ---- Pod Security Standards, restricted (baseline included) ----

define('pss-privileged', 'pss-restricted', 'containers must not be privileged', perContainer('pss-privileged', (c) => (c.securityContext?.privileged ? 'privileged: true' : undefined)));
define('pss-host-namespaces', 'pss-restricted', 'no hostNetwork, hostPID or hostIPC', perPod('pss-host-namespaces', (p) => {
  const set = ['hostNetwork', 'hostPID', 'hostIPC'].filter((k) => p[k]);
  return set.length > 0 ? `${set.join(', ')} set` : undefined;
}));
define('pss-host-path', 'pss-restricted', 'no hostPath volumes', perPod('pss-host-path', (p) => {
  const host = (p.volumes ?? []).filter((v: any) => v.hostPath).map((v: any) => v.name);
  return host.length > 0 ? `hostPath volumes: ${host.join(', ')}` : undefined;
}));
define('pss-host-ports', 'pss-restricted', 'no hostPort', perContainer('pss-host-ports', (c) => ((c.ports ?? []).some((p: any) => p.hostPort) ? 'uses a hostPort' : undefined)));
define('pss-capabilities', 'pss-restricted', 'drop ALL capabilities; add at most NET_BIND_SERVICE', perContainer('pss-capabilities', (c) => {
  const caps = c.securityContext?.capabilities ?? {};
  if (!(caps.drop ?? []).includes('ALL')) return 'capabilities.drop must include "ALL"';
  const extra = (caps.add ?? []).filter((a: string) => a !== 'NET_BIND_SERVICE');
  return extra.length > 0 ? `capabilities.add may only hold NET_BIND_SERVICE, has ${extra.join(', ')}` : undefined;
}));
define('pss-privilege-escalation', 'pss-restricted', 'allowPrivilegeEscalation: false on every container', perContainer('pss-privilege-escalation', (c) => (c.securityContext?.allowPrivilegeEscalation === false ? undefined : 'allowPrivilegeEscalation must be false')));
define('pss-run-as-non-root', 'pss-restricted', 'runAsNonRoot: true (pod or every container)', perContainer('pss-run-as-non-root', (c, pod) => (effective(c, pod, 'runAsNonRoot') === true ? undefined : 'runAsNonRoot must be true')));
define('pss-run-as-user', 'pss-restricted', 'runAsUser is never 0', perContainer('pss-run-as-user', (c, pod) => (effective(c, pod, 'runAsUser') === 0 ? 'runAsUser is 0 (root)' : undefined)));
define('pss-seccomp', 'pss-restricted', 'seccompProfile RuntimeDefault or Localhost', perContainer('pss-seccomp', (c, pod) => {
  const type = c.securityContext?.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
  return type === 'RuntimeDefault' || type === 'Localhost' ? undefined : `seccompProfile.type must be RuntimeDefault or Localhost, is ${type ?? 'unset'}`;
}));
const ALLOWED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
define('pss-volume-types', 'pss-restricted', 'only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes', perPod('pss-volume-types', (p) => {
  const bad = (p.volumes ?? []).filter((v: any) => !Object.keys(v).some((k) => ALLOWED_VOLUMES.has(k))).map((v: any) => v.name);
  return bad.length > 0 ? `volumes of a disallowed type: ${bad.join(', ')}` : undefined;
}));
define('pss-proc-mount', 'pss-restricted', 'procMount Default', perContainer('pss-proc-mount', (c) => (c.securityContext?.procMount && c.securityContext.procMount !== 'Default' ? `procMount ${c.securityContext.procMount}` : undefined)));
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']);
define('pss-sysctls', 'pss-restricted', 'only safe sysctls', perPod('pss-sysctls', (p) => {
  const bad = (p.securityContext?.sysctls ?? []).map((s: any) => s.name).filter((n: string) => !SAFE_SYSCTLS.has(n));
  return bad.length > 0 ? `unsafe sysctls: ${bad.join(', ')}` : undefined;
}));
define('pss-probe-host', 'pss-restricted', 'probes and lifecycle hooks do not set a host', perContainer('pss-probe-host', (c) => {
  const handlers = [c.livenessProbe, c.readinessProbe, c.startupProbe, c.lifecycle?.preStop, c.lifecycle?.postStart].filter(Boolean);
  return handlers.some((h: any) => h.httpGet?.host || h.tcpSocket?.host) ? 'a probe or hook sets host' : undefined;
}));

// ---- kube-linter default checks ----

define('kl-dangling-service', 'kube-linter', 'every Service selects the pods of a workload in its namespace', perObject('kl-dangling-service', ['Service'], (s, _objects, templates) => {
  if (s.spec?.type === 'ExternalName') return undefined;
  if (!s.spec?.selector || Object.keys(s.spec.selector).length === 0) return 'service has no selector';
  return templates.some((t) => sameNamespace(t.owner, s) && selects(s.spec.selector, t.labels)) ? undefined : `selector ${JSON.stringify(s.spec.selector)} matches no pod template`;
}));
define('kl-deprecated-service-account-field', 'kube-linter', 'spec.serviceAccount is not used', perPod('kl-deprecated-service-account-field', (p) => (p.serviceAccount && p.serviceAccount !== p.serviceAccountName ? 'uses the deprecated serviceAccount field' : undefined)));
define('kl-docker-sock', 'kube-linter', 'no docker.sock mount', perPod('kl-docker-sock', (p) => ((p.volumes ?? []).some((v: any) => /docker\.sock$/.test(v.hostPath?.path ?? '')) ? 'mounts docker.sock' : undefined)));
define('kl-drop-net-raw-capability', 'kube-linter', 'NET_RAW is dropped', perContainer('kl-drop-net-raw-capability', (c) => {
  const caps = c.securityContext?.capabilities;
  if (!caps) return undefined;
  const drops = (caps.drop ?? []).map((d: string) => d.toUpperCase());
  const adds = (caps.add ?? []).map((d: string) => d.toUpperCase());
  return !drops.includes('NET_RAW') && !drops.includes('ALL') ? 'NET_RAW is not dropped' : adds.some((a: string) => a === 'NET_RAW' || a === 'ALL') ? 'adds NET_RAW' : undefined;
}));
define('kl-duplicate-env-var', 'kube-linter', 'no duplicate environment variables', perContainer('kl-duplicate-env-var', (c) => {
  const names = (c.env ?? []).map((e: any) => e.name);
  const dup = names.find((n: string, i: number) => names.indexOf(n) !== i);
  return dup ? `env ${dup} is set twice` : undefined;
}));
define('kl-env-var-secret', 'kube-linter', 'no secret values in environment variables', perContainer('kl-env-var-secret', (c) => {
  const bad = (c.env ?? []).find((e: any) => /secret|password|token|bearer/i.test(e.name) && typeof e.value === 'string' && e.value !== '');
  return bad ? `env ${bad.name} carries a literal secret value` : undefined;
}));
define('kl-invalid-target-ports', 'kube-linter', 'port names are valid IANA service names', (templates, objects) => {
  const valid = (name: string) => name.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) && /[a-z]/.test(name) && !name.includes('--');
  const out: PolicyViolation[] = [];
  for (const t of templates) for (const c of containers(t.spec)) for (const p of c.ports ?? []) if (p.name !== undefined && !valid(p.name)) out.push({ check: 'kl-invalid-target-ports', object: ref(t.owner), message: `container port name "${p.name}" is not a valid port name` });
  for (const s of objects.filter((o) => o.kind === 'Service')) {
    for (const p of s.spec?.ports ?? []) {
      if (typeof p.targetPort === 'string' && !valid(p.targetPort)) out.push({ check: 'kl-invalid-target-ports', object: ref(s), message: `targetPort "${p.targetPort}" is not a valid port name` });
      if (typeof p.targetPort === 'number' && (p.targetPort < 1 || p.targetPort > 65535)) out.push({ check: 'kl-invalid-target-ports', object: ref(s), message: `targetPort ${p.targetPort} is out of range` });
    }
  }
  return out;
});
define('kl-job-ttl-seconds-after-finished', 'kube-linter', 'Jobs set ttlSecondsAfterFinished; CronJob templates do not', perObject('kl-job-ttl-seconds-after-finished', ['Job', 'CronJob'], (o) => {
  if (o.kind === 'Job') return o.spec?.ttlSecondsAfterFinished === undefined ? 'a standalone Job must set ttlSecondsAfterFinished' : undefined;
  return o.spec?.jobTemplate?.spec?.ttlSecondsAfterFinished !== undefined ? 'a CronJob must not set ttlSecondsAfterFinished in its jobTemplate (use history limits)' : undefined;
}));
define('kl-latest-tag', 'kube-linter', 'images carry a pinned tag or digest, never latest', perContainer('kl-latest-tag', (c) => {
  const image: string = c.image ?? '';
  if (image.includes('@sha256:')) return undefined;
  const { tag } = parseImageRef(image);
  return !tag || tag === 'latest' ? `image "${image}" is not pinned` : undefined;
}));
for (const probe of ['liveness', 'readiness', 'startup']) {
  const id = `kl-${probe}-port`;
  define(id, 'kube-linter', `the ${probe} probe targets a declared container port`, perContainer(id, (c) => {
    const p = c[`${probe}Probe`];
    const port = p?.httpGet?.port ?? p?.tcpSocket?.port ?? p?.grpc?.port;
    if (port === undefined) return undefined;
    const declared = (c.ports ?? []).filter((cp: any) => (cp.protocol ?? 'TCP') === 'TCP');
    return declared.some((cp: any) => cp.name === port || cp.containerPort === port) ? undefined : `${probe}Probe port ${port} is not a declared TCP port`;
  }, false));
}
define('kl-mismatching-selector', 'kube-linter', 'workload selectors match their pod template labels', perObject('kl-mismatching-selector', ['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet', 'Rollout'], (o) => {
  if (o.kind === 'Rollout' && o.spec?.workloadRef) return undefined;
  const labels = o.spec?.template?.metadata?.labels ?? {};
  if (!o.spec?.selector || (!o.spec.selector.matchLabels && !o.spec.selector.matchExpressions)) return 'selector is empty';
  return labelSelectorMatches(o.spec.selector, labels) ? undefined : 'selector does not match the pod template labels';
}));
define('kl-no-anti-affinity', 'kube-linter', 'two or more replicas carry pod anti-affinity on kubernetes.io/hostname', perPod('kl-no-anti-affinity', (p, t) => {
  if ((t.replicas ?? 1) < 2) return undefined;
  const terms = [...(p.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []), ...(p.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w: any) => w.podAffinityTerm)];
  return terms.some((term: any) => term.topologyKey === 'kubernetes.io/hostname' && labelSelectorMatches(term.labelSelector, t.labels)) ? undefined : `${t.replicas} replicas without pod anti-affinity on kubernetes.io/hostname`;
}));
define('kl-no-extensions-v1beta', 'kube-linter', 'no extensions/v1beta* APIs', (_t, objects) =>
  objects.filter((o) => /^extensions\/v1beta/.test(o.apiVersion)).map((o) => ({ check: 'kl-no-extensions-v1beta', object: ref(o), message: `uses ${o.apiVersion}` })));
define('kl-no-read-only-root-fs', 'kube-linter', 'readOnlyRootFilesystem: true on every container', perContainer('kl-no-read-only-root-fs', (c) => (c.securityContext?.readOnlyRootFilesystem === true ? undefined : 'readOnlyRootFilesystem is not true')));
define('kl-non-existent-service-account', 'kube-linter', 'the pods\' ServiceAccount exists in the same namespace', (templates, objects) => templates.flatMap((t) => {
  const name = t.spec.serviceAccountName ?? t.spec.serviceAccount;
  if (!name || name === 'default') return [];
  return objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === name && sameNamespace(o, t.owner)) ? [] : [{ check: 'kl-non-existent-service-account', object: ref(t.owner), message: `ServiceAccount "${name}" does not exist` }];
}));
define('kl-pdb-max-unavailable', 'kube-linter', 'a PDB\'s maxUnavailable is not 0', perObject('kl-pdb-max-unavailable', ['PodDisruptionBudget'], (o) => (o.spec?.maxUnavailable === 0 || o.spec?.maxUnavailable === '0%' ? 'maxUnavailable 0 blocks every eviction' : undefined)));
define('kl-pdb-min-available', 'kube-linter', 'a PDB has a selector and its minAvailable stays below the replicas', perObject('kl-pdb-min-available', ['PodDisruptionBudget'], (o, _objects, templates) => {
  if (!o.spec?.selector) return 'PDB has no selector';
  const min = o.spec.minAvailable;
  if (min === '100%') return 'minAvailable 100% blocks every eviction';
  if (typeof min !== 'number') return undefined;
  const blocked = templates.filter((t) => sameNamespace(t.owner, o) && labelSelectorMatches(o.spec.selector, t.labels)).find((t) => (t.replicas ?? 1) <= min);
  return blocked ? `minAvailable ${min} is not below ${ref(blocked.owner)}'s ${blocked.replicas ?? 1} replicas` : undefined;
}));
define('kl-pdb-unhealthy-pod-eviction-policy', 'kube-linter', 'PDBs set unhealthyPodEvictionPolicy', perObject('kl-pdb-unhealthy-pod-eviction-policy', ['PodDisruptionBudget'], (o) => (o.spec?.unhealthyPodEvictionPolicy ? undefined : 'unhealthyPodEvictionPolicy is not set')));
define('kl-privilege-escalation-container', 'kube-linter', 'no privilege escalation, privileged mode or SYS_ADMIN', perContainer('kl-privilege-escalation-container', (c) => {
  const sc = c.securityContext ?? {};
  return sc.allowPrivilegeEscalation === true || sc.privileged === true || (sc.capabilities?.add ?? []).includes('SYS_ADMIN') ? 'allows privilege escalation' : undefined;
}));
define('kl-privileged-container', 'kube-linter', 'no privileged containers', perContainer('kl-privileged-container', (c) => (c.securityContext?.privileged === true ? 'privileged' : undefined)));
define('kl-run-as-non-root', 'kube-linter', 'containers run as a non-root user and group', perContainer('kl-run-as-non-root', (c, pod) => {
  if (effective(c, pod, 'runAsGroup') === 0) return 'runAsGroup is 0';
  const user = effective(c, pod, 'runAsUser');
  const nonRoot = effective(c, pod, 'runAsNonRoot');
  if (nonRoot === true && user === 0) return 'runAsNonRoot with runAsUser 0';
  return (typeof user === 'number' && user > 0) || nonRoot === true ? undefined : 'neither runAsNonRoot nor a non-zero runAsUser';
}));
define('kl-sensitive-host-mounts', 'kube-linter', 'no sensitive host paths', perPod('kl-sensitive-host-mounts', (p) => {
  const bad = (p.volumes ?? []).filter((v: any) => /^\/$|^\/(boot|dev|etc|lib|proc|sys|usr)(\/|$)/.test(v.hostPath?.path ?? 'x')).map((v: any) => v.hostPath.path);
  return bad.length > 0 ? `mounts ${bad.join(', ')}` : undefined;
}));
define('kl-ssh-port', 'kube-linter', 'no container exposes port 22', perContainer('kl-ssh-port', (c) => ((c.ports ?? []).some((p: any) => p.containerPort === 22) ? 'exposes port 22' : undefined)));
const UNSAFE_SYSCTL = /^(kernel\.msg|kernel\.sem|kernel\.shm|fs\.mqueue\.|net\.)/;
define('kl-unsafe-sysctls', 'kube-linter', 'no unsafe sysctls', perPod('kl-unsafe-sysctls', (p) => {
  const bad = (p.securityContext?.sysctls ?? []).map((s: any) => s.name).filter((n: string) => UNSAFE_SYSCTL.test(n));
  return bad.length > 0 ? `unsafe sysctls: ${bad.join(', ')}` : undefined;
}));
define('kl-unset-cpu-requirements', 'kube-linter', 'every container requests CPU', perContainer('kl-unset-cpu-requirements', (c) => (c.resources?.requests?.cpu ? undefined : 'no CPU request')));
define('kl-unset-memory-requirements', 'kube-linter', 'every container has a memory limit', perContainer('kl-unset-memory-requirements', (c) => (c.resources?.limits?.memory ? undefined : 'no memory limit')));

// ---- model-serving: what the issue asks beyond the two standards ----

define('ms-requests-and-limits', 'model-serving', 'every container has CPU and memory requests and limits', perContainer('ms-requests-and-limits', (c) => {
  const missing = ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'].filter((path) => {
    const [kind, resource] = path.split('.');
    return !c.resources?.[kind]?.[resource];
  });
  return missing.length > 0 ? `missing ${missing.join(', ')}` : undefined;
}));
define('ms-dangling-ingress', 'model-serving', 'Ingress backends name a Service and a port that exist', perObject('ms-dangling-ingress', ['Ingress'], (o, objects) => {
  for (const rule of o.spec?.rules ?? []) {
    for (const path of rule.http?.paths ?? []) {
      const backend = path.backend?.service;
      if (!backend) continue;
      const service = objects.find((s) => s.kind === 'Service' && s.metadata.name === backend.name && sameNamespace(s, o));
      if (!service) return `backend Service "${backend.name}" does not exist`;
      const port = backend.port?.name ?? backend.port?.number;
      if (!(service.spec?.ports ?? []).some((p: any) => p.name === port || p.port === port)) return `Service "${backend.name}" has no port ${port}`;
    }
  }
  return undefined;
}));
define('ms-dangling-hpa', 'model-serving', 'autoscalers target a workload that exists', perObject('ms-dangling-hpa', ['HorizontalPodAutoscaler', 'ScaledObject'], (o, objects) => {
  const target = o.kind === 'ScaledObject' ? o.spec?.scaleTargetRef : o.spec?.scaleTargetRef;
  if (!target) return 'no scaleTargetRef';
  const kind = target.kind ?? 'Deployment';
  const apiVersion = target.apiVersion ?? 'apps/v1';
  return objects.some((w) => w.kind === kind && w.apiVersion === apiVersion && w.metadata.name === target.name && sameNamespace(w, o)) ? undefined : `target ${apiVersion} ${kind}/${target.name} does not exist`;
}));
define('ms-dangling-networkpolicy', 'model-serving', 'NetworkPolicies select pods that exist (an empty selector selects all)', perObject('ms-dangling-networkpolicy', ['NetworkPolicy'], (o, _objects, templates) => {
  const selector = o.spec?.podSelector ?? {};
  if (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0) return undefined;
  return templates.some((t) => sameNamespace(t.owner, o) && labelSelectorMatches(selector, t.labels)) ? undefined : 'podSelector matches no pod template';
}));
define('ms-production-spread', 'model-serving', 'production workloads with two or more replicas use anti-affinity or topology spread', (templates, _objects, options) => templates.flatMap((t) => {
  const production = new Set(options.productionNamespaces ?? []);
  if (!production.has(t.owner.metadata.namespace ?? '') || t.isJob) return [];
  const replicas = t.replicas ?? 2; // unset: an autoscaler owns it, and its floor is at least 2 in production
  if (replicas < 2) return [];
  const spread = (t.spec.topologySpreadConstraints ?? []).length > 0;
  const anti = t.spec.affinity?.podAntiAffinity !== undefined;
  return spread || anti ? [] : [{ check: 'ms-production-spread', object: ref(t.owner), message: `${replicas} production replicas with neither pod anti-affinity nor topology spread` }];
}));
