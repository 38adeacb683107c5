import * as k8s from '../../imports/k8s';

// The Pod Security "restricted" settings and the egress every AWS-fetching pod needs, in one
// place, so the serving pods, the packaging Job, the backup CronJob and Redis cannot drift apart.

/** Pod-level: non-root user and group, volumes owned by the group, the runtime's seccomp profile. */
export function restrictedPodSecurity(uid: number, gid: number = uid): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    // Also makes the IRSA token, which the EKS webhook mounts, readable by the non-root user.
    fsGroup: gid,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level: no privilege escalation, a read-only root filesystem, no capabilities. */
export function restrictedContainerSecurity(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  };
}

/** Egress to the cluster DNS (kube-dns in kube-system), UDP and TCP 53. */
export function dnsEgressRule(): k8s.NetworkPolicyEgressRule {
  return {
    to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
    ports: [{ protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) }, { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) }],
  };
}

/**
 * Where object storage is when nothing narrower is known: anywhere, which
 * {@link objectStorageEgressRule} writes without the instance metadata address.
 */
export const ANY_OBJECT_STORAGE: readonly string[] = ['0.0.0.0/0'];

/**
 * Egress on 443 to object storage (and STS, for IRSA). "Anywhere" never includes the instance
 * metadata address: pods must not borrow the node's role, IRSA replaces it.
 */
export function objectStorageEgressRule(cidrs: readonly string[]): k8s.NetworkPolicyEgressRule {
  return {
    to: cidrs.map((cidr) => ({ ipBlock: cidr === '0.0.0.0/0' ? { cidr, except: ['169.254.169.254/32'] } : { cidr } })),
    ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(443) }],
  };
}
