// What the API server checks that no OpenAPI schema states: name formats per kind, label keys and
// values (in metadata, selectors and node selectors), the annotations' total size, tolerations,
// and a CronJob's schedule and time zone. After k8s.io/apimachinery/pkg/api/validation
// (ValidateObjectMeta, ValidateAnnotations), pkg/util/validation (IsDNS1123Label, IsDNS1035Label,
// IsQualifiedName, IsValidLabelValue), and kubernetes' pkg/apis/core/validation
// (ValidateTolerations) and pkg/apis/batch/validation (ValidateCronJobSpec).
import { cronScheduleProblem } from '../private/cron';
import { CRONJOB_NAME_MAX_LENGTH, DNS_LABEL_PATTERN, LABEL_VALUE_PATTERN } from '../private/names';
import { timeZoneProblem } from '../private/time-zone';

/** One broken rule: a JSON pointer into the object and what is wrong there. */
export interface ApiServerProblem {
  readonly path: string;
  readonly message: string;
}

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Kubernetes' limits, as apimachinery names them. */
const DNS1123_LABEL_MAX_LENGTH = 63;
const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const LABEL_VALUE_MAX_LENGTH = 63;
/** TotalAnnotationSizeLimitB: the keys and values of one object's annotations together. */
export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

/** Why `value` is not a DNS-1123 label (namespace names, most derived names), or `undefined`. */
function dnsLabelProblem(value: string): string | undefined {
  if (value.length > DNS1123_LABEL_MAX_LENGTH) return `must be at most ${DNS1123_LABEL_MAX_LENGTH} characters (it has ${value.length})`;
  return DNS_LABEL_PATTERN.test(value) ? undefined : 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit';
}

/** Why `value` is not a label value, or `undefined`. */
function labelValueProblem(value: string): string | undefined {
  if (value.length > LABEL_VALUE_MAX_LENGTH) return `must be at most ${LABEL_VALUE_MAX_LENGTH} characters (it has ${value.length})`;
  return LABEL_VALUE_PATTERN.test(value) ? undefined : 'must be empty or letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
}

/** Why `key` is not a label or annotation key (`[prefix/]name`), or `undefined`. */
function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'must be a name with an optional DNS subdomain prefix and one "/"';
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > DNS1123_SUBDOMAIN_MAX_LENGTH || !DNS1123_SUBDOMAIN.test(prefix))) {
    return 'has a prefix that is not a DNS subdomain';
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return 'must have a name part of at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
  }
  return undefined;
}

function subdomainProblem(value: string): string | undefined {
  if (value.length > DNS1123_SUBDOMAIN_MAX_LENGTH) return `must be at most ${DNS1123_SUBDOMAIN_MAX_LENGTH} characters (it has ${value.length})`;
  return DNS1123_SUBDOMAIN.test(value) ? undefined : 'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit';
}

/** How the API server validates `metadata.name` of a kind (ValidateObjectMeta's nameFn, plus the kind's own limits). */
function nameProblem(kind: string, name: string): string | undefined {
  switch (kind) {
    case 'Namespace':
      return dnsLabelProblem(name);
    case 'Service':
      if (name.length > DNS1123_LABEL_MAX_LENGTH) return `must be at most ${DNS1123_LABEL_MAX_LENGTH} characters (it has ${name.length})`;
      return DNS1035_LABEL.test(name) ? undefined : 'must be a DNS-1035 label: lowercase letters, digits and "-", starting with a letter';
    case 'CronJob':
      return subdomainProblem(name) ?? (name.length > CRONJOB_NAME_MAX_LENGTH ? `must be at most ${CRONJOB_NAME_MAX_LENGTH} characters (it has ${name.length}): its Jobs add 11` : undefined);
    case 'Job':
      // The API server labels the Job's pods with batch.kubernetes.io/job-name: <name>.
      return subdomainProblem(name) ?? (name.length > LABEL_VALUE_MAX_LENGTH ? `must be at most ${LABEL_VALUE_MAX_LENGTH} characters (it has ${name.length}): it becomes the pods' job-name label` : undefined);
    case 'Role':
    case 'RoleBinding':
    case 'ClusterRole':
    case 'ClusterRoleBinding':
      return name === '.' || name === '..' || /[/%]/.test(name) ? 'must be a path segment: not "." or "..", without "/" or "%"' : undefined;
    default:
      return subdomainProblem(name);
  }
}

const pointer = (parts: readonly (string | number)[]): string => parts.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Everything the API server would refuse in `object`'s metadata, its embedded templates' metadata
 * and its label selectors. The object's own schema is checked elsewhere.
 */
export function apiServerProblems(object: unknown): ApiServerProblem[] {
  if (!isRecord(object)) return [];
  const problems: ApiServerProblem[] = [];
  const add = (at: readonly (string | number)[], message: string) => problems.push({ path: pointer(at), message });
  const metadata = object.metadata;
  if (isRecord(metadata)) {
    if (typeof metadata.name === 'string' && typeof object.kind === 'string') {
      const problem = nameProblem(object.kind, metadata.name);
      if (problem) add(['metadata', 'name'], `${JSON.stringify(metadata.name)} ${problem}`);
    }
    if (typeof metadata.namespace === 'string') {
      const problem = dnsLabelProblem(metadata.namespace);
      if (problem) add(['metadata', 'namespace'], `${JSON.stringify(metadata.namespace)} ${problem}`);
    }
  }
  if (object.kind === 'CronJob' && isRecord(object.spec)) {
    const { schedule, timeZone } = object.spec;
    const scheduleProblem = typeof schedule === 'string' ? cronScheduleProblem(schedule, { descriptors: true }) : undefined;
    if (scheduleProblem) add(['spec', 'schedule'], `${JSON.stringify(schedule)} ${scheduleProblem}`);
    const zoneProblem = typeof timeZone === 'string' ? timeZoneProblem(timeZone) : undefined;
    if (zoneProblem) add(['spec', 'timeZone'], `${JSON.stringify(timeZone)} ${zoneProblem}`);
  }
  walk(object, [], add);
  return problems;
}

type Add = (at: readonly (string | number)[], message: string) => void;

/** Visits every metadata block (the object's and its templates') and every label map and selector. */
function walk(value: unknown, at: (string | number)[], add: Add): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, [...at, i], add));
    return;
  }
  if (!isRecord(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const here = [...at, key];
    if (key === 'metadata' && isRecord(child)) {
      if (isRecord(child.labels)) checkLabels(child.labels, [...here, 'labels'], add);
      if (isRecord(child.annotations)) checkAnnotations(child.annotations, [...here, 'annotations'], add);
    } else if ((key === 'matchLabels' || key === 'nodeSelector') && isRecord(child)) {
      checkLabels(child, here, add);
    } else if (key === 'tolerations' && Array.isArray(child)) {
      child.forEach((toleration, i) => {
        if (isRecord(toleration)) checkToleration(toleration, [...here, i], add);
      });
    } else if (key === 'matchExpressions' && Array.isArray(child)) {
      child.forEach((expression, i) => {
        if (!isRecord(expression) || !Array.isArray(expression.values)) return;
        expression.values.forEach((v, j) => {
          const problem = typeof v === 'string' ? labelValueProblem(v) : undefined;
          if (problem) add([...here, i, 'values', j], `label value ${JSON.stringify(v)} ${problem}`);
        });
      });
    } else if (key === 'selector' && at.length === 1 && at[0] === 'spec' && isRecord(child) && !('matchLabels' in child) && !('matchExpressions' in child)) {
      // A Service's selector is a plain label map.
      checkLabels(child, here, add);
    }
    walk(child, here, add);
  }
}

function checkToleration(t: Record<string, unknown>, at: readonly (string | number)[], add: Add): void {
  const key = typeof t.key === 'string' ? t.key : '';
  const operator = typeof t.operator === 'string' ? t.operator : 'Equal';
  if (key !== '') {
    const problem = qualifiedNameProblem(key);
    if (problem) add([...at, 'key'], `toleration key ${JSON.stringify(key)} ${problem}`);
  } else if (operator !== 'Exists') {
    add([...at, 'operator'], 'must be "Exists" when the key is empty');
  }
  if (operator === 'Exists' && typeof t.value === 'string' && t.value !== '') add([...at, 'value'], 'must be empty when the operator is "Exists"');
  if (typeof t.value === 'string') {
    const problem = labelValueProblem(t.value);
    if (problem) add([...at, 'value'], `toleration value ${JSON.stringify(t.value)} ${problem}`);
  }
  if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') add([...at, 'effect'], 'must be "NoExecute" when tolerationSeconds is set');
}

function checkLabels(labels: Record<string, unknown>, at: readonly (string | number)[], add: Add): void {
  for (const [key, value] of Object.entries(labels)) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) add([...at, key], `label key ${JSON.stringify(key)} ${keyProblem}`);
    const valueProblem = typeof value === 'string' ? labelValueProblem(value) : undefined;
    if (valueProblem) add([...at, key], `label value ${JSON.stringify(value)} ${valueProblem}`);
  }
}

function checkAnnotations(annotations: Record<string, unknown>, at: readonly (string | number)[], add: Add): void {
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) {
    const keyProblem = qualifiedNameProblem(key.toLowerCase());
    if (keyProblem) add([...at, key], `annotation key ${JSON.stringify(key)} ${keyProblem}`);
    size += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) {
    add(at, `annotations total ${size} bytes; the API server allows at most ${TOTAL_ANNOTATION_SIZE_LIMIT_BYTES} (256 KiB) per object`);
  }
}
