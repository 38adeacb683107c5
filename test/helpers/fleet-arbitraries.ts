import fc from 'fast-check';
import type { core } from 'zod';
import { fleetSchema } from '../../lib/fleet';
import { GATEWAY_PROVIDERS, GatewayFeature, JwtVerification, findGatewayProvider } from '../../lib/gateway';
import { registrySchema } from '../../lib/registry';
import { MAX_MODEL_NAME_LENGTH } from '../../lib/torchserve';

// Fleets and registries generated from the schema's own bounds: every length, count and range
// below is read from lib/fleet/fleet-schema.ts and lib/registry/model-registry.ts, and drawn at
// its edges as often as inside them. The structure follows the rules the schema states, so most
// fleets are valid and reach synthesis; values at and past the bounds, and the rules the
// generator does not keep, produce fleets the loader must refuse with a located error.

// ---- reading the schema's bounds ----

type Def = { type: string; innerType?: core.$ZodType; in?: core.$ZodType; shape?: Record<string, core.$ZodType>; element?: core.$ZodType; valueType?: core.$ZodType; keyType?: core.$ZodType; checks?: { _zod: { def: Record<string, unknown> } }[] };

const defOf = (schema: core.$ZodType): Def => schema._zod.def as unknown as Def;

/** The schema at `path` ("*" for any record entry or list item, "#key" for a record's keys), with wrappers removed. */
export function schemaAt(path: readonly string[], root: core.$ZodType = fleetSchema): core.$ZodType {
  let current = unwrap(root);
  for (const part of path) {
    const def = defOf(current);
    const next = def.type === 'object' ? def.shape?.[part] : def.type === 'array' ? def.element : def.type === 'record' ? (part === '#key' ? def.keyType : def.valueType) : undefined;
    if (!next) throw new Error(`the schema has no ${path.join('.')} (stopped at ${part})`);
    current = unwrap(next);
  }
  return current;
}

function unwrap(schema: core.$ZodType): core.$ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

/** A check's value of a schema (e.g. `max_length`'s maximum), from zod's definitions. */
function check(schema: core.$ZodType, kind: string, key: string): number | undefined {
  for (const c of defOf(schema).checks ?? []) {
    const def = c._zod.def;
    if (def.check === kind) return def[key] as number;
  }
  return undefined;
}

/** The most characters a string field takes. */
export function maxLength(path: readonly string[], root?: core.$ZodType): number {
  const max = check(schemaAt(path, root), 'max_length', 'maximum');
  if (max === undefined) throw new Error(`${path.join('.')} has no maximum length`);
  return max;
}

/** A number field's range, inclusive. */
export function range(path: readonly string[], root?: core.$ZodType): { min: number; max: number } {
  const schema = schemaAt(path, root) as unknown as { minValue: number | null; maxValue: number | null };
  if (schema.minValue === null || schema.maxValue === null || schema.minValue === undefined) throw new Error(`${path.join('.')} has no range`);
  return { min: schema.minValue, max: schema.maxValue };
}

/** The values an enum field takes. */
export function enumValues(path: readonly string[], root?: core.$ZodType): string[] {
  const def = defOf(schemaAt(path, root)) as Def & { entries?: Record<string, string> };
  if (!def.entries) throw new Error(`${path.join('.')} is not an enum`);
  return Object.values(def.entries);
}

// ---- leaves ----

/** `arb` one time in `every` (every other time by default), else undefined. */
const optional = <T>(arb: fc.Arbitrary<T>, every = 2): fc.Arbitrary<T | undefined> => fc.oneof({ arbitrary: fc.constant(undefined), weight: every - 1 }, { arbitrary: arb, weight: 1 });

/** An integer in the range, at either end as often as inside it. */
export function boundedInt(min: number, max: number): fc.Arbitrary<number> {
  return fc.oneof({ arbitrary: fc.constant(min), weight: 1 }, { arbitrary: fc.constant(max), weight: 1 }, { arbitrary: fc.integer({ min, max }), weight: 3 });
}

/** An integer field of the fleet schema, within its range. */
const intAt = (...path: string[]) => {
  const { min, max } = range(path);
  return boundedInt(min, max);
};

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';

/** A string of `length` characters from `middle`, starting with one of `first` and ending with one of `last`. */
function shaped(length: fc.Arbitrary<number>, first: string, middle: string, last: string): fc.Arbitrary<string> {
  return length.chain((n) => {
    if (n === 1) return fc.constantFrom(...first.split('').filter((c) => last.includes(c)));
    return fc.tuple(fc.constantFrom(...first), fc.array(fc.constantFrom(...middle), { minLength: n - 2, maxLength: n - 2 }), fc.constantFrom(...last))
      .map(([a, mid, z]) => a + mid.join('') + z);
  });
}

/** A length from 1 to `max`, at the maximum a third of the time. */
const lengthUpTo = (max: number, typical = 12) => fc.oneof({ arbitrary: fc.constant(max), weight: 1 }, { arbitrary: fc.integer({ min: 1, max }), weight: 1 }, { arbitrary: fc.integer({ min: 1, max: Math.min(typical, max) }), weight: 4 });

/** A DNS-1123 label of at most `max` characters. */
export function dnsLabel(max = 63): fc.Arbitrary<string> {
  return shaped(lengthUpTo(max), LOWER + DIGITS, `${LOWER}${DIGITS}-`, LOWER + DIGITS);
}

/** A TorchServe model name as the fleet schema allows it: a letter first, "_" and "-" never doubled. */
export function modelName(): fc.Arbitrary<string> {
  const max = MAX_MODEL_NAME_LENGTH;
  return shaped(lengthUpTo(max), LOWER, `${LOWER}${DIGITS}_-`, LOWER + DIGITS).map((name) => name.replace(/[_-]{2,}/g, (run) => run[0]));
}

/** A semantic version: plain, with a pre-release, with build metadata, short or at the label's 63 characters. */
export function semver(): fc.Arbitrary<string> {
  const core = fc.tuple(fc.nat(40), fc.nat(40), fc.nat(400)).map(([a, b, c]) => `${a}.${b}.${c}`);
  const identifier = shaped(fc.integer({ min: 1, max: 12 }), `${LOWER}${DIGITS}`, `${LOWER}${DIGITS}-`, `${LOWER}${DIGITS}`).map((id) => (/^\d+$/.test(id) ? String(Number(id)) : id));
  const identifier2 = identifier.map((id) => id.slice(0, 8)).map((id) => (/^\d+$/.test(id) ? String(Number(id)) : id.replace(/-$/, 'x')));
  const dotted = fc.array(identifier2, { minLength: 1, maxLength: 3 }).map((ids) => ids.join('.'));
  return fc.tuple(core, fc.option(dotted, { nil: undefined }), fc.option(dotted, { nil: undefined }), fc.boolean())
    .map(([base, pre, build, padded]) => {
      let version = `${base}${pre ? `-${pre}` : ''}${build ? `+${build}` : ''}`;
      // At the label's limit, and one past it.
      if (padded) version = `${base}-${'r'.repeat(Math.max(1, 63 - base.length - 1))}`.slice(0, 63);
      return version;
    });
}

const quantity = (unit: string[], max: number) => fc.tuple(fc.integer({ min: 1, max }), fc.constantFrom(...unit)).map(([n, u]) => `${n}${u}`);
// Everyday sizes, and the extremes: exponents, and values at and past what Kubernetes counts.
const cpu = fc.oneof({ arbitrary: fc.oneof(quantity([''], 64), quantity(['m'], 64_000)), weight: 8 }, { arbitrary: fc.constantFrom('0.5', '1e3', '100000', '9e15', '1e16'), weight: 1 });
const memory = fc.oneof(
  { arbitrary: fc.oneof(quantity(['Gi'], 512), quantity(['Mi'], 64 * 1024).filter((m) => parseInt(m, 10) >= 512), quantity(['G'], 1024)), weight: 8 },
  { arbitrary: fc.constantFrom('1Pi', '1Ei', '7Ei', '2e18', '1e19', '1e30'), weight: 1 },
);

/** A DNS name of labels joined by dots, up to `max` characters. */
function hostname(max = 253): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.array(dnsLabel(20), { minLength: 2, maxLength: 4 }).map((labels) => labels.join('.')), weight: 4 },
    // At the limit: labels of 63 filling 253 characters.
    { arbitrary: dnsLabel(63).map((label) => { let host = 'x.example.com'; while (host.length + label.length + 1 <= max) host = `${label}.${host}`; return host; }), weight: 1 },
  ).filter((host) => /[a-z]/.test(host.split('.').pop() ?? '') && host.length <= max);
}

const ipv4Cidr = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 32 })).map(([a, b, c, d, bits]) => {
  const value = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  const masked = bits === 0 ? 0 : (value & (0xffffffff << (32 - bits))) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (masked >>> s) & 255).join('.')}/${bits}`;
});
const ipv6Cidr = fc.constantFrom('2001:db8::/32', 'fd00::/8', '::/0', '2001:db8:1::/48');
const cidr = fc.oneof({ arbitrary: ipv4Cidr, weight: 5 }, { arbitrary: ipv6Cidr, weight: 1 });
const cidrs = (min = 1) => fc.array(cidr, { minLength: min, maxLength: 4 });

/** A label key: a name up to 63 characters, with a DNS prefix sometimes. */
const labelKey = fc.tuple(fc.option(hostname(60), { nil: undefined }), shaped(lengthUpTo(63, 10), `${LOWER}${DIGITS}`, `${LOWER}${DIGITS}-_.`, `${LOWER}${DIGITS}`))
  .map(([prefix, name]) => (prefix ? `${prefix}/${name}` : name));
/** A label value up to 63 characters, or empty. */
const labelValue = fc.oneof(fc.constant(''), shaped(lengthUpTo(63, 10), `${LOWER}${DIGITS}ABC`, `${LOWER}${DIGITS}-_.`, `${LOWER}${DIGITS}`));
const labelMap = (min = 0) => fc.dictionary(labelKey, labelValue, { minKeys: min, maxKeys: 3 });

const imageTag = shaped(lengthUpTo(128, 10), `${LOWER}${DIGITS}_`, `${LOWER}${DIGITS}_.-`, `${LOWER}${DIGITS}`).filter((t) => t !== 'latest');
const digest = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }).map((hex) => `sha256:${hex}`);
const repository = fc.oneof(
  fc.constantFrom('pytorch/torchserve', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/torchserve', 'registry.example.com:5000/ml/torchserve'),
  fc.array(dnsLabel(20).map((s) => s.replace(/-/g, '')).filter((s) => s.length > 0), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/')),
);
const image = fc.record({ repository, tag: fc.option(imageTag, { nil: undefined }), digest: fc.option(digest, { nil: undefined }) })
  .map((i) => (i.tag === undefined && i.digest === undefined ? { ...i, tag: '0.12.0-gpu' } : i));

const bucket = shaped(fc.integer({ min: 3, max: 63 }), `${LOWER}${DIGITS}`, `${LOWER}${DIGITS}-`, `${LOWER}${DIGITS}`);
const keyPart = shaped(lengthUpTo(40, 8), `${LOWER}${DIGITS}`, `${LOWER}${DIGITS}._-`, `${LOWER}${DIGITS}`);
/** An archive location: S3 mostly, a PVC sometimes. */
function archive(model: string, version: string): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constant(`s3://betterprompts-models/${model}/${version}/${model}.mar`), weight: 4 },
    { arbitrary: bucket.map((b) => `s3://${b}/${model}/${version}/${model}.mar`), weight: 1 },
    { arbitrary: fc.tuple(dnsLabel(40), fc.array(keyPart, { maxLength: 3 })).map(([claim, dirs]) => `pvc://${claim}/${[...dirs, `${model}.mar`].join('/')}`), weight: 1 },
  );
}

const wellFormedUrl = (scheme: string) => fc.tuple(hostname(60), fc.array(keyPart, { maxLength: 2 })).map(([host, parts]) => `${scheme}://${host}${parts.length ? `/${parts.join('/')}` : ''}`);
// Now and then what a URL parser takes but a reader of the URL does not: an upper-case scheme, a space.
const url = (scheme = 'https') => fc.oneof(
  { arbitrary: wellFormedUrl(scheme), weight: 15 },
  { arbitrary: wellFormedUrl(scheme).map((u) => u.replace(scheme, scheme.toUpperCase())), weight: 1 },
  { arbitrary: wellFormedUrl(scheme).map((u) => `${u}/a b`), weight: 1 },
);
const cronField = (min: number, max: number) => fc.oneof(fc.constant('*'), fc.integer({ min, max }).map(String), fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`), fc.integer({ min: 1, max: 30 }).map((n) => `*/${n}`));
const validCron = fc.tuple(cronField(0, 59), cronField(0, 23), cronField(1, 28), cronField(1, 12), cronField(0, 6)).map((fields) => fields.join(' '));
// Five fields that a pattern would take and the API server's cron parser refuses.
const cron = fc.oneof({ arbitrary: validCron, weight: 6 }, { arbitrary: fc.constantFrom('99 3 * * *', '0 7 * * 7', '0 0 0 * *', '*/0 * * * *', '0 7 * * 5-1', 'a b c d e'), weight: 1 });
const timeZone = fc.oneof({ arbitrary: fc.constantFrom('Etc/UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'UTC'), weight: 6 }, { arbitrary: fc.constantFrom('europe/berlin', 'Mars/Base', 'Local'), weight: 1 });
/** Tolerations, some of which the API server refuses (no key with Equal, tolerationSeconds without NoExecute). */
const toleration = fc.oneof(
  { arbitrary: fc.constant({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }), weight: 4 },
  { arbitrary: fc.record({ key: labelKey, value: labelValue, effect: fc.constantFrom('NoSchedule', 'PreferNoSchedule', 'NoExecute') }), weight: 2 },
  { arbitrary: fc.record({ key: labelKey, value: labelValue, effect: fc.constant('NoExecute'), tolerationSeconds: fc.nat(86_400) }), weight: 1 },
  { arbitrary: fc.constantFrom({ operator: 'Exists' }, { value: 'spot' }, { key: 'pool', value: 'gpu', effect: 'NoSchedule', tolerationSeconds: 60 }), weight: 1 },
);

// ---- the fleet ----

export interface GeneratedRepository {
  /** The fleet file's content, as data. */
  readonly fleet: Record<string, unknown>;
  /** The registry's content, when the fleet has one. */
  readonly registry?: Record<string, unknown>;
}


function gatewayFor(stage: string): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(fc.constantFrom(...GATEWAY_PROVIDERS), hostname(), hostname(), dnsLabel(), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 100_000 }), optional(fc.integer({ min: 1, max: 1_000_000 })), optional(dnsLabel()), cidrs(), fc.array(dnsLabel(), { minLength: 1, maxLength: 2 }), url())
    .map(([provider, host, managementHost, issuer, wantJwt, wantRate, wantCache, wantManagement, rps, burst, className, allowFrom, credentialSecrets, authUrl]) => {
      const can = (feature: GatewayFeature) => provider.unsupported(feature) === undefined;
      const consumers = provider.jwtVerification === JwtVerification.CONSUMER_CREDENTIALS;
      return {
        kind: provider.kind,
        ...(provider.implementation ? { implementation: provider.implementation } : {}),
        ...(className ? { className } : {}),
        host,
        tls: { issuer, ...(stage === 'staging' ? { issuerKind: 'Issuer' } : {}) },
        ...(wantManagement && can(GatewayFeature.MANAGEMENT_ALLOW_LIST) && managementHost !== host ? { management: { host: managementHost, allowFrom } } : {}),
        ...(wantJwt && can(GatewayFeature.JWT) ? { jwt: consumers ? { credentialSecrets } : { authUrl } } : {}),
        ...(wantRate && can(GatewayFeature.RATE_LIMIT) ? { rateLimit: { requestsPerSecond: rps, ...(burst !== undefined && can(GatewayFeature.RATE_LIMIT_BURST) ? { burst } : {}) } } : {}),
        ...(wantCache && can(GatewayFeature.CACHE) ? { cache: true } : {}),
      };
    });
}

const strategyTypes = enumValues(['environments', '*', 'strategy', 'type']);

function environment(name: string, stage: string, namespace: string, models: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const weights = fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 5 }).map((w) => [...w].sort((a, b) => a - b));
  return fc.record({
    replicas: intAt('environments', '*', 'replicas'),
    cpu,
    memory: fc.oneof({ arbitrary: memory, weight: 15 }, { arbitrary: fc.constantFrom('256Mi', '511Mi', '512Mi'), weight: 1 }),
    jvmHeap: optional(fc.constantFrom('100Mi', '128Mi', '1Gi', '8Gi'), 4),
    ephemeralStorage: optional(fc.constantFrom('1Gi', '20Gi', '1Ti')),
    gpu: intAt('environments', '*', 'resources', 'gpu'),
    nodeSelector: labelMap(),
    tolerations: fc.array(toleration, { maxLength: 2 }),
    spot: fc.boolean(),
    roleArn: optional(fc.constantFrom('arn:aws:iam::123456789012:role/model-reader', 'arn:aws-cn:iam::123456789012:role/a/b')),
    grpc: fc.boolean(),
    prometheusUrl: optional(url('http')),
    gateway: fc.oneof({ arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: gatewayFor(stage), weight: 3 }),
    gatewayNamespaces: fc.array(dnsLabel(), { minLength: 1, maxLength: 3 }),
    strategy: fc.constantFrom(...strategyTypes),
    modelStrategies: fc.array(fc.tuple(fc.nat(2), fc.constantFrom(...strategyTypes)), { maxLength: 2 }),
    blueGreen: fc.record({ autoPromotion: fc.boolean(), scaleDownDelaySeconds: intAt('environments', '*', 'strategy', 'blueGreen', 'scaleDownDelaySeconds') }),
    weights,
    pauseSeconds: intAt('environments', '*', 'strategy', 'canary', 'pauseSeconds'),
    gates: fc.record({ count: intAt('environments', '*', 'strategy', 'gates', 'count'), intervalSeconds: intAt('environments', '*', 'strategy', 'gates', 'intervalSeconds'), maxP95LatencyMs: intAt('environments', '*', 'strategy', 'gates', 'maxP95LatencyMs') }),
    autoscaling: optional(fc.record({
      backend: fc.constantFrom(...enumValues(['environments', '*', 'autoscaling', 'backend'])),
      maxReplicas: intAt('environments', '*', 'autoscaling', 'maxReplicas'),
      peak: fc.boolean(),
      timezone: timeZone,
      start: cron,
      end: fc.oneof({ arbitrary: cron, weight: 5 }, { arbitrary: fc.constant('same'), weight: 1 }),
      gpu: optional(intAt('environments', '*', 'autoscaling', 'gpuUtilization')),
      queueWaitTargetMs: optional(intAt('environments', '*', 'autoscaling', 'queueWaitTargetMs')),
      scaleUp: optional(fc.record({ stabilizationSeconds: intAt('environments', '*', 'autoscaling', 'scaleUp', 'stabilizationSeconds'), pods: intAt('environments', '*', 'autoscaling', 'scaleUp', 'pods'), periodSeconds: intAt('environments', '*', 'autoscaling', 'scaleUp', 'periodSeconds') })),
    })),
    monitoring: optional(fc.record({
      runbookBaseUrl: url(),
      labels: labelMap(1),
      folder: optional(shaped(lengthUpTo(maxLength(['environments', '*', 'monitoring', 'dashboard', 'folder']), 20), LOWER, `${LOWER} -_`, LOWER)),
      dashboardLabels: optional(labelMap(1)),
      scrape: intAt('environments', '*', 'monitoring', 'scrapeIntervalSeconds'),
      source: fc.constantFrom('dcgm', 'torchserve'),
      thresholds: optional(fc.record({ latencyP95Ms: intAt('environments', '*', 'monitoring', 'thresholds', 'latencyP95Ms'), podRestarts: intAt('environments', '*', 'monitoring', 'thresholds', 'podRestarts'), modelLoadingMinutes: intAt('environments', '*', 'monitoring', 'thresholds', 'modelLoadingMinutes'), errorRatio: fc.double({ min: 0.0001, max: 0.9999, noNaN: true }) })),
    })),
    backup: optional(fc.record({ bucket, source: fc.boolean(), schedule: fc.oneof(cron, fc.constantFrom('@daily', '@hourly', '@weekly')), timeZone })),
    redis: optional(fc.record({ memory: fc.constantFrom('64Mi', '1Gi', '16Gi'), persistence: optional(fc.constantFrom('1Gi', '100Gi')) })),
  }).map((e) => {
    const env: Record<string, unknown> = {
      stage,
      namespace,
      replicas: e.replicas,
      resources: { cpu: e.cpu, memory: e.memory, gpu: e.gpu, ...(e.jvmHeap ? { jvmHeap: e.jvmHeap } : {}), ...(e.ephemeralStorage ? { ephemeralStorage: e.ephemeralStorage } : {}) },
      placement: {
        nodeSelector: e.nodeSelector,
        ...(e.tolerations.length > 0 ? { tolerations: e.tolerations } : {}),
        ...(e.spot && stage === 'staging' ? { spot: true } : {}),
      },
      ...(e.roleArn ? { serviceAccount: { roleArn: e.roleArn } } : {}),
      ...(e.grpc ? { grpc: true } : {}),
      ...(e.prometheusUrl ? { prometheus: { url: e.prometheusUrl } } : {}),
    };
    const gateway = e.gateway;
    if (gateway) env.gateway = gateway;
    else env.network = { gatewayNamespaces: e.gatewayNamespaces };
    // A canary or blue-green release needs a gateway that reports per-route metrics.
    const provider = gateway === undefined ? undefined : findGatewayProvider(gateway.kind as string, gateway.implementation as string | undefined);
    const releasable = provider !== undefined && provider.unsupported(GatewayFeature.CANARY) === undefined && provider.unsupported(GatewayFeature.BLUE_GREEN) === undefined;
    const strategy = releasable ? e.strategy : 'rolling';
    const perModel = releasable ? Object.fromEntries(e.modelStrategies.filter(([i]) => i < models.length).map(([i, type]) => [models[i], type])) : {};
    env.strategy = {
      type: strategy,
      ...(Object.keys(perModel).length > 0 ? { models: perModel } : {}),
      canary: { weights: e.weights, pauseSeconds: e.pauseSeconds },
      blueGreen: e.blueGreen,
      gates: { ...e.gates, failureLimit: e.gates.count - 1 },
    };
    if (e.autoscaling) {
      const floor = Math.min(e.replicas, e.autoscaling.maxReplicas);
      env.autoscaling = {
        backend: e.autoscaling.backend,
        minReplicas: floor,
        maxReplicas: e.autoscaling.maxReplicas,
        ...(e.autoscaling.gpu !== undefined ? { gpuUtilization: e.autoscaling.gpu } : {}),
        ...(e.autoscaling.queueWaitTargetMs !== undefined ? { queueWaitTargetMs: e.autoscaling.queueWaitTargetMs } : {}),
        ...(e.autoscaling.scaleUp ? { scaleUp: e.autoscaling.scaleUp } : {}),
        ...(e.autoscaling.peak && e.autoscaling.backend === 'keda' && floor < e.autoscaling.maxReplicas
          ? { peakHours: { timezone: e.autoscaling.timezone, start: e.autoscaling.start, end: e.autoscaling.end === 'same' ? e.autoscaling.start : e.autoscaling.end, minReplicas: e.autoscaling.maxReplicas } }
          : {}),
      };
    }
    const needsMonitoring = strategy === 'canary' || Object.values(perModel).includes('canary');
    const monitoring = e.monitoring ?? (needsMonitoring ? { runbookBaseUrl: 'https://git.example.com/ml/serving', labels: { release: 'kube-prometheus-stack' }, scrape: 30, source: 'dcgm', folder: undefined, dashboardLabels: undefined, thresholds: undefined } : undefined);
    if (monitoring) {
      env.monitoring = {
        runbookBaseUrl: monitoring.runbookBaseUrl,
        prometheusSelectorLabels: monitoring.labels,
        scrapeIntervalSeconds: monitoring.scrape,
        requestAlerts: provider !== undefined && provider.unsupported(GatewayFeature.REQUEST_METRICS) === undefined,
        gpuMetrics: { source: monitoring.source },
        ...(monitoring.folder || monitoring.dashboardLabels ? { dashboard: { ...(monitoring.folder ? { folder: monitoring.folder } : {}), ...(monitoring.dashboardLabels ? { labels: monitoring.dashboardLabels } : {}) } } : {}),
        ...(monitoring.thresholds ? { thresholds: monitoring.thresholds } : {}),
      };
    }
    if (e.backup) {
      env.backup = {
        destination: `s3://${e.backup.bucket}/backups/${name}/`,
        // Without a source, the backup copies the models' bucket, when they share one.
        ...(e.backup.source ? { source: 's3://betterprompts-models/' } : {}),
        roleArn: 'arn:aws:iam::123456789012:role/model-backup',
        schedule: e.backup.schedule,
        timeZone: e.backup.timeZone,
      };
    }
    if (e.redis) env.redis = { memory: e.redis.memory, ...(e.redis.persistence ? { persistence: { size: e.redis.persistence } } : {}) };
    return env;
  });
}

interface ModelDraft { name: string; versions: string[]; managed: boolean; archives: string[] }

const model = fc.record({
  name: modelName(),
  versions: fc.uniqueArray(semver(), { minLength: 1, maxLength: 3 }),
  managed: fc.boolean(),
  handler: fc.oneof(fc.constantFrom('text_classifier', 'image_classifier', 'handlers/intent_handler.py'), shaped(lengthUpTo(maxLength(['models', '*', 'handler']), 30), LOWER, `${LOWER}${DIGITS}_./-`, LOWER)),
  batchSize: optional(intAt('models', '*', 'batchSize')),
  maxBatchDelayMs: optional(intAt('models', '*', 'maxBatchDelayMs')),
  // Both bounds, or the minimum alone: the maximum then defaults to it (TorchServeService's rule).
  workers: optional(fc.oneof(
    fc.tuple(intAt('models', '*', 'workers', 'min'), intAt('models', '*', 'workers', 'max')).map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) })),
    intAt('models', '*', 'workers', 'min').map((min) => ({ min })),
  )),
  responseTimeoutSeconds: optional(intAt('models', '*', 'responseTimeoutSeconds')),
  startupTimeoutSeconds: optional(intAt('models', '*', 'startupTimeoutSeconds')),
  gpuMemoryFraction: optional(fc.double({ min: 0.01, max: 1, noNaN: true })),
}).chain((m) => fc.tuple(fc.constant(m), fc.tuple(...m.versions.map((v) => archive(m.name, v)))));

/**
 * A serving repository: a fleet file and, when some model is registry-managed, a registry whose
 * history registers and promotes every version the environments pin.
 */
export function servingRepository(): fc.Arbitrary<GeneratedRepository> {
  const stages = enumValues(['environments', '*', 'stage']);
  return fc.record({
    name: dnsLabel(maxLength(['name'])),
    image,
    modelFetcher: optional(image),
    models: fc.uniqueArray(model, { minLength: 1, maxLength: 3, selector: ([m]) => m.name.replace(/_/g, '-') }),
    environments: fc.uniqueArray(fc.tuple(dnsLabel(), dnsLabel(), fc.constantFrom(...stages)), { minLength: 1, maxLength: 3, selector: ([name]) => name }),
    argocd: optional(fc.record({ repoURL: url(), automated: fc.boolean(), project: optional(dnsLabel()), namespace: optional(dnsLabel()), path: optional(fc.constantFrom('dist', 'deploy/dist', '../dist'), 3), fitNames: fc.nat(9) })),
    argoRollouts: optional(fc.record({ namespace: optional(dnsLabel()), pluginConfigMap: fc.boolean() })),
    servingImage: optional(fc.record({ repository: fc.constant('registry.example.com/ml/serving'), tag: imageTag }), 4),
    installAtLoad: optional(fc.record({ indexUrl: url(), indexCidrs: cidrs() }), 4),
  }).chain((draft) => {
    const reserved = new Set(['argo-rollouts', 'argocd', 'packaging']);
    const environments = draft.environments.filter(([name]) => !reserved.has(name));
    if (environments.length === 0) environments.push(['staging', 'serving-staging', 'staging']);
    // Unique namespaces: the environment's name makes them so.
    const envs = environments.map(([name, ns, stage], i) => ({ name, namespace: `${ns.slice(0, 60)}-${i}`.replace(/--+/g, '-'), stage }));
    const models: ModelDraft[] = draft.models.map(([m, archives]) => ({ name: m.name, versions: m.versions, managed: m.managed, archives }));
    const names = models.map((m) => m.name);
    return fc.tuple(
      fc.tuple(...envs.map((e) => environment(e.name, e.stage, e.namespace, names))),
      fc.constant(draft),
      fc.constant(envs),
      fc.constant(models),
    );
  }).map(([envValues, draft, envs, models]) => {
    const anyManaged = models.some((m) => m.managed);
    const environments: Record<string, unknown> = {};
    envs.forEach((e, i) => {
      const env = envValues[i];
      if (anyManaged) {
        // Registry-managed models pin their first version, which the registry promotes to every stage.
        const versions = Object.fromEntries(models.filter((m) => m.managed).map((m) => [m.name, m.versions[0]]));
        env.versions = versions;
      }
      environments[e.name] = env;
    });
    // With Argo CD, "<name>-<environment>" must fit 63 characters: kept most of the time, broken now and then.
    const name = draft.argocd && draft.argocd.fitNames > 0 ? draft.name.slice(0, Math.max(1, 62 - Math.max(...envs.map((e) => e.name.length)))).replace(/-+$/, '') || 'f' : draft.name;
    const fleet: Record<string, unknown> = {
      name,
      image: draft.image,
      ...(draft.modelFetcher ? { modelFetcher: draft.modelFetcher } : {}),
      ...(draft.servingImage ? { servingImages: { default: draft.servingImage } } : {}),
      ...(draft.argoRollouts ? { argoRollouts: draft.argoRollouts } : {}),
      models: draft.models.map(([m], i) => ({
        name: m.name,
        ...(draft.servingImage && i === 0 ? { requirements: `handlers/${m.name}/requirements.txt` } : {}),
        ...(draft.installAtLoad && i === 0 ? { installAtLoad: draft.installAtLoad } : {}),
        ...(models[i].managed ? {} : { version: m.versions[0], mar: models[i].archives[0] }),
        handler: m.handler,
        ...(m.batchSize !== undefined ? { batchSize: m.batchSize } : {}),
        ...(m.maxBatchDelayMs !== undefined ? { maxBatchDelayMs: m.maxBatchDelayMs } : {}),
        ...(m.workers ? { workers: m.workers } : {}),
        ...(m.responseTimeoutSeconds !== undefined ? { responseTimeoutSeconds: m.responseTimeoutSeconds } : {}),
        ...(m.startupTimeoutSeconds !== undefined ? { startupTimeoutSeconds: m.startupTimeoutSeconds } : {}),
        ...(m.gpuMemoryFraction !== undefined ? { gpuMemoryFraction: m.gpuMemoryFraction } : {}),
      })),
      environments,
      ...(draft.argocd ? {
        argocd: {
          repoURL: draft.argocd.repoURL,
          ...(draft.argocd.project ? { project: draft.argocd.project } : {}),
          ...(draft.argocd.namespace ? { namespace: draft.argocd.namespace } : {}),
          ...(draft.argocd.path ? { path: draft.argocd.path } : {}),
          automatedSync: draft.argocd.automated ? [envs[0].name] : [],
        },
      } : {}),
    };
    if (!anyManaged) return { fleet };
    return { fleet, registry: registryFor(models.filter((m) => m.managed)) };
  });
}

/** A registry whose history registers each version and promotes the first to both stages. */
function registryFor(models: readonly ModelDraft[]): Record<string, unknown> {
  const time = '2026-01-31T12:00:00Z';
  const entries = models.map((m) => {
    const history: Record<string, unknown>[] = m.versions.map((version, i) => ({ action: 'register', version, path: m.archives[i], actor: 'generator', time }));
    history.push({ action: 'promote', version: m.versions[0], stage: 'staging', reason: 'generated', actor: 'generator', time });
    history.push({ action: 'promote', version: m.versions[0], stage: 'production', reason: 'generated', actor: 'generator', time });
    return [m.name, {
      stages: { staging: m.versions[0], production: m.versions[0] },
      versions: Object.fromEntries(m.versions.map((v, i) => [v, { path: m.archives[i] }])),
      history,
    }];
  });
  return { models: Object.fromEntries(entries) };
}

/** The registry schema, for bounds of registry fields. */
export const REGISTRY_SCHEMA = registrySchema;
