/** RFC 1123 label: what Kubernetes requires of namespace and most object names. */
export const DNS_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A label or annotation key: optional DNS-subdomain prefix, then a name of at most 63 characters. */
export const LABEL_KEY_PATTERN = /^(([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** A label value: empty, or at most 63 alphanumerics with "-", "_" and "." inside. */
export const LABEL_VALUE_PATTERN = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Whether `key` is a label or annotation key: its prefix a DNS subdomain of at most 253 characters. */
export function isLabelKey(key: string): boolean {
  if (!LABEL_KEY_PATTERN.test(key)) return false;
  const slash = key.indexOf('/');
  return slash === -1 || (slash <= 253 && key.slice(0, slash).split('.').every((label) => label.length <= 63));
}

/**
 * A DNS name that a route serves and a certificate names: two or more DNS labels of at most 63
 * characters each, at most 253 in all, lowercase.
 */
const HOSTNAME_PATTERN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;

/** Whether `host` is a DNS name such as "api.example.com" (see {@link HOSTNAME_PATTERN}). */
export function isHostname(host: string): boolean {
  return HOSTNAME_PATTERN.test(host);
}

/** A CronJob's Jobs are named `<cronjob>-<11 characters>`, and a Job name is a label value. */
export const CRONJOB_NAME_MAX_LENGTH = 52;

export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL_PATTERN.test(value);
}

/**
 * The Kubernetes name of a TorchServe model: TorchServe names may contain "_", which object
 * names may not, so "intent_classifier" becomes "intent-classifier".
 */
export function toResourceName(modelName: string): string {
  return modelName.replace(/_/g, '-');
}
