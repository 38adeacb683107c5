import { Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, LABEL_PART_OF, LABEL_VERSION, MANAGED_BY } from '../private/labels';
import { LABEL_VALUE_PATTERN, isDnsLabel } from '../private/names';
import { parseImageRef, unpinnedImageProblem } from '../private/image-ref';
import { isPositiveQuantity, parseQuantity } from '../private/quantity';
import { sortKeys } from '../private/sort-keys';
import { ValidationError } from '../core/validation-error';
import type { IConnectable, INetworkClient } from '../isolation/model-network-policy';
import { restrictedContainerSecurity, restrictedPodSecurity } from '../private/pod-hardening';

/** The port Redis listens on, and the Service's port. */
export const REDIS_PORT = 6379;

/** Options of {@link RedisPersistence.appendOnly}. */
export interface AppendOnlyPersistenceOptions {
  /** Size of the PersistentVolumeClaim, a Kubernetes quantity such as "5Gi". */
  readonly size: string;
  /** @default - the cluster's default StorageClass */
  readonly storageClassName?: string;
}

/**
 * Whether the cache survives a restart of its pod.
 *
 * @see https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/
 */
export class RedisPersistence {
  /**
   * A pure cache: nothing is written to disk (`--save "" --appendonly no`) and a restarted pod
   * starts empty. Predictions are recomputed on a miss, so this is usually enough.
   */
  public static none(): RedisPersistence {
    return new RedisPersistence(undefined, undefined);
  }

  /**
   * The append-only file on a PersistentVolumeClaim (`--appendonly yes --appendfsync everysec`,
   * no RDB snapshots): a restarted pod reloads the cache, losing at most one second of writes.
   */
  public static appendOnly(options: AppendOnlyPersistenceOptions): RedisPersistence {
    return new RedisPersistence(options.size, options.storageClassName);
  }

  private constructor(
    /** The claim's size; undefined without persistence. */
    public readonly size: string | undefined,
    public readonly storageClassName: string | undefined,
  ) {}

  /** Whether data is kept on a PersistentVolumeClaim. */
  public get persistent(): boolean {
    return this.size !== undefined;
  }
}

/**
 * What Redis evicts when it reaches `maxmemory`. Only evicting policies are offered: a cache
 * that refuses writes when full (`noeviction`) would fail predictions instead of forgetting them.
 *
 * @see https://redis.io/docs/latest/develop/reference/eviction/
 */
export enum RedisEvictionPolicy {
  /** The least recently used keys, whatever their TTL. */
  ALLKEYS_LRU = 'allkeys-lru',
  /** The least frequently used keys. */
  ALLKEYS_LFU = 'allkeys-lfu',
  /** The least recently used keys among those with a TTL. */
  VOLATILE_LRU = 'volatile-lru',
  /** The least frequently used keys among those with a TTL. */
  VOLATILE_LFU = 'volatile-lfu',
  /** The keys with the nearest expiry. */
  VOLATILE_TTL = 'volatile-ttl',
}

/** A workload whose pods may use the cache, such as a TorchServeService. */
export type ICacheClient = INetworkClient;

/** What a {@link RedisCache} uses for an optional prop left out; the fleet file leaves them out too. */
export const REDIS_DEFAULTS = {
  image: 'redis:7.4.11-alpine',
  cpu: '500m',
  memory: '1Gi',
  evictionPolicy: RedisEvictionPolicy.ALLKEYS_LRU,
} as const;

/**
 * Why `memory` (a Kubernetes quantity) is too little for the cache, or `undefined`: Redis needs
 * room beyond its maxmemory. The fleet file and the construct follow it. Completes "got <memory>; ...".
 */
export function redisMemoryProblem(memory: string): string | undefined {
  return parseQuantity(memory) >= 64 * 2 ** 20 ? undefined : 'must be at least 64Mi; Redis needs room beyond its maxmemory';
}

/** Properties of a {@link RedisCache}. */
export interface RedisCacheProps {
  /** Kubernetes name of every object, the instance label, and the host name clients use. @default 'prediction-cache' */
  readonly name?: string;
  /** @default - the chart's namespace */
  readonly namespace?: string;
  /** The `app.kubernetes.io/part-of` label. @default - no part-of label */
  readonly partOf?: string;
  /**
   * The Redis image, `repository:tag`, `repository@sha256:…` or both; pinned (never `latest`).
   * Its tag, if any, is the `app.kubernetes.io/version` label, so it must also be a label value.
   * The official Alpine image runs as uid 999 and gid 1000, which the pod uses.
   * @default REDIS_DEFAULTS.image ('redis:7.4.11-alpine')
   */
  readonly image?: string;
  /** Whether the cache survives a pod restart. @default RedisPersistence.none() */
  readonly persistence?: RedisPersistence;
  /** CPU limit and request. Redis runs commands on one thread. @default REDIS_DEFAULTS.cpu ('500m') */
  readonly cpu?: string;
  /**
   * Memory limit and request. Redis's `maxmemory` is set below it: three quarters without
   * persistence, half with the append-only file, whose rewrite forks the process. At least 64Mi
   * (see {@link redisMemoryProblem}).
   * @default REDIS_DEFAULTS.memory ('1Gi')
   */
  readonly memory?: string;
  /** What Redis evicts when full. @default REDIS_DEFAULTS.evictionPolicy (RedisEvictionPolicy.ALLKEYS_LRU) */
  readonly evictionPolicy?: RedisEvictionPolicy;
  /**
   * An existing Secret holding a password that Redis requires (`--requirepass`), and that
   * {@link RedisCache.env} hands to clients as `REDIS_PASSWORD`. Never put the value in git.
   * @default - no password; the NetworkPolicy is the only access control
   */
  readonly passwordSecretName?: string;
  /** The key of the password in `passwordSecretName`. @default 'password' */
  readonly passwordSecretKey?: string;
  /** Workloads allowed to connect; more with {@link RedisCache.allowFrom}. @default [] */
  readonly clients?: ICacheClient[];
}

const DATA_DIR = '/data';
const REDIS_UID = 999;
const REDIS_GID = 1000;

/**
 * A Redis prediction cache for TorchServe handlers: a single-replica StatefulSet (on a
 * PersistentVolumeClaim when persistent), a Service, and a NetworkPolicy that admits only the
 * pods of its clients, on 6379.
 *
 * Handlers find it through environment variables ({@link env}); the clients' own network
 * policies must let them out to it ({@link egressRule}).
 *
 * @see https://hub.docker.com/_/redis
 */
export class RedisCache extends Construct implements IConnectable {
  /** Kubernetes name of every object, and the instance label. */
  public readonly name: string;
  /** The namespace every object is in. */
  public readonly namespace: string;
  /** The host name clients connect to. */
  public readonly host: string;
  /** Labels that select the Redis pod. */
  public readonly selectorLabels: Readonly<Record<string, string>>;
  public readonly statefulSet: k8s.KubeStatefulSet;
  public readonly service: k8s.KubeService;
  public readonly networkPolicy: k8s.KubeNetworkPolicy;
  private readonly clientPeers: k8s.NetworkPolicyPeer[] = [];
  private readonly clientKeys = new Set<string>();
  private readonly passwordSecret?: { readonly name: string; readonly key: string };

  constructor(scope: Construct, id: string, props: RedisCacheProps = {}) {
    super(scope, id);
    const p = this.validate(props);
    this.name = p.name;
    this.namespace = p.namespace;
    // Namespace-qualified without assuming the cluster domain: resolvable from any namespace.
    this.host = `${p.name}.${p.namespace}.svc`;
    this.passwordSecret = p.passwordSecretName ? { name: p.passwordSecretName, key: p.passwordSecretKey } : undefined;
    this.selectorLabels = { [LABEL_NAME]: 'redis', [LABEL_INSTANCE]: p.name };
    const labels: Record<string, string> = {
      ...this.selectorLabels,
      [LABEL_COMPONENT]: 'cache',
      ...(p.imageTag !== undefined ? { [LABEL_VERSION]: p.imageTag } : {}),
      ...(p.partOf ? { [LABEL_PART_OF]: p.partOf } : {}),
      [LABEL_MANAGED_BY]: MANAGED_BY,
    };
    const metadata = { name: p.name, namespace: p.namespace, labels };
    const { [LABEL_VERSION]: _version, ...claimLabels } = labels;
    const persistent = p.persistence.persistent;
    const memoryBytes = parseQuantity(p.memory);
    const maxMemoryMebibytes = Math.floor((memoryBytes * (persistent ? 0.5 : 0.75)) / 2 ** 20);

    const args = [
      '--port', String(REDIS_PORT),
      // Protected mode refuses every non-loopback client when no password is set; the
      // NetworkPolicy below is what limits who connects.
      '--protected-mode', 'no',
      '--dir', DATA_DIR,
      '--maxmemory', `${maxMemoryMebibytes}mb`,
      '--maxmemory-policy', p.evictionPolicy,
      // RDB snapshots fork the whole process; the append-only file (when wanted) is enough.
      '--save', '',
      ...(persistent ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no']),
      // Kubernetes expands $(REDIS_PASSWORD) from the container's env, so the value never appears in a manifest.
      ...(this.passwordSecret ? ['--requirepass', '$(REDIS_PASSWORD)'] : []),
    ];
    const secretEnv = (name: string): k8s.EnvVar[] => (this.passwordSecret
      ? [{ name, valueFrom: { secretKeyRef: { name: this.passwordSecret.name, key: this.passwordSecret.key } } }]
      : []);

    const amounts: Record<string, k8s.Quantity> = {
      'cpu': k8s.Quantity.fromString(p.cpu),
      'memory': k8s.Quantity.fromString(p.memory),
      // Without persistence /data is an emptyDir, which counts as ephemeral storage.
      'ephemeral-storage': k8s.Quantity.fromString(persistent ? '256Mi' : '512Mi'),
    };

    this.service = new k8s.KubeService(this, 'Service', {
      metadata,
      spec: {
        type: 'ClusterIP',
        selector: { ...this.selectorLabels },
        ports: [{ name: 'redis', port: REDIS_PORT, targetPort: k8s.IntOrString.fromString('redis'), protocol: 'TCP' }],
      },
    });

    // Its own identity, with no token and no RBAC, rather than the namespace's default account.
    new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata, automountServiceAccountToken: false });

    this.statefulSet = new k8s.KubeStatefulSet(this, 'Resource', {
      metadata,
      spec: {
        // One replica: a cache miss only costs a prediction, so no replication to run or fail over.
        replicas: 1,
        // A StatefulSet rather than a Deployment: it stops the old pod before starting the new
        // one, so a ReadWriteOnce claim is never wanted by two pods during an update.
        serviceName: p.name,
        revisionHistoryLimit: 5,
        selector: { matchLabels: { ...this.selectorLabels } },
        updateStrategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: p.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: restrictedPodSecurity(REDIS_UID, REDIS_GID),
            containers: [{
              name: 'redis',
              image: p.image,
              imagePullPolicy: 'IfNotPresent',
              // Bypass the image entrypoint: its only job is stepping down from root, and the pod never is root.
              command: ['redis-server'],
              args,
              ports: [{ name: 'redis', containerPort: REDIS_PORT, protocol: 'TCP' }],
              // redis-cli in the readiness probe reads the password from REDISCLI_AUTH.
              ...(this.passwordSecret ? { env: [...secretEnv('REDIS_PASSWORD'), ...secretEnv('REDISCLI_AUTH')] } : {}),
              resources: { requests: amounts, limits: amounts },
              // PING answers LOADING while the append-only file is read back, so the pod turns
              // ready only once the data is there. Liveness only needs the port: loading is not a hang.
              readinessProbe: {
                exec: { command: ['/bin/sh', '-c', `[ "$(redis-cli -p ${REDIS_PORT} ping)" = PONG ]`] },
                periodSeconds: 10,
                timeoutSeconds: 3,
                failureThreshold: 3,
              },
              livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('redis') }, periodSeconds: 20, timeoutSeconds: 3, failureThreshold: 3 },
              securityContext: restrictedContainerSecurity(),
              volumeMounts: [{ name: 'data', mountPath: DATA_DIR }],
            }],
            ...(persistent ? {} : { volumes: [{ name: 'data', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } }] }),
          },
        },
        ...(persistent
          ? {
            volumeClaimTemplates: [{
              // volumeClaimTemplates cannot change after creation, so no label that may (the version).
              metadata: { name: 'data', labels: claimLabels },
              spec: {
                accessModes: ['ReadWriteOnce'],
                ...(p.persistence.storageClassName ? { storageClassName: p.persistence.storageClassName } : {}),
                resources: { requests: { storage: k8s.Quantity.fromString(p.persistence.size as string) } },
              },
            }],
          }
          : {}),
      },
    });

    this.networkPolicy = new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata,
      spec: {
        podSelector: { matchLabels: { ...this.selectorLabels } },
        // Redis opens no connections of its own (no replication, no modules), so all egress is denied.
        policyTypes: ['Ingress', 'Egress'],
        // Rendered at synth, with every client admitted by then.
        ingress: [{ from: Lazy.any({ produce: () => [...this.clientPeers] }) as unknown as k8s.NetworkPolicyPeer[], ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(REDIS_PORT) }] }],
      },
    });

    for (const client of p.clients ?? []) this.allowFrom(client);
    this.node.addValidation({
      validate: () => (this.clientPeers.length === 0
        ? [`RedisCache ${this.node.path} admits no client: pass 'clients' or call allowFrom(service), or nothing can reach it`]
        : []),
    });
  }

  /** Lets the pods of `client` connect to the cache on 6379. Idempotent. */
  public allowFrom(client: ICacheClient): void {
    const matchLabels = sortKeys(client.selectorLabels);
    const key = JSON.stringify([client.namespace, matchLabels]);
    if (this.clientKeys.has(key)) return;
    this.clientKeys.add(key);
    this.clientPeers.push({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': client.namespace } },
      podSelector: { matchLabels },
    });
  }

  /**
   * The environment variables a client's handler reads: `REDIS_HOST` and `REDIS_PORT`, and
   * `REDIS_PASSWORD` (from the Secret) when a password is set.
   */
  public env(): k8s.EnvVar[] {
    return [
      { name: 'REDIS_HOST', value: this.host },
      { name: 'REDIS_PORT', value: String(REDIS_PORT) },
      ...(this.passwordSecret
        ? [{ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: this.passwordSecret.name, key: this.passwordSecret.key } } }]
        : []),
    ];
  }

  /**
   * `REDIS_HOST` and `REDIS_PORT` as plain values, for a client that takes literal variables
   * (TorchServeService's `env`). The password, when set, comes only through {@link env}.
   */
  public connectionEnv(): Record<string, string> {
    return { REDIS_HOST: this.host, REDIS_PORT: String(REDIS_PORT) };
  }

  /**
   * Admits `client` and returns the egress rule its NetworkPolicy needs: both sides of the
   * connection at once (`ModelNetworkPolicy.connectTo(cache)`).
   */
  public admit(client: INetworkClient): k8s.NetworkPolicyEgressRule {
    this.allowFrom(client);
    return this.egressRule();
  }

  /** The egress rule a client's NetworkPolicy needs to reach the cache. */
  public egressRule(): k8s.NetworkPolicyEgressRule {
    return {
      to: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': this.namespace } },
        podSelector: { matchLabels: { ...this.selectorLabels } },
      }],
      ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(REDIS_PORT) }],
    };
  }

  private validate(props: RedisCacheProps): ResolvedProps {
    const fail = (code: string, message: string): never => {
      throw new ValidationError(`RedisCache.${code}`, message, this);
    };
    const name = props.name ?? 'prediction-cache';
    // StatefulSet pods add "-0" and the controller-revision-hash label a further suffix.
    if (!isDnsLabel(name) || name.length > 52) {
      fail('InvalidName', `'name' ("${name}") must be a DNS-1123 label of at most 52 characters`);
    }
    const namespace = props.namespace ?? Chart.of(this).namespace;
    if (namespace === undefined || !isDnsLabel(namespace)) {
      fail('InvalidNamespace', `'namespace' (${JSON.stringify(namespace)}) must be a DNS-1123 label; set it on the construct or the chart`);
    }
    const image = props.image ?? REDIS_DEFAULTS.image;
    const pinProblem = unpinnedImageProblem(image, REDIS_DEFAULTS.image);
    if (pinProblem) fail('UnpinnedImage', `'image' ("${image}") ${pinProblem}`);
    const imageTag = parseImageRef(image).tag;
    if (imageTag !== undefined && !LABEL_VALUE_PATTERN.test(imageTag)) {
      fail('UnpinnedImage', `'image' ("${image}") must have a tag that is also a label value (at most 63 letters, digits, "-", "_" and ".")`);
    }
    const persistence = props.persistence ?? RedisPersistence.none();
    for (const [prop, value] of [['cpu', props.cpu], ['memory', props.memory], ['persistence.size', persistence.size]] as const) {
      if (value !== undefined && !isPositiveQuantity(value)) {
        fail('InvalidQuantity', `'${prop}' ("${value}") must be a positive Kubernetes quantity such as "500m", "1Gi" or "5Gi"`);
      }
    }
    const memory = props.memory ?? REDIS_DEFAULTS.memory;
    const memoryIssue = redisMemoryProblem(memory);
    if (memoryIssue) fail('InvalidQuantity', `'memory' ("${memory}") ${memoryIssue}`);
    if (persistence.storageClassName !== undefined && !isDnsLabel(persistence.storageClassName)) {
      fail('InvalidStorageClass', `'persistence.storageClassName' ("${persistence.storageClassName}") must be a StorageClass name`);
    }
    if (props.passwordSecretName !== undefined && !isDnsLabel(props.passwordSecretName)) {
      fail('InvalidSecretName', `'passwordSecretName' ("${props.passwordSecretName}") must be the name of a Secret in the namespace`);
    }
    const passwordSecretKey = props.passwordSecretKey ?? 'password';
    if (!/^[-._a-zA-Z0-9]{1,253}$/.test(passwordSecretKey)) {
      fail('InvalidSecretKey', `'passwordSecretKey' ("${passwordSecretKey}") must be a Secret key: letters, digits, "-", "_" and "."`);
    }
    return {
      ...props,
      name,
      namespace: namespace as string,
      image,
      imageTag,
      persistence,
      cpu: props.cpu ?? REDIS_DEFAULTS.cpu,
      memory,
      evictionPolicy: props.evictionPolicy ?? REDIS_DEFAULTS.evictionPolicy,
      passwordSecretKey,
    };
  }
}

interface ResolvedProps extends RedisCacheProps {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  /** The version label; a digest alone gives none. */
  readonly imageTag?: string;
  readonly persistence: RedisPersistence;
  readonly cpu: string;
  readonly memory: string;
  readonly evictionPolicy: RedisEvictionPolicy;
  readonly passwordSecretKey: string;
}
