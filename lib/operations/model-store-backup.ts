import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { AWS_CLI_IMAGE, IAM_ROLE_ARN_PATTERN, S3_FOLDER_PATTERN } from '../private/aws';
import { cidrProblem } from '../private/cidr';
import { unpinnedImageProblem } from '../private/image-ref';
import { LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, LABEL_PART_OF, MANAGED_BY } from '../private/labels';
import { cronScheduleProblem } from '../private/cron';
import { CRONJOB_NAME_MAX_LENGTH, isDnsLabel } from '../private/names';
import { timeZoneProblem } from '../private/time-zone';
import { isPositiveQuantity } from '../private/quantity';
import { ValidationError } from '../core/validation-error';
import { ANY_OBJECT_STORAGE, dnsEgressRule, objectStorageEgressRule, restrictedContainerSecurity, restrictedPodSecurity } from '../private/pod-hardening';

/**
 * The S3 storage class of the backup copies. Only classes that can be read back at once are
 * offered: a restore must not wait hours for a Glacier retrieval.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-class-intro.html
 */
export enum BackupStorageClass {
  STANDARD = 'STANDARD',
  /** Infrequent access: about half the price of STANDARD, billed for at least 30 days per object. */
  STANDARD_IA = 'STANDARD_IA',
  INTELLIGENT_TIERING = 'INTELLIGENT_TIERING',
  /** Glacier Instant Retrieval: cheapest storage that still reads back in milliseconds; 90-day minimum. */
  GLACIER_IR = 'GLACIER_IR',
}

/** What a {@link ModelStoreBackup} uses for an optional prop left out; the fleet file leaves them out too. */
export const BACKUP_DEFAULTS = {
  // Off the hour, so the job does not start together with every other nightly job in the cluster.
  schedule: '17 3 * * *',
  timeZone: 'Etc/UTC',
  image: AWS_CLI_IMAGE,
  storageClass: BackupStorageClass.STANDARD_IA,
  objectStorageCidrs: ANY_OBJECT_STORAGE,
} as const;

/** Properties of a {@link ModelStoreBackup}. */
export interface ModelStoreBackupProps {
  /**
   * The model store: the S3 prefix that holds the fleet's `.mar` archives, ending in "/", such
   * as `s3://betterprompts-models/`. See {@link modelStorePrefix}.
   */
  readonly source: string;
  /**
   * Where the dated copies go, ending in "/": each run writes `<destination><yyyy-mm-dd>/`.
   * Use another bucket, ideally in another account or region; it must not overlap `source`.
   */
  readonly destination: string;
  /**
   * IAM role for the job (IRSA), allowed to list and read `source` and to write `destination`.
   * It is a role of its own: the serving pods' role only reads.
   */
  readonly iamRoleArn: string;
  /** Kubernetes name of every object, and the instance label. @default 'model-store-backup' */
  readonly name?: string;
  /** @default - the chart's namespace */
  readonly namespace?: string;
  /** The `app.kubernetes.io/part-of` label. @default - no part-of label */
  readonly partOf?: string;
  /**
   * When to run, in cron syntax, read in `timeZone`. Off the hour, so the job does not start
   * together with every other nightly job in the cluster.
   * @default BACKUP_DEFAULTS.schedule ('17 3 * * *')
   */
  readonly schedule?: string;
  /** IANA time zone of `schedule`. The backup folder's date is always the UTC date. @default BACKUP_DEFAULTS.timeZone ('Etc/UTC') */
  readonly timeZone?: string;
  /** The AWS CLI image, `repository:tag`, `repository@sha256:…` or both; pinned (never `latest`). @default BACKUP_DEFAULTS.image ('amazon/aws-cli:2.22.35') */
  readonly image?: string;
  /** Storage class of the copied objects. @default BACKUP_DEFAULTS.storageClass (BackupStorageClass.STANDARD_IA) */
  readonly storageClass?: BackupStorageClass;
  /**
   * A run that takes longer is stopped (`activeDeadlineSeconds`). With `concurrencyPolicy:
   * Forbid`, a hung run would otherwise block every later one.
   * @default Duration.hours(4)
   */
  readonly timeout?: Duration;
  /** A run that could not start within this time after its schedule is skipped. @default Duration.hours(1) */
  readonly startingDeadline?: Duration;
  /** Pod restarts before a run counts as failed. @default 3 */
  readonly backoffLimit?: number;
  /** Finished runs kept for inspection. @default 3 */
  readonly successfulJobsHistoryLimit?: number;
  /** Failed runs kept for inspection. @default 3 */
  readonly failedJobsHistoryLimit?: number;
  /** CPU limit and request. @default '250m' */
  readonly cpu?: string;
  /** Memory limit and request. @default '512Mi' */
  readonly memory?: string;
  /**
   * Where S3 (and STS, for IRSA) are reached on 443. Narrow it to your S3 VPC endpoint's ranges
   * where you can.
   * @default BACKUP_DEFAULTS.objectStorageCidrs (['0.0.0.0/0'] without the instance metadata address 169.254.169.254)
   */
  readonly objectStorageCidrs?: readonly string[];
}

const UID = 10001;
const HOME = '/tmp';
/** Written last into each dated folder; a folder without it is an incomplete copy. */
export const BACKUP_COMPLETE_MARKER = '_SUCCESS';

/**
 * The model store of a set of archives: the bucket they share, as `s3://<bucket>/`. Returns
 * `undefined` when no archive is in S3 or they span several buckets; the backup then needs an
 * explicit source.
 */
export function modelStorePrefix(archiveUris: readonly string[]): string | undefined {
  const buckets = new Set(archiveUris.filter((uri) => uri.startsWith('s3://')).map((uri) => uri.slice('s3://'.length).split('/')[0]));
  return buckets.size === 1 ? `s3://${[...buckets][0]}/` : undefined;
}

/**
 * A daily copy of the model store to a dated prefix: a CronJob that runs `aws s3 sync
 * <source> <destination><yyyy-mm-dd>/` with its own IRSA service account, and a NetworkPolicy
 * that lets it reach only DNS and S3.
 *
 * The date is taken inside the container when the job runs, never at synth time, so the
 * manifests stay byte-for-byte reproducible. S3-to-S3 sync copies server-side, so the pod moves
 * no archive bytes itself and stays small. After the copy it writes `_SUCCESS` into the dated
 * folder, so a restore can tell a complete copy from one cut short.
 *
 * @see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/
 * @see https://awscli.amazonaws.com/v2/documentation/api/latest/reference/s3/sync.html
 */
export class ModelStoreBackup extends Construct {
  /** Kubernetes name of every object, and the instance label. */
  public readonly name: string;
  /** The namespace every object is in. */
  public readonly namespace: string;
  /** The S3 prefix that is copied. */
  public readonly source: string;
  /** The prefix under which each run writes its dated folder. */
  public readonly destination: string;
  /** Labels that select the backup pods. */
  public readonly selectorLabels: Readonly<Record<string, string>>;
  public readonly cronJob: k8s.KubeCronJob;
  public readonly serviceAccount: k8s.KubeServiceAccount;
  public readonly networkPolicy: k8s.KubeNetworkPolicy;

  constructor(scope: Construct, id: string, props: ModelStoreBackupProps) {
    super(scope, id);
    const p = this.validate(props);
    this.name = p.name;
    this.namespace = p.namespace;
    this.source = p.source;
    this.destination = p.destination;
    this.selectorLabels = { [LABEL_NAME]: 'model-store-backup', [LABEL_INSTANCE]: p.name };
    const labels: Record<string, string> = {
      ...this.selectorLabels,
      [LABEL_COMPONENT]: 'backup',
      ...(p.partOf ? { [LABEL_PART_OF]: p.partOf } : {}),
      [LABEL_MANAGED_BY]: MANAGED_BY,
    };
    const metadata = { name: p.name, namespace: p.namespace, labels };

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { ...metadata, annotations: { 'eks.amazonaws.com/role-arn': p.iamRoleArn } },
      // The job never calls the Kubernetes API; IRSA mounts its own projected token.
      automountServiceAccountToken: false,
    });

    const amounts: Record<string, k8s.Quantity> = {
      'cpu': k8s.Quantity.fromString(p.cpu),
      'memory': k8s.Quantity.fromString(p.memory),
      'ephemeral-storage': k8s.Quantity.fromString('256Mi'),
    };
    const script = [
      'set -eu',
      // The date of the run, in UTC, decided when the job starts.
      'day="$(date -u +%Y-%m-%d)"',
      'target="${BACKUP_DESTINATION}${day}/"',
      'echo "model-serving: copying ${MODEL_STORE} to ${target}"',
      'aws s3 sync "${MODEL_STORE}" "${target}" --only-show-errors --storage-class "${STORAGE_CLASS}"',
      `printf '%s\\n' "\${day}" | aws s3 cp - "\${target}${BACKUP_COMPLETE_MARKER}" --only-show-errors`,
      'echo "model-serving: ${target} is complete"',
    ].join('\n');

    this.cronJob = new k8s.KubeCronJob(this, 'Resource', {
      metadata,
      spec: {
        schedule: p.schedule,
        timeZone: p.timeZone,
        // Two copies into the same dated folder would race; a late run waits its turn instead.
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: p.startingDeadline.toSeconds(),
        successfulJobsHistoryLimit: p.successfulJobsHistoryLimit,
        failedJobsHistoryLimit: p.failedJobsHistoryLimit,
        // No ttlSecondsAfterFinished: the history limits clean up, and kube-linter's
        // job-ttl-seconds-after-finished check forbids it on a CronJob's template.
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: p.backoffLimit,
            activeDeadlineSeconds: p.timeout.toSeconds(),
            template: {
              metadata: { labels },
              spec: {
                serviceAccountName: p.name,
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                restartPolicy: 'OnFailure',
                securityContext: restrictedPodSecurity(UID),
                containers: [{
                  name: 'backup',
                  image: p.image,
                  imagePullPolicy: 'IfNotPresent',
                  command: ['/bin/sh', '-c', script],
                  env: [
                    { name: 'MODEL_STORE', value: p.source },
                    { name: 'BACKUP_DESTINATION', value: p.destination },
                    { name: 'STORAGE_CLASS', value: p.storageClass },
                    // The AWS CLI writes its credential cache under $HOME; the root filesystem is read-only.
                    { name: 'HOME', value: HOME },
                  ],
                  // Requests equal limits: the run gets Guaranteed QoS and is not evicted mid-copy.
                  resources: { requests: amounts, limits: amounts },
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts: [{ name: 'tmp', mountPath: HOME }],
                }],
                volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('128Mi') } }],
              },
            },
          },
        },
      },
    });

    this.networkPolicy = new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata,
      spec: {
        podSelector: { matchLabels: { ...this.selectorLabels } },
        // Nothing connects to a backup run; it only reaches out to DNS and S3.
        policyTypes: ['Ingress', 'Egress'],
        egress: [dnsEgressRule(), objectStorageEgressRule(p.objectStorageCidrs)],
      },
    });
  }

  /**
   * The shell command that restores the model store from the copy of `day` (`yyyy-mm-dd`).
   * It copies back without `--delete`, so archives added since that day stay in place.
   */
  public restoreCommand(day: string): string {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      throw new ValidationError('ModelStoreBackup.InvalidDay', `'day' ("${day}") must be a date such as "2025-01-31"`, this);
    }
    return `aws s3 sync ${this.destination}${day}/ ${this.source} --exclude ${BACKUP_COMPLETE_MARKER}`;
  }

  private validate(props: ModelStoreBackupProps): ResolvedProps {
    const fail = (code: string, message: string): never => {
      throw new ValidationError(`ModelStoreBackup.${code}`, message, this);
    };
    const name = props.name ?? 'model-store-backup';
    // CronJob names become Job names with an 11-character suffix, which must stay within 63.
    if (!isDnsLabel(name) || name.length > CRONJOB_NAME_MAX_LENGTH) {
      fail('InvalidName', `'name' ("${name}") must be a DNS-1123 label of at most ${CRONJOB_NAME_MAX_LENGTH} characters, so the Jobs' names fit in 63`);
    }
    const namespace = props.namespace ?? Chart.of(this).namespace;
    if (namespace === undefined || !isDnsLabel(namespace)) {
      fail('InvalidNamespace', `'namespace' (${JSON.stringify(namespace)}) must be a DNS-1123 label; set it on the construct or the chart`);
    }
    for (const [prop, value] of [['source', props.source], ['destination', props.destination]] as const) {
      if (!S3_FOLDER_PATTERN.test(value)) {
        fail('InvalidS3Prefix', `'${prop}' ("${value}") must be an S3 prefix ending in "/", such as "s3://betterprompts-models/" or "s3://backups/model-store/"`);
      }
    }
    if (props.destination.startsWith(props.source) || props.source.startsWith(props.destination)) {
      fail('OverlappingPrefixes', `'destination' ("${props.destination}") and 'source' ("${props.source}") must not contain each other; every run would copy the earlier backups again`);
    }
    if (!IAM_ROLE_ARN_PATTERN.test(props.iamRoleArn)) {
      fail('InvalidRoleArn', `'iamRoleArn' ("${props.iamRoleArn}") must be an IAM role ARN such as "arn:aws:iam::123456789012:role/model-backup"`);
    }
    const schedule = props.schedule ?? BACKUP_DEFAULTS.schedule;
    const scheduleProblem = cronScheduleProblem(schedule, { descriptors: true });
    if (scheduleProblem) fail('InvalidSchedule', `'schedule' ("${schedule}") ${scheduleProblem}`);
    const timeZone = props.timeZone ?? BACKUP_DEFAULTS.timeZone;
    const zoneProblem = timeZoneProblem(timeZone);
    if (zoneProblem) fail('InvalidTimeZone', `'timeZone' ("${timeZone}") ${zoneProblem}`);
    const image = props.image ?? BACKUP_DEFAULTS.image;
    const imageProblem = unpinnedImageProblem(image, AWS_CLI_IMAGE);
    if (imageProblem) fail('UnpinnedImage', `'image' ("${image}") ${imageProblem}`);
    for (const [prop, value] of [['cpu', props.cpu], ['memory', props.memory]] as const) {
      if (value !== undefined && !isPositiveQuantity(value)) {
        fail('InvalidQuantity', `'${prop}' ("${value}") must be a positive Kubernetes quantity such as "250m" or "512Mi"`);
      }
    }
    const integer = (prop: string, value: number, min: number, max: number): number => {
      if (!Number.isInteger(value) || value < min || value > max) {
        fail('OutOfRange', `'${prop}' (${value}) must be an integer from ${min} to ${max}`);
      }
      return value;
    };
    const timeout = props.timeout ?? Duration.hours(4);
    const startingDeadline = props.startingDeadline ?? Duration.hours(1);
    // The CronJob controller checks schedules every 10 s; a shorter deadline can skip every run.
    integer('startingDeadline (seconds)', startingDeadline.toSeconds(), 10, 86_400);
    integer('timeout (seconds)', timeout.toSeconds(), 60, 7 * 86_400);
    const objectStorageCidrs = props.objectStorageCidrs ?? BACKUP_DEFAULTS.objectStorageCidrs;
    if (objectStorageCidrs.length === 0) fail('NoObjectStorage', "'objectStorageCidrs' must list at least one CIDR; the job cannot reach S3 otherwise");
    for (const cidr of objectStorageCidrs) {
      const problem = cidrProblem(cidr);
      if (problem) fail('InvalidCidr', `'objectStorageCidrs' entry "${cidr}" ${problem}`);
    }
    return {
      ...props,
      name,
      namespace: namespace as string,
      schedule,
      timeZone,
      image,
      storageClass: props.storageClass ?? BACKUP_DEFAULTS.storageClass,
      timeout,
      startingDeadline,
      backoffLimit: integer('backoffLimit', props.backoffLimit ?? 3, 0, 20),
      successfulJobsHistoryLimit: integer('successfulJobsHistoryLimit', props.successfulJobsHistoryLimit ?? 3, 0, 100),
      failedJobsHistoryLimit: integer('failedJobsHistoryLimit', props.failedJobsHistoryLimit ?? 3, 1, 100),
      cpu: props.cpu ?? '250m',
      memory: props.memory ?? '512Mi',
      objectStorageCidrs,
    };
  }
}

interface ResolvedProps extends ModelStoreBackupProps {
  readonly name: string;
  readonly namespace: string;
  readonly schedule: string;
  readonly timeZone: string;
  readonly image: string;
  readonly storageClass: BackupStorageClass;
  readonly timeout: Duration;
  readonly startingDeadline: Duration;
  readonly backoffLimit: number;
  readonly successfulJobsHistoryLimit: number;
  readonly failedJobsHistoryLimit: number;
  readonly cpu: string;
  readonly memory: string;
  readonly objectStorageCidrs: readonly string[];
}
