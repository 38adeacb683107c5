import { Duration } from 'cdk8s';
import { z } from 'zod';
import { GatewayApiImplementation, GatewayFeature, GatewayKind } from '../gateway/gateway-kind';
import { CanaryGateSource, JwtVerification, jwtAuthUrlProblem } from '../gateway/gateway-provider';
import { GATEWAY_API_IMPLEMENTATIONS, findGatewayProvider } from '../gateway/providers';
import { minReplicasProblem, peakHoursBackendProblem, peakReplicasProblem, peakWindowProblem, queueWaitTargetProblem } from '../autoscaling/model-autoscaler';
import { RedisEvictionPolicy, redisMemoryProblem } from '../cache/redis-cache';
import { requestAlertsProblem, runbookUrlProblem } from '../monitoring/monitoring-bundle';
import { BackupStorageClass } from '../operations/model-store-backup';
import { canaryStepProblem, canaryWeightsProblem } from '../release/release-strategy';
import { failureLimitProblem } from '../release/model-release';
import { prometheusUrlProblem } from '../signals/prometheus-address';
import { IAM_ROLE_ARN_PATTERN, S3_FOLDER_PATTERN } from '../private/aws';
import { cidrProblem } from '../private/cidr';
import { cronScheduleProblem } from '../private/cron';
import { timeZoneProblem } from '../private/time-zone';
import { DNS_LABEL_PATTERN, LABEL_VALUE_PATTERN, isHostname, isLabelKey, toResourceName } from '../private/names';
import { IMAGE_DIGEST_PATTERN, IMAGE_TAG } from '../private/image-ref';
import { MAX_APPLICATION_NAME_LENGTH, applicationName, destinationServerProblem, repoUrlProblem } from '../gitops/argocd-application';
import { MAX_QUANTITY_UNITS, QUANTITY_PATTERN, parseQuantity, toMebibytes } from '../private/quantity';
import { modelArchiveProblem } from '../torchserve/model-archive';
import { modelNameProblem } from '../torchserve/model-name';
import { modelVersionProblem } from '../torchserve/model-version';
import { MAX_HANDLER_LENGTH, MIN_JVM_HEAP_MEBIBYTES, jvmHeapBytesFor, packageIndexProblem, workersProblem } from '../torchserve/torchserve-service';

// Every message below completes the sentence "<field>: got <value>; ..." so that a
// reader learns what is allowed without opening the README.
//
// The schema checks shape and ranges and says where a problem is; it sets no default that a
// construct owns. A field left out stays undefined all the way to the construct, whose prop
// documents and applies the default (TORCHSERVE_DEFAULTS, GATE_DEFAULTS, ...). A rule that the
// file must report at its line and the construct must throw is one predicate (a "...Problem"
// function of the construct's module) that both ask.

const IMAGE_REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

/** A value of `base` that `problemOf` accepts; its problem is reported at the value's line. */
function checked<T>(base: z.ZodType<T>, problemOf: (value: T) => string | undefined) {
  return base.superRefine((value, ctx) => {
    const problem = problemOf(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}
/** A string that `problemOf` accepts, its problem reported at the value's line; the registry's fields use it too. */
export const checkedString = (problemOf: (value: string) => string | undefined) => checked(z.string(), problemOf);
const checkedNumber = (problemOf: (value: number) => string | undefined) => checked(z.number(), problemOf);

/** A model version (see modelVersionProblem); the registry, packaging and the constructs follow the same rule. */
export const versionSchema = checkedString(modelVersionProblem);
/** Where a model archive lives; the registry follows the same rule. */
export const archiveSchema = checkedString(modelArchiveProblem);
/** A model name (see modelNameProblem); the registry, packaging and the constructs follow the same rule. */
export const modelNameSchema = checkedString(modelNameProblem);

/** A label key: a name of at most 63 characters, with an optional DNS subdomain prefix and "/". */
const labelKey = (message: string) => z.string().refine(isLabelKey, { message });

const dnsLabel = z
  .string()
  .max(63, { message: 'must be at most 63 characters' })
  .regex(DNS_LABEL_PATTERN, { message: 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit' });

/** Quantities may be written as YAML numbers (`cpu: 4`); they are kept as strings. */
const quantity = z
  .union([z.string(), z.number()])
  .transform((value) => String(value))
  .pipe(z.string().regex(QUANTITY_PATTERN, { message: 'must be a Kubernetes quantity such as "500m", "4", "16Gi"' }));

// zod runs refinements even after the pattern failed, so each refinement guards itself.
const isQuantity = (value: unknown): value is string => typeof value === 'string' && QUANTITY_PATTERN.test(value);
const positiveQuantity = (unitsPerValue: number, unit: string) => quantity
  .refine((value) => !isQuantity(value) || parseQuantity(value) > 0, { message: 'must be greater than zero' })
  .refine((value) => !isQuantity(value) || parseQuantity(value) * unitsPerValue <= MAX_QUANTITY_UNITS, { message: `is more than Kubernetes can count: it counts ${unit} in 64-bit integers` });
/** CPU, counted in millicores. */
const cpuQuantity = positiveQuantity(1000, 'millicores');
/** Memory and storage, counted in bytes. */
const byteQuantity = positiveQuantity(1, 'bytes');

const imageSchema = z
  .strictObject({
    repository: z.string().superRefine((value, ctx) => {
      if (IMAGE_REPOSITORY.test(value)) return;
      const pinned = /^(.+?)(?::([^:/@]+))?@(sha256:.*)$/.exec(value) ?? /^(.+):([^:/]+)$/.exec(value);
      ctx.addIssue({
        code: 'custom',
        message: pinned && IMAGE_REPOSITORY.test(pinned[1])
          ? `must be the repository alone, "${pinned[1]}"; put ${pinned[3] ? `the digest in "digest"${pinned[2] ? ' and the tag in "tag"' : ''}` : 'the tag in "tag"'}`
          : 'must be an image repository such as "pytorch/torchserve" or "123456789012.dkr.ecr.us-east-1.amazonaws.com/torchserve"',
      });
    }),
    tag: z
      .string()
      .regex(IMAGE_TAG, { message: 'must be an image tag: letters, digits, "_", "." and "-", at most 128 characters' })
      .refine((tag) => tag !== 'latest', { message: 'must be a pinned tag; "latest" changes under you and cannot be rolled back' })
      .optional(),
    digest: z.string().regex(IMAGE_DIGEST_PATTERN, { message: 'must be "sha256:" followed by 64 lowercase hex digits, the digest the registry reports for the pushed image' }).optional(),
  })
  .refine((image) => image.tag !== undefined || image.digest !== undefined, { message: 'needs a pinned tag, a digest ("sha256:…"), or both' });

/** A path inside the fleet file's folder, which is the images' build context. */
const contextPath = z.string().regex(/^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, {
  message: 'must be a relative path inside the fleet file\'s folder (the images\' build context), such as "handlers/intent_classifier/requirements.txt"',
});

const cidr = checkedString(cidrProblem);
const workersSchema = z
  .strictObject({
    min: z.int().min(1).max(64).optional(),
    max: z.int().min(1).max(64).optional(),
  })
  .superRefine((workers, ctx) => {
    const problem = workersProblem(workers.min, workers.max);
    if (problem) ctx.addIssue({ code: 'custom', path: ['min'], message: problem });
  });

const modelSchema = z.strictObject({
  name: modelNameSchema,
  // Without a model registry the fleet file says which version runs and where its archive is.
  // With one, the registry does, and these must be left out (see deployedReleases).
  version: versionSchema.optional(),
  mar: archiveSchema.optional(),
  handler: z
    .string()
    .min(1)
    .max(MAX_HANDLER_LENGTH, { message: `must be at most ${MAX_HANDLER_LENGTH} characters: a built-in handler name or a handler file path, which is recorded in a pod annotation` })
    .regex(/^[A-Za-z0-9_./-]+$/, { message: 'must be a built-in handler name (e.g. "text_classifier") or a handler file path' }),
  batchSize: z.int().min(1).max(1024).optional(),
  maxBatchDelayMs: z.int().min(1).max(60_000).optional(),
  workers: workersSchema.optional(),
  responseTimeoutSeconds: z.int().min(1).max(3600).optional(),
  startupTimeoutSeconds: z.int().min(30).max(3600).optional(),
  gpuMemoryFraction: z.number().gt(0).max(1).optional(),
  /** The handler's pinned Python requirements, relative to the fleet file; installed into the model's serving image. */
  requirements: contextPath.optional(),
  /** The serving image (a key of servingImages) the model runs; default "default". */
  image: dnsLabel.optional(),
  /** Opt-in: TorchServe pip-installs the archive's requirements when the model loads. */
  installAtLoad: z
    .strictObject({
      indexUrl: checkedString(packageIndexProblem),
      indexCidrs: z.array(cidr).min(1, { message: 'must list the address ranges of the index, which the network policy opens on the URL\'s port' }),
    })
    .optional(),
});

const tolerationSchema = z
  .strictObject({
    key: labelKey('must be a label key such as "nvidia.com/gpu"').optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().regex(LABEL_VALUE_PATTERN, { message: 'must be a label value' }).optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.int().min(0).optional(),
  })
  .refine((t) => !(t.operator === 'Exists' && t.value !== undefined), { message: 'operator Exists takes no value', path: ['value'] })
  // The API server's rules for tolerations (ValidateTolerations).
  .refine((t) => t.key !== undefined || t.operator === 'Exists', { message: 'is required with operator Equal; to tolerate every taint, set operator: Exists without a key', path: ['key'] })
  .refine((t) => t.tolerationSeconds === undefined || t.effect === 'NoExecute', { message: 'applies only to effect NoExecute (how long a pod stays on a node tainted NoExecute)', path: ['tolerationSeconds'] });

const placementSchema = z.strictObject({
  nodeSelector: z
    .record(
      labelKey('must be a label key such as "nvidia.com/gpu.present"'),
      z.string().regex(LABEL_VALUE_PATTERN, { message: 'must be a label value (quote "true")' }),
    )
    .optional(),
  tolerations: z.array(tolerationSchema).optional(),
  spot: z.boolean().optional(),
});

const resourcesSchema = z
  .strictObject({
    cpu: cpuQuantity,
    memory: byteQuantity,
    gpu: z.int().min(0).max(16).optional(),
    ephemeralStorage: byteQuantity.optional(),
    jvmHeap: byteQuantity.optional(),
  })
  .refine((r) => !isQuantity(r.jvmHeap) || !isQuantity(r.memory) || parseQuantity(r.jvmHeap) < parseQuantity(r.memory), {
    message: 'must be below resources.memory, which also has to hold the Python workers',
    path: ['jvmHeap'],
  })
  .superRefine((r, ctx) => {
    if (!isQuantity(r.memory) || (r.jvmHeap !== undefined && !isQuantity(r.jvmHeap))) return;
    const heap = jvmHeapBytesFor(parseQuantity(r.memory), r.jvmHeap === undefined ? undefined : parseQuantity(r.jvmHeap));
    if (toMebibytes(heap) >= MIN_JVM_HEAP_MEBIBYTES) return;
    ctx.addIssue(r.jvmHeap === undefined
      ? { code: 'custom', path: ['memory'], input: r.memory, message: `must be at least ${MIN_JVM_HEAP_MEBIBYTES * 4}Mi: TorchServe's JVM takes a quarter of it, and needs ${MIN_JVM_HEAP_MEBIBYTES}Mi; or set jvmHeap` }
      : { code: 'custom', path: ['jvmHeap'], input: r.jvmHeap, message: `must be at least ${MIN_JVM_HEAP_MEBIBYTES}Mi, which TorchServe's JVM needs` });
  });

const hostname = z.string().refine(isHostname, { message: 'must be a DNS name such as "api.example.com"' });

const gatewaySchema = z
  .strictObject({
    kind: z.enum(GatewayKind),
    implementation: z.enum(GatewayApiImplementation).optional(),
    className: dnsLabel.optional(),
    host: hostname,
    tls: z.strictObject({
      issuer: dnsLabel,
      issuerKind: z.enum(['ClusterIssuer', 'Issuer']).optional(),
    }),
    management: z
      .strictObject({
        host: hostname,
        // Also an ingress-nginx annotation; all of an object's annotations share 256 KiB.
        allowFrom: z.array(cidr).min(1, { message: 'must list at least one CIDR; the management API is never open to everyone' }).max(256),
      })
      .optional(),
    jwt: z
      .strictObject({
        // Which gateways take a verifier, and what URL, is jwtAuthUrlProblem's (below).
        authUrl: z.string().optional(),
        credentialSecrets: z.array(dnsLabel).min(1).optional(),
      })
      .optional(),
    rateLimit: z
      .strictObject({
        requestsPerSecond: z.int().min(1).max(100_000),
        burst: z.int().min(1).max(1_000_000).optional(),
      })
      .optional(),
    cache: z.boolean().optional(),
    metricsHonorLabels: z.boolean().optional(),
  })
  .superRefine((gateway, ctx) => {
    const isGatewayApi = gateway.kind === GatewayKind.GATEWAY_API;
    if (isGatewayApi && !gateway.implementation) {
      ctx.addIssue({ code: 'custom', path: ['implementation'], message: `is required for gateway-api; one of: ${GATEWAY_API_IMPLEMENTATIONS.join(', ')}` });
      return;
    }
    if (!isGatewayApi && gateway.implementation) {
      ctx.addIssue({ code: 'custom', path: ['implementation'], message: `applies only to kind gateway-api, not ${gateway.kind}` });
      return;
    }
    const provider = findGatewayProvider(gateway.kind, gateway.implementation);
    if (provider === undefined) return; // the enums admit only gateways with a provider
    // The gateway's provider says what it can do; the fleet file reports it at the line asked.
    const asked: [GatewayFeature, (string | number)[], boolean][] = [
      [GatewayFeature.JWT, ['jwt'], gateway.jwt !== undefined],
      [GatewayFeature.RATE_LIMIT, ['rateLimit'], gateway.rateLimit !== undefined],
      [GatewayFeature.RATE_LIMIT_BURST, ['rateLimit', 'burst'], gateway.rateLimit?.burst !== undefined],
      [GatewayFeature.CACHE, ['cache'], gateway.cache === true],
      [GatewayFeature.MANAGEMENT_ALLOW_LIST, ['management'], gateway.management !== undefined],
    ];
    for (const [feature, path, wanted] of asked) {
      const reason = wanted ? provider.unsupported(feature) : undefined;
      if (reason) ctx.addIssue({ code: 'custom', path, message: `gateway "${provider.label}" cannot do this: ${reason}` });
    }
    if (gateway.jwt && provider.jwtVerification === JwtVerification.CONSUMER_CREDENTIALS && !gateway.jwt.credentialSecrets) {
      ctx.addIssue({ code: 'custom', path: ['jwt', 'credentialSecrets'], message: `is required for gateway "${provider.label}": name the Secrets holding the consumers' JWT credentials` });
    }
    if (gateway.jwt?.credentialSecrets && provider.jwtVerification === JwtVerification.VERIFIER) {
      ctx.addIssue({ code: 'custom', path: ['jwt', 'credentialSecrets'], message: `applies only to gateways that check JWTs against consumer credentials (kong); gateway "${provider.label}" asks the verifier in jwt.authUrl` });
    }
    const authUrlIssue = gateway.jwt && !provider.unsupported(GatewayFeature.JWT) ? jwtAuthUrlProblem(provider, gateway.jwt.authUrl) : undefined;
    if (authUrlIssue) ctx.addIssue({ code: 'custom', path: ['jwt', 'authUrl'], message: authUrlIssue });
    if (gateway.management && gateway.management.host === gateway.host) {
      ctx.addIssue({ code: 'custom', path: ['management', 'host'], message: 'must differ from the public host, so the management API has its own certificate name and routes' });
    }
  });

const networkSchema = z.strictObject({
  gatewayNamespaces: z.array(dnsLabel).min(1).optional(),
  monitoringNamespaces: z.array(dnsLabel).optional(),
  managementNamespaces: z.array(dnsLabel).optional(),
  managementCidrs: z.array(cidr).optional(),
  objectStorageCidrs: z.array(cidr).min(1).optional(),
});

const RELEASE_TYPES = ['rolling', 'canary', 'blue-green'] as const;
const strategySchema = z.strictObject({
  // Not a construct's default: the type picks which constructs are built (a Deployment, or an
  // Argo Rollout with its analysis), and an environment that says nothing releases by rolling update.
  type: z.enum(RELEASE_TYPES).default('rolling'),
  /** Per-model strategies, which `model-serving deploy --model` writes; other models use `type`. */
  models: z.record(z.string(), z.enum(RELEASE_TYPES)).optional(),
  canary: z
    .strictObject({
      weights: z
        .array(checkedNumber(canaryStepProblem))
        // The steps' own problems are reported at each step; the list's only when every step is one.
        .superRefine((weights, ctx) => {
          const problem = weights.every((w) => canaryStepProblem(w) === undefined) ? canaryWeightsProblem(weights) : undefined;
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .optional(),
      pauseSeconds: z.int().min(0).max(86_400).optional(),
    })
    .optional(),
  blueGreen: z
    .strictObject({
      autoPromotion: z.boolean().optional(),
      scaleDownDelaySeconds: z.int().min(0).max(86_400).optional(),
    })
    .optional(),
  gates: z
    .strictObject({
      maxErrorRate: z.number().gt(0).lt(1).optional(),
      maxP95LatencyMs: z.int().min(1).max(600_000).optional(),
      intervalSeconds: z.int().min(10).max(3600).optional(),
      count: z.int().min(1).max(100).optional(),
      failureLimit: z.int().min(0).max(99).optional(),
      minRequests: z.int().min(1).max(1_000_000).optional(),
    })
    .superRefine((gates, ctx) => {
      const problem = failureLimitProblem(gates.count, gates.failureLimit);
      if (problem) ctx.addIssue({ code: 'custom', path: ['failureLimit'], message: problem });
    })
    .optional(),
});

/** A cron schedule as Kubernetes and KEDA parse it (see lib/private/cron.ts). */
const cronSchedule = (options: { descriptors?: boolean } = {}) => checkedString((schedule) => cronScheduleProblem(schedule, options));
const timeZone = checkedString(timeZoneProblem);
const labelMap = z.record(
  labelKey('must be a label key such as "release"'),
  z.string().regex(LABEL_VALUE_PATTERN, { message: 'must be a label value (quote "1" and "true")' }),
);
const scalingRulesSchema = z
  .strictObject({
    stabilizationSeconds: z.int().min(0).max(3600).optional(),
    pods: z.int().min(1).max(1000).optional(),
    periodSeconds: z.int().min(1).max(1800).optional(),
  })
  .optional();
const autoscalingSchema = z.strictObject({
  backend: z.enum(['keda', 'hpa-with-prometheus-adapter']).optional(),
  minReplicas: z.int().min(1).max(1000).optional(),
  maxReplicas: z.int().min(1).max(1000),
  cpuUtilization: z.int().min(1).max(100).optional(),
  memoryUtilization: z.int().min(1).max(100).optional(),
  queueWaitTargetMs: z.int().min(1).max(60_000).optional(),
  gpuUtilization: z.int().min(1).max(100).optional(),
  scaleUp: scalingRulesSchema,
  scaleDown: scalingRulesSchema,
  peakHours: z.strictObject({
    timezone: timeZone,
    start: cronSchedule(),
    end: cronSchedule(),
    minReplicas: z.int().min(1).max(1000),
  }).superRefine((peak, ctx) => {
    const problem = peakWindowProblem(peak.start, peak.end);
    if (problem) ctx.addIssue({ code: 'custom', path: ['end'], message: problem });
  }).optional(),
});
const monitoringSchema = z.strictObject({
  runbookBaseUrl: checkedString(runbookUrlProblem),
  prometheusSelectorLabels: labelMap.optional(),
  scrapeIntervalSeconds: z.int().min(5).max(60).optional(),
  requestAlerts: z.boolean().optional(),
  gpuMetrics: z.strictObject({
    source: z.enum(['dcgm', 'torchserve']).optional(),
    dcgmHonorLabels: z.boolean().optional(),
  }).optional(),
  thresholds: z.strictObject({
    latencyP95Ms: z.int().min(1).max(600_000).optional(),
    errorRatio: z.number().gt(0).lt(1).optional(),
    gpuMemoryRatio: z.number().gt(0).lt(1).optional(),
    podRestarts: z.int().min(1).max(1000).optional(),
    queueWaitMs: z.int().min(1).max(600_000).optional(),
    modelLoadingMinutes: z.int().min(5).max(1440).optional(),
  }).optional(),
  dashboard: z.strictObject({
    folder: z.string().min(1).max(255).optional(),
    datasource: z.string().min(1).optional(),
    labels: labelMap.optional(),
    folderAnnotation: labelKey('must be an annotation key such as "grafana_folder"').optional(),
  }).optional(),
});

const s3Prefix = z.string().regex(S3_FOLDER_PATTERN, { message: 'must be an S3 prefix ending in "/", such as "s3://betterprompts-model-backups/model-store/"' });

const backupSchema = z.strictObject({
  destination: s3Prefix,
  source: s3Prefix.optional(),
  roleArn: z.string().regex(IAM_ROLE_ARN_PATTERN, { message: 'must be an IAM role ARN such as "arn:aws:iam::123456789012:role/model-backup"; the role reads the model store and writes the destination' }),
  schedule: cronSchedule({ descriptors: true }).optional(),
  timeZone: timeZone.optional(),
  storageClass: z.enum(BackupStorageClass).optional(),
});
const redisSchema = z.strictObject({
  cpu: cpuQuantity.optional(),
  // A quantity's own problems are the pattern's; the Redis rule needs one to read.
  memory: checked(byteQuantity, (memory) => (isQuantity(memory) ? redisMemoryProblem(memory) : undefined)).optional(),
  persistence: z.strictObject({ size: byteQuantity, storageClassName: dnsLabel.optional() }).optional(),
  evictionPolicy: z.enum(RedisEvictionPolicy).optional(),
});

const environmentSchema = z.strictObject({
  stage: z.enum(['staging', 'production']),
  namespace: dnsLabel,
  replicas: z.int().min(1).max(1000),
  resources: resourcesSchema,
  placement: placementSchema.optional(),
  serviceAccount: z
    .strictObject({
      roleArn: z.string().regex(IAM_ROLE_ARN_PATTERN, { message: 'must be an IAM role ARN such as "arn:aws:iam::123456789012:role/model-reader"' }).optional(),
    })
    .optional(),
  grpc: z.boolean().optional(),
  prometheus: z.strictObject({
    url: checkedString(prometheusUrlProblem).optional(),
  }).optional(),
  gateway: gatewaySchema.optional(),
  network: networkSchema.optional(),
  // Parsed from {} when left out, so that strategy.type (above) always names the release type.
  strategy: strategySchema.prefault({}),
  autoscaling: autoscalingSchema.optional(),
  monitoring: monitoringSchema.optional(),
  backup: backupSchema.optional(),
  redis: redisSchema.optional(),
  /** Versions pinned by `model-serving deploy`, per model; they must be promoted to the stage. */
  versions: z.record(z.string(), versionSchema).optional(),
});

const argocdSchema = z.strictObject({
  repoURL: checkedString(repoUrlProblem),
  targetRevision: z.string().min(1).optional(),
  // Not a construct's default: where this app commits its output, from which each
  // Application's path (<path>/<environment>) is built.
  path: z.string().regex(/^(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, { message: 'must be the relative folder of the committed output inside the repository, e.g. "dist", without "." or ".." parts' }).default('dist'),
  project: dnsLabel.optional(),
  namespace: dnsLabel.optional(),
  destinationServer: checkedString(destinationServerProblem).optional(),
  // Not a construct's default: the list picks which Applications sync by themselves; none unless named.
  automatedSync: z.array(dnsLabel).default([]),
});

const argoRolloutsSchema = z.strictObject({
  namespace: dnsLabel.optional(),
  // Not a construct's default: whether the app writes dist/argo-rollouts/ at all; only when asked.
  pluginConfigMap: z.boolean().default(false),
});

/**
 * Keys that moved: an old key is an error that names its new place, instead of "unknown key".
 * `at` is the path of the mapping that held the key (`*` for any environment).
 */
export const MOVED_KEYS: readonly { readonly at: readonly string[]; readonly key: string; readonly to: (environment: string) => string; readonly why: string }[] = [
  {
    at: ['environments', '*', 'strategy', 'gates'],
    key: 'prometheusAddress',
    to: (env) => `environments.${env}.prometheus.url`,
    why: 'an environment has one Prometheus address, used by the release gates, KEDA and the prometheus-adapter rules',
  },
  {
    at: ['environments', '*', 'autoscaling'],
    key: 'prometheusUrl',
    to: (env) => `environments.${env}.prometheus.url`,
    why: 'an environment has one Prometheus address, used by the release gates, KEDA and the prometheus-adapter rules',
  },
];

/** Output folders next to the environments; no environment may take their names. */
export const RESERVED_FOLDERS = ['argo-rollouts', 'argocd', 'packaging'];

export const fleetSchema = z
  .strictObject({
    name: dnsLabel,
    image: imageSchema,
    // Left out, the constructs run their AWS CLI image (TORCHSERVE_DEFAULTS.modelFetcherImage).
    modelFetcher: imageSchema.optional(),
    /** The images `model-serving image` defines: built FROM image, with the models' requirements. */
    servingImages: z.record(dnsLabel, imageSchema).optional(),
    models: z.array(modelSchema).min(1, { message: 'must list at least one model' }),
    environments: z
      .record(dnsLabel, environmentSchema)
      .refine((envs) => Object.keys(envs).length > 0, { message: 'must define at least one environment' }),
    argocd: argocdSchema.optional(),
    argoRollouts: argoRolloutsSchema.optional(),
  })
  .superRefine((fleet, ctx) => {
    checkApplicationNames(fleet, ctx);
    fleet.argocd?.automatedSync.forEach((env, index) => {
      if (!(env in fleet.environments)) {
        ctx.addIssue({ code: 'custom', path: ['argocd', 'automatedSync', index], input: env, message: `is not an environment; the fleet defines: ${Object.keys(fleet.environments).join(', ')}` });
      }
    });
    const seen = new Map<string, number>();
    fleet.models.forEach((model, index) => {
      const resourceName = toResourceName(model.name);
      const first = seen.get(resourceName);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['models', index, 'name'],
          input: model.name,
          message: `duplicates models[${first}] ("${fleet.models[first].name}"); each model needs a unique name ("_" and "-" count as the same)`,
        });
      } else {
        seen.set(resourceName, index);
      }
    });
    checkServingImages(fleet, ctx);
    const namespaces = new Map<string, string>();
    const backupDestinations = new Map<string, string>();
    for (const [name, env] of Object.entries(fleet.environments)) {
      if (env.backup) {
        const { destination, source } = env.backup;
        // Without a source, the model store is the archives' bucket, which the registry may decide:
        // resolveReleases checks that case.
        if (source !== undefined && (destination.startsWith(source) || source.startsWith(destination))) {
          ctx.addIssue({ code: 'custom', path: ['environments', name, 'backup', 'destination'], input: destination, message: `must not contain or lie inside the model store ${source}; every run would copy the earlier backups again` });
        }
        const other = backupDestinations.get(destination);
        if (other !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['environments', name, 'backup', 'destination'], input: destination, message: `is already the destination of environment "${other}"; two backups would write the same dated folders` });
        }
        backupDestinations.set(destination, name);
      }
      if (env.stage === 'production' && env.placement?.spot) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', name, 'placement', 'spot'],
          input: true,
          message: 'spot nodes are not allowed for a production environment; remove "spot" or set it to false',
        });
      }
      const other = namespaces.get(env.namespace);
      if (other !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', name, 'namespace'],
          input: env.namespace,
          message: `is already used by environment "${other}"; each environment needs its own namespace`,
        });
      }
      namespaces.set(env.namespace, name);
      for (const model of Object.keys(env.versions ?? {})) {
        if (!fleet.models.some((m) => m.name === model)) {
          ctx.addIssue({ code: 'custom', path: ['environments', name, 'versions', model], message: `pins a model the fleet does not define; models: ${fleet.models.map((m) => m.name).join(', ')}` });
        }
      }
      if (RESERVED_FOLDERS.includes(name)) {
        ctx.addIssue({ code: 'custom', path: ['environments', name], message: `is reserved for an output folder (${RESERVED_FOLDERS.join(', ')}); rename the environment` });
      }
      for (const model of Object.keys(env.strategy.models ?? {})) {
        if (!fleet.models.some((m) => m.name === model)) {
          ctx.addIssue({ code: 'custom', path: ['environments', name, 'strategy', 'models', model], message: `sets the strategy of a model the fleet does not define; models: ${fleet.models.map((m) => m.name).join(', ')}` });
        }
      }
      const releaseTypes: [(string | number)[], string][] = [
        [['environments', name, 'strategy', 'type'], env.strategy.type],
        ...Object.entries(env.strategy.models ?? {}).map(([model, type]): [(string | number)[], string] => [['environments', name, 'strategy', 'models', model], type]),
      ];
      for (const [path, type] of releaseTypes) {
        if (type === 'rolling') continue;
        if (!env.gateway) {
          ctx.addIssue({
            code: 'custom',
            path,
            input: type,
            message: `needs a gateway: the gateway splits ${type} traffic and its request metrics gate each step; add environments.${name}.gateway or use rolling`,
          });
        } else {
          const provider = findGatewayProvider(env.gateway.kind, env.gateway.implementation);
          // A gateway whose canaries another provider serves is judged as that one.
          const serving = type === 'canary' ? provider?.canaryProvider ?? provider : provider;
          const reason = serving?.unsupported(type === 'canary' ? GatewayFeature.CANARY : GatewayFeature.BLUE_GREEN);
          if (reason) {
            ctx.addIssue({ code: 'custom', path, input: type, message: `gateway "${serving?.label}" cannot release by ${type}: ${reason}; use rolling, or another gateway` });
          } else if (type === 'canary' && !env.monitoring && serving?.canaryGates === CanaryGateSource.POD_METRICS) {
            ctx.addIssue({
              code: 'custom',
              path,
              input: type,
              message: `needs environments.${name}.monitoring: gateway "${serving.label}" reports stable and canary requests together, so the canary gates read TorchServe's metrics of the new pods, which the monitoring ServiceMonitor scrapes`,
            });
          }
        }
      }
      const scaling = env.autoscaling;
      if (scaling) {
        const at = (...key: (string | number)[]) => ['environments', name, 'autoscaling', ...key];
        // The queue-wait target scales out before requests time out, so it must be below each model's response timeout.
        const queueWaitTarget = optionalDuration(scaling.queueWaitTargetMs, Duration.millis);
        const timedOut = fleet.models
          .filter((m) => m.version !== undefined || env.versions?.[m.name] !== undefined)
          .map((m) => queueWaitTargetProblem(queueWaitTarget, optionalDuration(m.responseTimeoutSeconds, Duration.seconds), m.name))
          .find((problem) => problem !== undefined);
        if (timedOut) ctx.addIssue({ code: 'custom', path: at('queueWaitTargetMs'), input: scaling.queueWaitTargetMs, message: timedOut });
        // The autoscaler's floor defaults to the service's replicas, which are the environment's.
        const floor = scaling.minReplicas ?? env.replicas;
        const floorProblem = minReplicasProblem(floor, scaling.maxReplicas);
        if (floorProblem) {
          ctx.addIssue(scaling.minReplicas === undefined
            ? { code: 'custom', path: at('maxReplicas'), message: `must not be below minReplicas (${floor}, from replicas)` }
            : { code: 'custom', path: at('minReplicas'), message: floorProblem });
        }
        if (scaling.peakHours) {
          const backendProblem = peakHoursBackendProblem(scaling.backend);
          if (backendProblem) ctx.addIssue({ code: 'custom', path: at('peakHours'), message: backendProblem });
          const peakProblem = peakReplicasProblem(scaling.peakHours.minReplicas, floor, scaling.maxReplicas);
          if (peakProblem) ctx.addIssue({ code: 'custom', path: at('peakHours', 'minReplicas'), message: peakProblem });
        }
      }
      const alertsProblem = env.monitoring ? requestAlertsProblem(env.monitoring.requestAlerts, env.gateway && findGatewayProvider(env.gateway.kind, env.gateway.implementation)) : undefined;
      if (alertsProblem) ctx.addIssue({ code: 'custom', path: ['environments', name, 'monitoring', 'requestAlerts'], message: alertsProblem });
      if (!env.gateway && !env.network?.gatewayNamespaces) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', name, 'network', 'gatewayNamespaces'],
          message: 'is required when the environment has no gateway: name the namespaces whose pods may call the models (everything else is denied)',
        });
      }
    }
  });

/**
 * With Argo CD, each environment's Application is named `<fleet>-<environment>`, which must fit
 * a label value. When no environment's name fits beside the fleet's name, the fleet's name is the
 * one problem; otherwise each environment whose name is too long is.
 */
function checkApplicationNames(fleet: Pick<FleetConfig, 'name' | 'environments' | 'argocd'>, ctx: z.RefinementCtx): void {
  if (!fleet.argocd) return;
  const environments = Object.keys(fleet.environments);
  const tooLong = environments.filter((env) => applicationName(fleet.name, env).length > MAX_APPLICATION_NAME_LENGTH);
  if (tooLong.length === 0) return;
  const why = `Argo CD names each environment's Application "<name>-<environment>" and labels what it deploys with it, so it must be at most ${MAX_APPLICATION_NAME_LENGTH} characters`;
  if (tooLong.length === environments.length && environments.length > 1) {
    const room = MAX_APPLICATION_NAME_LENGTH - 1 - Math.min(...environments.map((env) => env.length));
    ctx.addIssue({ code: 'custom', path: ['name'], input: fleet.name, message: `is too long for argocd: ${why}; with these environments the name may have at most ${room} characters` });
    return;
  }
  for (const env of tooLong) {
    const name = applicationName(fleet.name, env);
    ctx.addIssue({ code: 'custom', path: ['environments', env], input: env, message: `is too long for argocd: the Application "${name.length > 40 ? `${name.slice(0, 37)}...` : name}" has ${name.length} characters; ${why}. Shorten the environment's name or the fleet's name` });
  }
}

/** The servingImages entry a model runs when it names none. */
export const DEFAULT_SERVING_IMAGE = 'default';

/** Which serving image each model runs, and that every requirement has something to install it. */
function checkServingImages(fleet: Pick<FleetConfig, 'image' | 'models' | 'servingImages'>, ctx: z.RefinementCtx): void {
  const images = fleet.servingImages;
  const names = Object.keys(images ?? {});
  const used = new Set<string>();
  fleet.models.forEach((model, index) => {
    const name = model.image ?? (images ? DEFAULT_SERVING_IMAGE : undefined);
    if (name !== undefined && images?.[name] !== undefined) used.add(name);
    else if (model.image !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['models', index, 'image'], input: model.image, message: images ? `is not in servingImages, which defines: ${names.join(', ')}` : 'names a serving image, but the fleet defines no servingImages' });
    } else if (images) {
      ctx.addIssue({ code: 'custom', path: ['models', index, 'image'], message: `is required: servingImages has no "${DEFAULT_SERVING_IMAGE}" entry for models that name none; name one of: ${names.join(', ')}` });
    }
    if (model.requirements !== undefined && model.installAtLoad === undefined && !images) {
      ctx.addIssue({
        code: 'custom',
        path: ['models', index, 'requirements'],
        input: model.requirements,
        message: `nothing would install these requirements: the models run the stock TorchServe image. Add servingImages.${DEFAULT_SERVING_IMAGE} (the image "model-serving image" defines and the workflow builds), or opt in to installAtLoad`,
      });
    }
  });
  for (const name of names) {
    if (!used.has(name)) ctx.addIssue({ code: 'custom', path: ['servingImages', name], message: 'no model runs this image; remove it, or name it in models[].image' });
    if (images![name].repository === fleet.image.repository) {
      ctx.addIssue({ code: 'custom', path: ['servingImages', name, 'repository'], input: images![name].repository, message: 'must differ from image.repository: the serving image is built from that image and pushed to your own registry' });
    }
  }
}

/** A duration from a number the fleet file may leave out: left out, the construct's default applies. */
export function optionalDuration(value: number | undefined, unit: (amount: number) => Duration): Duration | undefined {
  return value === undefined ? undefined : unit(value);
}

/**
 * A validated fleet file. Fields left out are `undefined`: the constructs apply their own
 * defaults. Only `strategy.type`, `argocd.path`, `argocd.automatedSync` and
 * `argoRollouts.pluginConfigMap` are filled in, since they pick what is built, not how.
 */
export type FleetConfig = z.output<typeof fleetSchema>;
export type ModelConfig = FleetConfig['models'][number];
export type EnvironmentConfig = FleetConfig['environments'][string];
export type GatewayConfig = NonNullable<EnvironmentConfig['gateway']>;

/** The release strategy type a model uses in an environment: its own (`strategy.models`), else the environment's. */
export function modelReleaseType(env: EnvironmentConfig, model: string): EnvironmentConfig['strategy']['type'] {
  return env.strategy.models?.[model] ?? env.strategy.type;
}
