import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readManifestDocuments } from '../private/yaml-source';

/** A Kubernetes object as read from a manifest file. */
export interface ManifestObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/** The objects of an output folder, by environment (the first folder level). */
export type ManifestSet = ReadonlyMap<string, readonly ManifestObject[]>;

/** What happened to an object. */
export enum ChangeType {
  ADDED = 'added',
  REMOVED = 'removed',
  CHANGED = 'changed',
}

/** Kinds of change a reviewer must look at twice. */
export enum RiskCategory {
  MODEL_VERSION = 'model version',
  IMAGE = 'image',
  REPLICAS = 'replicas',
  RESOURCES = 'resources',
  SELECTOR = 'selector',
  IMMUTABLE_FIELD = 'immutable field',
  NETWORK_POLICY = 'network policy',
  RBAC = 'RBAC and identity',
  STRATEGY = 'strategy',
  ALERT_THRESHOLD = 'alert thresholds',
  SECURITY = 'security context',
}

/** One changed leaf of an object. `before` or `after` is undefined when the field was added or removed. */
export interface FieldChange {
  /** A readable path such as `spec.template.spec.containers[torchserve].image`. */
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** A change a reviewer must look at twice, and why. */
export interface Risk {
  readonly category: RiskCategory;
  readonly message: string;
}

/** An added, removed or changed object. */
export interface ObjectChange {
  readonly environment: string;
  readonly type: ChangeType;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** The changed fields (changed objects only), in a stable order. */
  readonly fields: readonly FieldChange[];
  readonly risks: readonly Risk[];
}

/** The difference between two output folders. */
export interface ManifestDiff {
  /** Every environment present on either side, sorted. */
  readonly environments: readonly string[];
  /** Changes sorted by environment, then kind, namespace and name. */
  readonly changes: readonly ObjectChange[];
}

type Segment = string | { readonly key: string; readonly value: string } | number;

interface LeafChange {
  readonly segments: readonly Segment[];
  readonly before?: unknown;
  readonly after?: unknown;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Rollout', 'Job', 'CronJob']);
const IMMUTABLE_SELECTOR_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Rollout', 'Job']);
const RBAC_KINDS = new Set(['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']);
const NETWORK_POLICY_KINDS = new Set(['NetworkPolicy', 'CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy', 'AuthorizationPolicy']);
/** Array elements with one of these keys are matched by it, not by position. */
const ELEMENT_KEYS = ['name', 'alert', 'record'];
const MODEL_VERSION_LABEL = 'app.kubernetes.io/version';
const IRSA_ANNOTATION = 'eks.amazonaws.com/role-arn';

// ---- reading ----

/** Reads `<dir>/<environment>/*.yaml` (kustomization files excluded). */
export function readManifestDirectory(dir: string): ManifestSet {
  const files: [string, string][] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else files.push([child, fs.readFileSync(path.join(dir, child), 'utf-8')]);
    }
  };
  walk('');
  return toManifestSet(files);
}

/**
 * Reads the same layout from a git revision: every file under `dir` at `ref`, through one
 * `git cat-file --batch`. `dir` is relative to `cwd`, which must be inside the repository.
 * A revision without the folder gives an empty set.
 */
export function readManifestsAtRef(ref: string, dir: string, cwd: string): ManifestSet {
  const git = (args: string[], input?: string) => {
    const result = spawnSync('git', args, { cwd, input, maxBuffer: 512 * 1024 * 1024 });
    if (result.error) throw result.error;
    if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr.toString().trim()}`);
    return result.stdout;
  };
  const prefix = git(['rev-parse', '--show-prefix']).toString().trim();
  const listing = git(['ls-tree', '-r', '-z', '--full-name', '--name-only', ref, '--', dir]).toString();
  const paths = listing.split('\0').filter((p) => p !== '');
  if (paths.length === 0) return new Map();
  const output = git(['cat-file', '--batch'], paths.map((p) => `${ref}:${p}\n`).join(''));
  // The folder's own path from the repository root, to strip from every listed path.
  const fromRoot = path.isAbsolute(dir)
    ? path.relative(git(['rev-parse', '--show-toplevel']).toString().trim(), fs.existsSync(dir) ? fs.realpathSync(dir) : dir).split(path.sep).join('/')
    : `${prefix}${dir}`;
  const root = path.posix.normalize(fromRoot).replace(/\/+$/, '');
  const files: [string, string][] = [];
  let offset = 0;
  for (const full of paths) {
    const newline = output.indexOf(0x0a, offset);
    const header = output.subarray(offset, newline).toString();
    const match = /^[0-9a-f]+ blob (\d+)$/.exec(header);
    if (!match) throw new Error(`git cat-file gave "${header}" for ${ref}:${full}`);
    const size = Number(match[1]);
    const content = output.subarray(newline + 1, newline + 1 + size).toString('utf-8');
    offset = newline + 1 + size + 1;
    files.push([full.startsWith(`${root}/`) ? full.slice(root.length + 1) : full, content]);
  }
  return toManifestSet(files);
}

function toManifestSet(files: [string, string][]): ManifestSet {
  const set = new Map<string, ManifestObject[]>();
  for (const [rel, content] of files.sort(([a], [b]) => a.localeCompare(b))) {
    const base = path.posix.basename(rel);
    if (!/\.ya?ml$/.test(base) || /^kustomization\.ya?ml$/.test(base)) continue;
    const environment = rel.includes('/') ? rel.split('/')[0] : '';
    const objects = set.get(environment) ?? [];
    for (const value of readManifestDocuments(content)) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) objects.push(value as ManifestObject);
    }
    set.set(environment, objects);
  }
  return set;
}

// ---- diffing ----

/** Compares two output folders object by object, keyed by API group, kind, namespace and name. */
export function diffManifests(base: ManifestSet, head: ManifestSet): ManifestDiff {
  const environments = [...new Set([...base.keys(), ...head.keys()])].sort();
  const changes: ObjectChange[] = [];
  for (const environment of environments) {
    const before = index(base.get(environment) ?? []);
    const after = index(head.get(environment) ?? []);
    const keys = [...new Set([...before.keys(), ...after.keys()])];
    const envChanges: ObjectChange[] = [];
    for (const key of keys) {
      const a = before.get(key);
      const b = after.get(key);
      const object = (b ?? a) as ManifestObject;
      const identity = { environment, kind: object.kind ?? '(no kind)', namespace: object.metadata?.namespace, name: object.metadata?.name ?? '(no name)' };
      if (a === undefined) {
        envChanges.push({ ...identity, type: ChangeType.ADDED, fields: [], risks: risksOfPresence(object, ChangeType.ADDED) });
      } else if (b === undefined) {
        envChanges.push({ ...identity, type: ChangeType.REMOVED, fields: [], risks: risksOfPresence(object, ChangeType.REMOVED) });
      } else {
        const leaves: LeafChange[] = [];
        diffValues(a, b, [], leaves);
        if (leaves.length === 0) continue;
        envChanges.push({
          ...identity,
          type: ChangeType.CHANGED,
          fields: leaves.map((l) => ({ path: formatPath(l.segments), before: l.before, after: l.after })),
          risks: risksOfChange(object, leaves),
        });
      }
    }
    addReplacementRisks(envChanges, [...before.values(), ...after.values()]);
    changes.push(...envChanges.sort(compareChanges));
  }
  return { environments, changes };
}

function index(objects: readonly ManifestObject[]): Map<string, ManifestObject> {
  const map = new Map<string, ManifestObject>();
  for (const o of objects) map.set(objectKey(o), o);
  return map;
}

function objectKey(o: ManifestObject): string {
  const apiVersion = o.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  return [group, o.kind ?? '', o.metadata?.namespace ?? '', o.metadata?.name ?? ''].join('\u0000');
}

function compareChanges(a: ObjectChange, b: ObjectChange): number {
  return a.kind.localeCompare(b.kind) || (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The key that identifies the elements of both arrays, when every element is an object carrying it uniquely. */
function sharedElementKey(a: unknown[], b: unknown[]): string | undefined {
  if (a.length + b.length === 0 || ![...a, ...b].every(isPlainObject)) return undefined;
  return ELEMENT_KEYS.find((key) => [a, b].every((side) => {
    const values = side.map((item) => (item as Record<string, unknown>)[key]);
    return values.every((v) => typeof v === 'string') && new Set(values).size === values.length;
  }));
}

function diffValues(a: unknown, b: unknown, segments: Segment[], out: LeafChange[]): void {
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      diffValues(a[key], b[key], [...segments, key], out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const sharedKey = sharedElementKey(a, b);
    if (sharedKey !== undefined) {
      const byKey = (items: unknown[]) => new Map(items.map((item) => [String((item as Record<string, unknown>)[sharedKey]), item]));
      const left = byKey(a);
      const right = byKey(b);
      const order = [...left.keys(), ...[...right.keys()].filter((k) => !left.has(k))];
      for (const k of order) diffValues(left.get(k), right.get(k), [...segments, { key: sharedKey, value: k }], out);
      return;
    }
    if (a.length === b.length && (a.some(isPlainObject) || b.some(isPlainObject))) {
      a.forEach((item, i) => diffValues(item, b[i], [...segments, i], out));
      return;
    }
  }
  if (!deepEqual(a, b)) out.push({ segments, before: a, after: b });
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isPlainObject(value)) return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  return value;
}

function formatPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'object') out += s.key === 'name' ? `[${s.value}]` : `[${s.key}=${s.value}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

// ---- risks ----

const text = (s: Segment) => (typeof s === 'string' ? s : typeof s === 'object' ? s.value : String(s));

function has(segments: readonly Segment[], ...names: string[]): boolean {
  return segments.some((s) => typeof s === 'string' && names.includes(s));
}

function startsWith(segments: readonly Segment[], ...prefix: string[]): boolean {
  return prefix.every((p, i) => segments[i] === p);
}

function risksOfPresence(o: ManifestObject, type: ChangeType): Risk[] {
  const kind = o.kind ?? '';
  const verb = type === ChangeType.ADDED ? 'added' : 'removed';
  const risks: Risk[] = [];
  if (NETWORK_POLICY_KINDS.has(kind)) {
    risks.push({ category: RiskCategory.NETWORK_POLICY, message: type === ChangeType.ADDED ? `${kind} added: traffic it does not allow is now denied` : `${kind} removed: the traffic it allowed is denied, or what it denied is allowed (kubectl apply does not prune it)` });
  }
  if (RBAC_KINDS.has(kind)) risks.push({ category: RiskCategory.RBAC, message: `${kind} ${verb}` });
  if (kind === 'PrometheusRule') risks.push({ category: RiskCategory.ALERT_THRESHOLD, message: `alert rules ${verb}` });
  if (type === ChangeType.REMOVED && (kind === 'Deployment' || kind === 'Rollout' || kind === 'StatefulSet')) {
    risks.push({ category: RiskCategory.REPLICAS, message: `${kind} removed: its pods stop serving once it is deleted (an Argo CD prune deletes it; kubectl apply leaves it running)` });
  }
  if (kind === 'ServiceAccount' && type === ChangeType.ADDED) {
    const role = (o.metadata?.annotations as Record<string, string> | undefined)?.[IRSA_ANNOTATION];
    if (role) risks.push({ category: RiskCategory.RBAC, message: `new identity with IAM role ${role}` });
  }
  return risks;
}

function risksOfChange(o: ManifestObject, leaves: readonly LeafChange[]): Risk[] {
  const kind = o.kind ?? '';
  const risks: Risk[] = [];
  const add = (category: RiskCategory, message: string) => {
    if (!risks.some((r) => r.category === category && r.message === message)) risks.push({ category, message });
  };
  const inPod = (s: readonly Segment[]) => has(s, 'containers', 'initContainers');
  for (const { segments: s, before, after } of leaves) {
    const last = s[s.length - 1];
    const change = `${show(before)} → ${show(after)}`;

    if (inPod(s) && last === 'image') add(RiskCategory.IMAGE, `${containerName(s)}: ${change}`);
    if (WORKLOAD_KINDS.has(kind)) {
      if (startsWith(s, 'metadata', 'labels', MODEL_VERSION_LABEL)) add(RiskCategory.MODEL_VERSION, change);
      const env = envName(s);
      if (env === 'MODEL_VERSION' && last === 'value') add(RiskCategory.MODEL_VERSION, change);
    }
    if (WORKLOAD_KINDS.has(kind) && s.length >= 2 && s[s.length - 2] === 'annotations' && text(last).endsWith('/model-archive')) {
      add(RiskCategory.MODEL_VERSION, `archive ${change}`);
    }

    if (startsWith(s, 'spec', 'replicas')) add(RiskCategory.REPLICAS, `replicas ${change}`);
    if (kind === 'HorizontalPodAutoscaler' && (startsWith(s, 'spec', 'minReplicas') || startsWith(s, 'spec', 'maxReplicas'))) add(RiskCategory.REPLICAS, `${text(s[1])} ${change}`);
    if (kind === 'ScaledObject' && (startsWith(s, 'spec', 'minReplicaCount') || startsWith(s, 'spec', 'maxReplicaCount'))) add(RiskCategory.REPLICAS, `${text(s[1])} ${change}`);
    if (kind === 'PodDisruptionBudget' && (startsWith(s, 'spec', 'maxUnavailable') || startsWith(s, 'spec', 'minAvailable'))) add(RiskCategory.REPLICAS, `${text(s[1])} ${change}`);

    if (inPod(s) && has(s, 'resources')) add(RiskCategory.RESOURCES, `${containerName(s)} ${s.slice(s.indexOf('resources') + 1).map(text).join('.')} ${change}`);
    // One line per quota, however many of its limits moved: the fields list has the numbers.
    if ((kind === 'ResourceQuota' || kind === 'LimitRange') && startsWith(s, 'spec')) {
      const count = leaves.filter((l) => startsWith(l.segments, 'spec')).length;
      add(RiskCategory.RESOURCES, count === 1 ? `${formatPath(s.slice(1))} ${change}` : `${kind === 'ResourceQuota' ? 'namespace quota' : 'default container limits'}: ${count} limits changed`);
    }
    if (kind === 'StatefulSet' && startsWith(s, 'spec', 'volumeClaimTemplates')) {
      add(RiskCategory.IMMUTABLE_FIELD, 'spec.volumeClaimTemplates changed: immutable, so the apply is refused; delete the StatefulSet with --cascade=orphan and apply again');
    }
    if (kind === 'StatefulSet' && (startsWith(s, 'spec', 'serviceName') || startsWith(s, 'spec', 'podManagementPolicy'))) {
      add(RiskCategory.IMMUTABLE_FIELD, `spec.${text(s[1])} changed: immutable, so the apply is refused`);
    }

    if (startsWith(s, 'spec', 'selector')) {
      if (IMMUTABLE_SELECTOR_KINDS.has(kind)) add(RiskCategory.SELECTOR, 'spec.selector changed: immutable, so the apply is refused; the object must be deleted and recreated (downtime)');
      else if (kind === 'Service') add(RiskCategory.SELECTOR, `Service selector changed: traffic goes to other pods (${change})`);
      else add(RiskCategory.SELECTOR, `selector changed: ${kind} now applies to other pods`);
    }
    if (NETWORK_POLICY_KINDS.has(kind) && startsWith(s, 'spec')) {
      add(RiskCategory.NETWORK_POLICY, startsWith(s, 'spec', 'podSelector') ? 'applies to other pods' : `${text(s[1] ?? 'spec')} rules changed`);
    }
    if (RBAC_KINDS.has(kind) && (startsWith(s, 'rules') || startsWith(s, 'subjects') || startsWith(s, 'roleRef'))) add(RiskCategory.RBAC, `${text(s[0])} changed`);
    if (kind === 'ServiceAccount' && startsWith(s, 'metadata', 'annotations', IRSA_ANNOTATION)) add(RiskCategory.RBAC, `IAM role ${change}`);
    if (has(s, 'serviceAccountName')) add(RiskCategory.RBAC, `service account ${change}`);

    if ((kind === 'Deployment' || kind === 'Rollout') && startsWith(s, 'spec', 'strategy')) add(RiskCategory.STRATEGY, `${formatPath(s.slice(1))} ${change}`);
    if ((kind === 'StatefulSet' || kind === 'DaemonSet') && startsWith(s, 'spec', 'updateStrategy')) add(RiskCategory.STRATEGY, `${formatPath(s.slice(1))} ${change}`);

    if (kind === 'PrometheusRule' && startsWith(s, 'spec', 'groups')) {
      const alert = s.find((x): x is { key: string; value: string } => typeof x === 'object' && (x.key === 'alert' || x.key === 'record'));
      const field = text(last);
      const subject = alert ? `${alert.key} ${alert.value}` : 'rules';
      if (before === undefined && s.length <= 5) add(RiskCategory.ALERT_THRESHOLD, `${subject} added`);
      else if (after === undefined && s.length <= 5) add(RiskCategory.ALERT_THRESHOLD, `${subject} removed`);
      else if (['expr', 'for', 'keep_firing_for', 'severity'].includes(field)) add(RiskCategory.ALERT_THRESHOLD, `${subject}: ${field} ${change}`);
    }
    if (kind === 'AnalysisTemplate' && startsWith(s, 'spec', 'metrics') && ['successCondition', 'failureCondition', 'failureLimit', 'query', 'count', 'interval'].includes(text(last))) {
      add(RiskCategory.ALERT_THRESHOLD, `analysis ${formatPath(s.slice(2))} ${change}`);
    }

    if (has(s, 'securityContext') || (kind === 'Namespace' && startsWith(s, 'metadata', 'labels') && text(s[2] ?? '').startsWith('pod-security.kubernetes.io/'))) {
      add(RiskCategory.SECURITY, `${formatPath(s)} ${change}`);
    }
  }
  return risks;
}

/**
 * A Deployment removed and a Rollout of the same name added (or back) is a strategy switch, and
 * the new workload's model version is compared with the old one's: a version change must show
 * in the risky table even when the workload kind changes with it.
 */
function addReplacementRisks(changes: ObjectChange[], objects: readonly ManifestObject[]): void {
  const version = (kind: string, change: ObjectChange) => {
    const object = objects.find((o) => o.kind === kind && o.metadata?.name === change.name && o.metadata?.namespace === change.namespace);
    return (object?.metadata?.labels as Record<string, string> | undefined)?.[MODEL_VERSION_LABEL];
  };
  for (const added of changes.filter((c) => c.type === ChangeType.ADDED && (c.kind === 'Rollout' || c.kind === 'Deployment'))) {
    const other = added.kind === 'Rollout' ? 'Deployment' : 'Rollout';
    const removed = changes.find((c) => c.type === ChangeType.REMOVED && c.kind === other && c.name === added.name && c.namespace === added.namespace);
    if (removed) {
      const risks: Risk[] = [...added.risks];
      const [from, to] = [version(other, removed), version(added.kind, added)];
      if (from !== to) {
        // Argo Rollouts skips the steps (and their analysis) for a Rollout's first revision: there is no stable one yet.
        const unanalysed = added.kind === 'Rollout' ? `; a new Rollout has no stable version, so ${show(to)} goes out at once without the release steps or their analysis: switch the strategy with ${show(from)} first, then release ${show(to)}` : '';
        risks.push({ category: RiskCategory.MODEL_VERSION, message: `${show(from)} → ${show(to)}${unanalysed}` });
      }
      risks.push({ category: RiskCategory.STRATEGY, message: `${other} replaced by a ${added.kind} of the same name: delete the old ${other} only once the ${added.kind} is healthy (an Argo CD prune deletes it at once)` });
      changes[changes.indexOf(added)] = { ...added, risks };
      // The same model keeps serving, from the new workload: not a removal to warn about.
      changes[changes.indexOf(removed)] = { ...removed, risks: removed.risks.filter((r) => r.category !== RiskCategory.REPLICAS) };
    }
  }
}

function containerName(s: readonly Segment[]): string {
  const i = s.findIndex((x) => x === 'containers' || x === 'initContainers');
  const element = s[i + 1];
  return `container ${element === undefined ? '?' : text(element)}`;
}

function envName(s: readonly Segment[]): string | undefined {
  const i = s.indexOf('env');
  const element = s[i + 1];
  return i >= 0 && typeof element === 'object' ? element.value : undefined;
}

function show(value: unknown): string {
  if (value === undefined) return '(none)';
  const raw = typeof value === 'string' ? value : JSON.stringify(value);
  const flat = raw.replace(/\n/g, '⏎');
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}

// ---- Markdown ----

/** Labels of the two sides, for the summary's title. */
export interface DiffLabels {
  /** What was compared against, e.g. "`dist/` at `origin/main` (1a2b3c4)". */
  readonly base: string;
  /** The new side, e.g. "a fresh synthesis of `serving.yaml`". */
  readonly head: string;
}

/** GitHub refuses comments over 65,536 characters. */
const MAX_COMMENT_CHARS = 60_000;
const MAX_FIELDS_PER_OBJECT = 40;

/**
 * Renders the diff as GitHub-flavoured Markdown, ready to post as a pull request comment: a
 * one-line summary per environment, the risky changes first, then every added, removed and
 * changed object, with the changed fields folded away.
 */
export function renderDiffMarkdown(diff: ManifestDiff, labels: DiffLabels): string {
  const title = `## Manifest changes\n\n${labels.base} → ${labels.head}\n`;
  if (diff.changes.length === 0) {
    return `${title}\nNo changes: every object is identical.\n`;
  }
  const parts: string[] = [title];
  const counts = (env: string) => {
    const of = (type: ChangeType) => diff.changes.filter((c) => c.environment === env && c.type === type).length;
    const summary = [[of(ChangeType.ADDED), 'added'], [of(ChangeType.CHANGED), 'changed'], [of(ChangeType.REMOVED), 'removed']]
      .filter(([n]) => (n as number) > 0).map(([n, word]) => `${n} ${word}`).join(', ');
    return summary || 'no changes';
  };
  const risky = diff.changes.flatMap((c) => c.risks.map((r) => ({ change: c, risk: r })));
  parts.push(`${diff.environments.map((env) => `**${envLabel(env)}**: ${counts(env)}`).join(' · ')}${risky.length > 0 ? ` · ⚠️ **${risky.length} risky ${risky.length === 1 ? 'change' : 'changes'}**` : ''}\n`);

  if (risky.length > 0) {
    parts.push('### ⚠️ Risky changes\n');
    parts.push('| Environment | Object | Risk | Detail |\n|---|---|---|---|');
    for (const { change, risk } of risky) {
      parts.push(`| ${cell(envLabel(change.environment))} | ${code(objectLabel(change))} | ${cell(risk.category)} | ${cell(risk.message)} |`);
    }
    parts.push('');
  }

  const details: string[] = [];
  for (const env of diff.environments) {
    const envChanges = diff.changes.filter((c) => c.environment === env);
    if (envChanges.length === 0) continue;
    parts.push(`### ${envLabel(env)}: ${counts(env)}\n`);
    parts.push('| Change | Object | Fields |\n|---|---|---|');
    for (const c of envChanges) {
      parts.push(`| ${c.type}${c.risks.length > 0 ? ' ⚠️' : ''} | ${code(objectLabel(c))} | ${c.type === ChangeType.CHANGED ? c.fields.length : ''} |`);
    }
    parts.push('');
    const changed = envChanges.filter((c) => c.type === ChangeType.CHANGED);
    if (changed.length > 0) {
      const lines = [`<details><summary>Changed fields in ${envLabel(env)}</summary>\n`];
      for (const c of changed) {
        lines.push(`**${objectLabel(c)}**\n`);
        for (const f of c.fields.slice(0, MAX_FIELDS_PER_OBJECT)) lines.push(...fieldLines(f));
        if (c.fields.length > MAX_FIELDS_PER_OBJECT) lines.push(`- ...and ${c.fields.length - MAX_FIELDS_PER_OBJECT} more fields`);
        lines.push('');
      }
      lines.push('</details>\n');
      details.push(lines.join('\n'));
      parts.push(details[details.length - 1]);
    }
  }
  const full = parts.join('\n');
  if (full.length <= MAX_COMMENT_CHARS) return full;
  const withoutDetails = parts.filter((p) => !details.includes(p)).join('\n');
  return `${withoutDetails}\n_The changed fields are left out: the full list exceeds a pull request comment. Run \`model-serving diff\` locally to see them._\n`;
}

function envLabel(env: string): string {
  return env === '' ? '(top level)' : env;
}

function objectLabel(c: ObjectChange): string {
  return `${c.kind} ${c.namespace ? `${c.namespace}/` : ''}${c.name}`;
}

function code(value: string): string {
  return `\`${value.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

function cell(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function fieldLines(f: FieldChange): string[] {
  if (typeof f.before === 'string' && typeof f.after === 'string' && (f.before.includes('\n') || f.after.includes('\n'))) {
    const before = f.before.split('\n');
    const after = f.after.split('\n');
    const removed = before.filter((line) => line !== '' && !after.includes(line));
    const added = after.filter((line) => line !== '' && !before.includes(line));
    return [`- \`${f.path}\`:`, '', '  ```diff', ...removed.map((l) => `  - ${l}`), ...added.map((l) => `  + ${l}`), '  ```'];
  }
  const value = (v: unknown) => (v === undefined ? '_(none)_' : inlineCode(typeof v === 'string' ? v : JSON.stringify(v)));
  return [`- \`${f.path}\`: ${value(f.before)} → ${value(f.after)}`];
}

function inlineCode(value: string): string {
  const short = value.length > 120 ? `${value.slice(0, 117)}...` : value;
  // A code span containing backticks needs a longer fence.
  return short.includes('`') ? `\`\` ${short} \`\`` : `\`${short}\``;
}
