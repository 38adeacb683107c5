import { createHash } from 'node:crypto';
import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { AWS_CLI_IMAGE, IAM_ROLE_ARN_PATTERN, S3_BUCKET_PATTERN, S3_BUCKET_SOURCE } from '../private/aws';
import { cidrProblem } from '../private/cidr';
import {
  ANNOTATION_PREFIX, LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, LABEL_PART_OF, LABEL_VERSION, MANAGED_BY,
} from '../private/labels';
import { isDnsLabel, toResourceName } from '../private/names';
import { isPositiveQuantity } from '../private/quantity';
import { unpinnedImageProblem } from '../private/image-ref';
import { ValidationError } from '../core/validation-error';
import { modelArchiveProblem } from '../torchserve/model-archive';
import { modelNameProblem } from '../torchserve/model-name';
import { modelVersionLabel, modelVersionProblem } from '../torchserve/model-version';
import { ANY_OBJECT_STORAGE, dnsEgressRule, objectStorageEgressRule, restrictedPodSecurity } from '../private/pod-hardening';

/**
 * TorchServe's built-in handlers, which `torch-model-archiver --handler` takes by name.
 *
 * @see https://github.com/pytorch/serve/blob/v0.12.0/docs/default_handlers.md
 */
export enum BuiltInHandler {
  IMAGE_CLASSIFIER = 'image_classifier',
  IMAGE_SEGMENTER = 'image_segmenter',
  OBJECT_DETECTOR = 'object_detector',
  TEXT_CLASSIFIER = 'text_classifier',
}

/**
 * The handler packaged into the archive: a built-in one, or a Python file from the repository.
 *
 * A handler file travels to the Job in a ConfigMap generated from the local file, so the code
 * that gets archived is the reviewed code in git, and the trained-model prefix in S3 holds only
 * what training produced. ConfigMaps are not secret: a handler must not contain credentials.
 */
export class PackagingHandler {
  /** One of TorchServe's built-in handlers. */
  public static builtIn(handler: BuiltInHandler): PackagingHandler {
    return new PackagingHandler(handler);
  }

  /**
   * A handler file: its file name (e.g. `intent_classifier_handler.py`, which becomes the
   * handler module's name) and its contents.
   */
  public static fromFile(fileName: string, contents: string): PackagingHandler {
    return new PackagingHandler(fileName, contents);
  }

  private constructor(
    /** The built-in handler's name, or the handler file's name. */
    public readonly name: string,
    /** The handler file's contents; `undefined` for a built-in handler. */
    public readonly contents?: string,
  ) {}
}

/** Properties of a {@link ModelPackagingJob}. */
export interface ModelPackagingJobProps {
  /** The TorchServe model name; also the archive's file name (`<modelName>.mar`). */
  readonly modelName: string;
  /** The semantic version packaged into the archive's manifest and its S3 key. */
  readonly modelVersion: string;
  /** The S3 prefix holding the training output, e.g. `s3://ml-training/intent_classifier/run-42/`. */
  readonly trainedModelUri: string;
  /** The handler to package: `PackagingHandler.builtIn(...)` or `PackagingHandler.fromFile(...)`. */
  readonly handler: PackagingHandler;
  /** The bucket the archive is uploaded to, at `<modelName>/<modelVersion>/<modelName>.mar`. */
  readonly archiveBucket: string;
  /** The TorchServe image, which ships `torch-model-archiver`; pinned by tag or digest. */
  readonly image: string;
  /**
   * IAM role for the Job (IRSA). It needs `s3:GetObject`/`s3:ListBucket` on the training prefix
   * and `s3:PutObject` on the archive key.
   */
  readonly iamRoleArn: string;

  /**
   * The weights, relative to `trainedModelUri` (`--serialized-file`).
   * @default - 'model.pt', unless `modelFile` is set
   */
  readonly serializedFile?: string;
  /** The model's class definition, relative to `trainedModelUri` (`--model-file`); eager-mode models need it. @default - none */
  readonly modelFile?: string;
  /** Further files for the archive, relative to `trainedModelUri` (`--extra-files`), e.g. `config.json`. @default [] */
  readonly extraFiles?: string[];
  /**
   * Contents of a requirements.txt to package (`--requirements-file`). TorchServe installs it
   * only with `install_py_dep_per_model=true`, which our serving pods do not set.
   * @default - none
   */
  readonly requirements?: string;
  /** Kubernetes name of every object and the `app.kubernetes.io/instance` label. @default - "package-<model>-<version>" */
  readonly name?: string;
  /** @default - the chart's namespace */
  readonly namespace?: string;
  /** The `app.kubernetes.io/part-of` label. @default - no part-of label */
  readonly partOf?: string;
  /** Image that downloads the training output and uploads the archive. @default 'amazon/aws-cli:2.22.35' */
  readonly awsCliImage?: string;
  /** CPU of the archiving container, request and limit. @default '2' */
  readonly cpu?: string;
  /** Memory of the archiving container, request and limit. @default '4Gi' */
  readonly memory?: string;
  /**
   * Scratch space for the downloaded model, the archiver's copy of it and the archive: about
   * three times the model's size. Also each container's ephemeral-storage request and limit.
   * The default fits the spare room the namespace guardrails keep for one-off pods.
   * @default '8Gi'
   */
  readonly workspaceSize?: string;
  /** Pod retries before the Job fails. @default 2 */
  readonly backoffLimit?: number;
  /** The Job fails when it runs longer than this, retries included. @default Duration.hours(2) */
  readonly activeDeadline?: Duration;
  /** How long a finished Job (and its pods' logs) stays before Kubernetes deletes it. @default Duration.days(1) */
  readonly ttlAfterFinished?: Duration;
  /**
   * Where S3 lives, reached on 443 (and STS, for IRSA). Narrow it to your S3 endpoint's ranges.
   * @default ['0.0.0.0/0'] without the instance metadata address 169.254.169.254
   */
  readonly objectStorageCidrs?: readonly string[];
}

const UID = 1000;
const MODEL_DIR = '/workspace/model';
const EXPORT_DIR = '/workspace/export';
const SOURCE_DIR = '/packaging/source';
const REQUIREMENTS_KEY = 'requirements.txt';
const DEFAULT_SERIALIZED_FILE = 'model.pt';
/** ConfigMaps hold at most 1 MiB, metadata included. */
const MAX_SOURCE_BYTES = 900 * 1024;
// The training output: a bucket and any key prefix the archiver's --extra-files can read.
const S3_PREFIX = new RegExp(`^s3://(${S3_BUCKET_SOURCE})(/[^\\s,]*)?$`);
// A path inside the training prefix: no "..", no hidden segments, nothing a shell or the
// archiver's comma-separated --extra-files could misread.
const RELATIVE_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;
// TorchServe imports the handler file as a module named after it.
const HANDLER_FILE = /^[A-Za-z_][A-Za-z0-9_]*\.py$/;
// Obvious credentials that must never land in a committed ConfigMap.
const SECRET_PATTERNS: [RegExp, string][] = [
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/\bgh[pousr]_[A-Za-z0-9]{36}\b/, 'a GitHub token'],
];

/**
 * A Kubernetes Job that turns a training run's output into a TorchServe model archive and
 * uploads it to the model bucket at a versioned key, as `torch-model-archiver` would on a laptop.
 *
 * The pod runs three steps in order: an init container copies the training output from S3 into
 * a scratch emptyDir; a second init container runs `torch-model-archiver` in the pinned
 * TorchServe image; the main container uploads `<model>.mar` with `If-None-Match: *`, so an
 * archive that exists is never overwritten: a version always means the same bytes. Alongside
 * are the IRSA ServiceAccount, a NetworkPolicy that lets the pod reach only DNS and S3, and,
 * for a handler file or requirements, the ConfigMap carrying them.
 *
 * @see https://github.com/pytorch/serve/blob/v0.12.0/model-archiver/README.md
 */
export class ModelPackagingJob extends Construct {
  /** Kubernetes name of every object. */
  public readonly name: string;
  public readonly namespace: string;
  /** Where the Job uploads the archive: `s3://<bucket>/<model>/<version>/<model>.mar`. */
  public readonly archiveUri: string;
  /** The `torch-model-archiver` arguments the Job runs. */
  public readonly archiverArgs: readonly string[];
  public readonly job: k8s.KubeJob;
  public readonly serviceAccount: k8s.KubeServiceAccount;
  public readonly networkPolicy: k8s.KubeNetworkPolicy;
  /** The handler file and requirements; `undefined` when there are neither. */
  public readonly sourceConfigMap?: k8s.KubeConfigMap;

  constructor(scope: Construct, id: string, props: ModelPackagingJobProps) {
    super(scope, id);
    const p = this.validate(props);
    this.name = p.name;
    this.namespace = p.namespace;
    this.archiveUri = p.archiveUri;

    const labels: Record<string, string> = {
      [LABEL_NAME]: 'model-packaging',
      [LABEL_INSTANCE]: p.name,
      [LABEL_COMPONENT]: 'packaging',
      // As on the serving workload: build metadata's "+" as "_"; the annotation keeps the version as written.
      [LABEL_VERSION]: modelVersionLabel(p.modelVersion),
      ...(p.partOf ? { [LABEL_PART_OF]: p.partOf } : {}),
      [LABEL_MANAGED_BY]: MANAGED_BY,
    };
    const selectorLabels = { [LABEL_NAME]: labels[LABEL_NAME], [LABEL_INSTANCE]: p.name };
    const annotations = {
      [`${ANNOTATION_PREFIX}/model-name`]: p.modelName,
      [`${ANNOTATION_PREFIX}/model-version`]: p.modelVersion,
      [`${ANNOTATION_PREFIX}/trained-model`]: p.trainedModelUri,
      [`${ANNOTATION_PREFIX}/model-archive`]: p.archiveUri,
    };
    const metadata = (name: string) => ({ name, namespace: p.namespace, labels: { ...labels } });

    const sourceData: Record<string, string> = {};
    if (p.handler.contents !== undefined) sourceData[p.handler.name] = p.handler.contents;
    if (p.requirements !== undefined) sourceData[REQUIREMENTS_KEY] = p.requirements;
    const sourceName = `${p.name}-source`;
    if (Object.keys(sourceData).length > 0) {
      this.sourceConfigMap = new k8s.KubeConfigMap(this, 'Source', {
        metadata: { ...metadata(sourceName), annotations: { ...annotations } },
        // The Job's inputs must not change under it; a new handler is a new version.
        immutable: true,
        data: sourceData,
      });
    }

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { ...metadata(p.name), annotations: { 'eks.amazonaws.com/role-arn': p.iamRoleArn } },
      // The pod never calls the Kubernetes API; IRSA mounts its own projected token.
      automountServiceAccountToken: false,
    });

    this.networkPolicy = new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: metadata(p.name),
      spec: {
        podSelector: { matchLabels: { ...selectorLabels } },
        // Nothing may connect to the pod; it may reach DNS and S3 only.
        policyTypes: ['Ingress', 'Egress'],
        egress: [dnsEgressRule(), objectStorageEgressRule(p.objectStorageCidrs)],
      },
    });

    this.archiverArgs = [
      '--model-name', p.modelName,
      '--version', p.modelVersion,
      ...(p.serializedFile !== undefined ? ['--serialized-file', `${MODEL_DIR}/${p.serializedFile}`] : []),
      ...(p.modelFile !== undefined ? ['--model-file', `${MODEL_DIR}/${p.modelFile}`] : []),
      '--handler', p.handler.contents !== undefined ? `${SOURCE_DIR}/${p.handler.name}` : p.handler.name,
      ...(p.extraFiles.length > 0 ? ['--extra-files', p.extraFiles.map((f) => `${MODEL_DIR}/${f}`).join(',')] : []),
      ...(p.requirements !== undefined ? ['--requirements-file', `${SOURCE_DIR}/${REQUIREMENTS_KEY}`] : []),
      '--export-path', EXPORT_DIR,
      '--archive-format', 'default',
      // The export folder is fresh in every pod; --force only matters if a container restarts in place.
      '--force',
    ];

    const security: k8s.SecurityContext = {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    };
    const resources = (cpu: string, memory: string): k8s.ResourceRequirements => {
      const amounts = {
        'cpu': k8s.Quantity.fromString(cpu),
        'memory': k8s.Quantity.fromString(memory),
        // The scratch emptyDir counts against the pod's ephemeral storage.
        'ephemeral-storage': k8s.Quantity.fromString(p.workspaceSize),
      };
      return { requests: amounts, limits: amounts };
    };
    // One scratch volume bounds the whole job's disk use; each step sees only the folders it needs.
    const workspace = (subPath: string, mountPath: string, readOnly = false): k8s.VolumeMount => ({
      name: 'workspace', subPath, mountPath, ...(readOnly ? { readOnly } : {}),
    });
    const awsEnv: k8s.EnvVar[] = [
      // The AWS CLI writes its cache under $HOME; the root filesystem is read-only.
      { name: 'HOME', value: '/tmp' },
      { name: 'AWS_RETRY_MODE', value: 'standard' },
    ];
    const [bucket, key] = [p.archiveBucket, p.archiveUri.slice(`s3://${p.archiveBucket}/`.length)];

    this.job = new k8s.KubeJob(this, 'Resource', {
      metadata: { ...metadata(p.name), annotations: { ...annotations } },
      spec: {
        backoffLimit: p.backoffLimit,
        activeDeadlineSeconds: p.activeDeadline.toSeconds(),
        ttlSecondsAfterFinished: p.ttlAfterFinished.toSeconds(),
        completions: 1,
        parallelism: 1,
        template: {
          metadata: {
            labels: { ...labels },
            annotations: {
              ...annotations,
              ...(this.sourceConfigMap ? { [`${ANNOTATION_PREFIX}/source-checksum`]: checksum(sourceData) } : {}),
              'kubectl.kubernetes.io/default-container': 'upload',
            },
          },
          spec: {
            serviceAccountName: p.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            // A failed step fails the pod, and the Job retries with a fresh pod and fresh scratch space.
            restartPolicy: 'Never',
            securityContext: restrictedPodSecurity(UID),
            // Init containers run one after the other, each only if the previous one succeeded.
            initContainers: [
              {
                name: 'download',
                image: p.awsCliImage,
                imagePullPolicy: 'IfNotPresent',
                command: ['aws', 's3', 'cp', '--recursive', '--only-show-errors', p.trainedModelUri, `${MODEL_DIR}/`],
                env: awsEnv,
                resources: resources('1', '1Gi'),
                securityContext: security,
                volumeMounts: [workspace('model', MODEL_DIR), workspace('download-home', '/tmp')],
              },
              {
                name: 'archive',
                image: p.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['torch-model-archiver'],
                args: [...this.archiverArgs],
                // The archiver copies every input into the temporary folder before zipping them.
                env: [{ name: 'HOME', value: '/tmp' }, { name: 'TMPDIR', value: '/tmp' }],
                resources: resources(p.cpu, p.memory),
                securityContext: security,
                volumeMounts: [
                  workspace('model', MODEL_DIR, true),
                  workspace('export', EXPORT_DIR),
                  workspace('archive-tmp', '/tmp'),
                  ...(this.sourceConfigMap ? [{ name: 'source', mountPath: SOURCE_DIR, readOnly: true }] : []),
                ],
              },
            ],
            containers: [{
              name: 'upload',
              image: p.awsCliImage,
              imagePullPolicy: 'IfNotPresent',
              // put-object, not "s3 cp": only it takes If-None-Match, so an existing archive is
              // never replaced (HTTP 412 instead). One PUT carries at most 5 GB.
              command: [
                'aws', 's3api', 'put-object',
                '--bucket', bucket,
                '--key', key,
                '--body', `${EXPORT_DIR}/${p.modelName}.mar`,
                '--if-none-match', '*',
                '--checksum-algorithm', 'SHA256',
                '--metadata', `model-name=${p.modelName},model-version=${p.modelVersion}`,
              ],
              env: awsEnv,
              resources: resources('1', '1Gi'),
              securityContext: security,
              volumeMounts: [workspace('export', EXPORT_DIR, true), workspace('upload-home', '/tmp')],
            }],
            volumes: [
              { name: 'workspace', emptyDir: { sizeLimit: k8s.Quantity.fromString(p.workspaceSize) } },
              ...(this.sourceConfigMap ? [{ name: 'source', configMap: { name: sourceName, defaultMode: 0o444 } }] : []),
            ],
          },
        },
      },
    });
  }

  private validate(props: ModelPackagingJobProps): ResolvedProps {
    const fail = (code: string, message: string): never => {
      throw new ValidationError(`ModelPackagingJob.${code}`, message, this);
    };
    const nameProblem = modelNameProblem(props.modelName);
    if (nameProblem) fail('InvalidModelName', `'modelName' ("${props.modelName}") ${nameProblem}`);
    const versionIssue = modelVersionProblem(props.modelVersion);
    if (versionIssue) fail('InvalidModelVersion', `'modelVersion' ("${props.modelVersion}") ${versionIssue}`);
    const source = S3_PREFIX.exec(props.trainedModelUri);
    if (!source) fail('InvalidTrainedModelUri', `'trainedModelUri' ("${props.trainedModelUri}") must be an S3 prefix such as "s3://ml-training/intent_classifier/run-42/"`);
    if (!S3_BUCKET_PATTERN.test(props.archiveBucket)) fail('InvalidArchiveBucket', `'archiveBucket' ("${props.archiveBucket}") must be an S3 bucket name such as "betterprompts-models"`);
    const archiveUri = packagedArchiveUri(props.archiveBucket, props.modelName, props.modelVersion);
    const archiveIssue = modelArchiveProblem(archiveUri);
    if (archiveIssue) fail('InvalidArchiveUri', `the archive location "${archiveUri}" ${archiveIssue}`);
    if (!IAM_ROLE_ARN_PATTERN.test(props.iamRoleArn)) fail('InvalidRoleArn', `'iamRoleArn' ("${props.iamRoleArn}") must be an IAM role ARN such as "arn:aws:iam::123456789012:role/model-packager"`);
    const awsCliImage = props.awsCliImage ?? AWS_CLI_IMAGE;
    for (const [prop, image] of [['image', props.image], ['awsCliImage', awsCliImage]] as const) {
      const problem = unpinnedImageProblem(image);
      if (problem) fail('UnpinnedImage', `'${prop}' ("${image}") ${problem}`);
    }

    const relative = (prop: string, file: string): string => {
      if (!RELATIVE_FILE.test(file) || file.length > 1024) {
        fail('InvalidFile', `'${prop}' ("${file}") must be a path inside 'trainedModelUri' such as "model.pt" or "tokenizer/vocab.txt": letters, digits, "_", "-", "." and "/", no ".." or hidden files`);
      }
      return file;
    };
    const modelFile = props.modelFile === undefined ? undefined : relative('modelFile', props.modelFile);
    if (modelFile !== undefined && !modelFile.endsWith('.py')) fail('InvalidFile', `'modelFile' ("${modelFile}") must be a Python file (.py) with the model's class`);
    const serializedFile = props.serializedFile !== undefined
      ? relative('serializedFile', props.serializedFile)
      : modelFile === undefined ? DEFAULT_SERIALIZED_FILE : undefined;
    const extraFiles = (props.extraFiles ?? []).map((f) => relative('extraFiles', f));
    const duplicate = extraFiles.find((f, i) => extraFiles.indexOf(f) !== i);
    if (duplicate !== undefined) fail('InvalidFile', `'extraFiles' lists "${duplicate}" twice`);

    const handler = props.handler;
    if (handler.contents === undefined) {
      if (!Object.values(BuiltInHandler).includes(handler.name as BuiltInHandler)) {
        fail('InvalidHandler', `'handler' ("${handler.name}") is not a built-in handler; expected one of: ${Object.values(BuiltInHandler).join(', ')}`);
      }
    } else if (!HANDLER_FILE.test(handler.name)) {
      fail('InvalidHandler', `'handler' file name ("${handler.name}") must be a Python module file such as "intent_classifier_handler.py"`);
    }
    const texts: [string, string | undefined][] = [['handler', handler.contents], ['requirements', props.requirements]];
    let sourceBytes = 0;
    for (const [prop, text] of texts) {
      if (text === undefined) continue;
      sourceBytes += Buffer.byteLength(text, 'utf-8');
      if (text.includes('\u0000')) fail('BinarySource', `'${prop}' must be text; it contains NUL bytes`);
      for (const [pattern, what] of SECRET_PATTERNS) {
        if (pattern.test(text)) fail('SecretInSource', `'${prop}' contains what looks like ${what}; it would be committed in a ConfigMap. Read credentials from the environment or IRSA instead`);
      }
    }
    if (sourceBytes > MAX_SOURCE_BYTES) fail('SourceTooLarge', `the handler and requirements are ${sourceBytes} bytes; a ConfigMap holds at most ${MAX_SOURCE_BYTES}. Put large files in 'extraFiles'`);

    for (const [prop, value] of [['cpu', props.cpu], ['memory', props.memory], ['workspaceSize', props.workspaceSize]] as const) {
      if (value !== undefined && !isPositiveQuantity(value)) {
        fail('InvalidQuantity', `'${prop}' ("${value}") must be a positive Kubernetes quantity such as "2" or "10Gi"`);
      }
    }
    const backoffLimit = props.backoffLimit ?? 2;
    if (!Number.isInteger(backoffLimit) || backoffLimit < 0 || backoffLimit > 10) fail('OutOfRange', `'backoffLimit' (${backoffLimit}) must be an integer from 0 to 10`);
    const activeDeadline = props.activeDeadline ?? Duration.hours(2);
    if (activeDeadline.toSeconds() < 60) fail('OutOfRange', `'activeDeadline' (${activeDeadline.toSeconds()}s) must be at least one minute`);
    const ttlAfterFinished = props.ttlAfterFinished ?? Duration.days(1);
    for (const cidr of props.objectStorageCidrs ?? []) {
      const problem = cidrProblem(cidr);
      if (problem) fail('InvalidCidr', `'objectStorageCidrs' entry "${cidr}" ${problem}`);
    }
    const objectStorageCidrs = props.objectStorageCidrs ?? ANY_OBJECT_STORAGE;
    if (objectStorageCidrs.length === 0) fail('InvalidCidr', "'objectStorageCidrs' must list at least one CIDR; the Job cannot reach S3 otherwise");

    const name = props.name ?? packagingJobName(props.modelName, props.modelVersion);
    // The Job controller puts the Job's name in a label on its pods, so it must fit in 63.
    if (!isDnsLabel(name)) fail('InvalidName', `'name' ("${name}") must be a DNS-1123 label of at most 63 characters`);
    const namespace = props.namespace ?? Chart.of(this).namespace;
    if (namespace === undefined || !isDnsLabel(namespace)) {
      fail('InvalidNamespace', `'namespace' (${JSON.stringify(namespace)}) must be a DNS-1123 label; set it on the construct or the chart`);
    }
    return {
      ...props,
      name,
      namespace: namespace as string,
      trainedModelUri: props.trainedModelUri.endsWith('/') ? props.trainedModelUri : `${props.trainedModelUri}/`,
      archiveUri,
      awsCliImage,
      serializedFile,
      modelFile,
      extraFiles,
      cpu: props.cpu ?? '2',
      memory: props.memory ?? '4Gi',
      workspaceSize: props.workspaceSize ?? '8Gi',
      backoffLimit,
      activeDeadline,
      ttlAfterFinished,
      objectStorageCidrs,
    };
  }
}

interface ResolvedProps extends ModelPackagingJobProps {
  readonly name: string;
  readonly namespace: string;
  readonly archiveUri: string;
  readonly awsCliImage: string;
  readonly extraFiles: string[];
  readonly cpu: string;
  readonly memory: string;
  readonly workspaceSize: string;
  readonly backoffLimit: number;
  readonly activeDeadline: Duration;
  readonly ttlAfterFinished: Duration;
  readonly objectStorageCidrs: readonly string[];
}

/** Where a packaging Job uploads a version's archive: `s3://<bucket>/<model>/<version>/<model>.mar`. */
export function packagedArchiveUri(bucket: string, modelName: string, modelVersion: string): string {
  return `s3://${bucket}/${modelName}/${modelVersion}/${modelName}.mar`;
}

/**
 * The default name of a packaging Job: `package-<model>-<version>`, with "_" and "." as "-".
 * A name that would not fit in 63 characters, or a version other than plain `x.y.z` (whose
 * punctuation the name cannot keep apart), gets a hash of model and version instead of its tail.
 */
export function packagingJobName(modelName: string, modelVersion: string): string {
  const slug = `package-${toResourceName(modelName)}-${modelVersion.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`.replace(/-+$/, '');
  if (slug.length <= 63 && /^\d+\.\d+\.\d+$/.test(modelVersion)) return slug;
  const hash = createHash('sha256').update(`${modelName}@${modelVersion}`).digest('hex').slice(0, 8);
  return `${slug.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

function checksum(data: Record<string, string>): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(data).sort()) hash.update(`${key}\u0000${data[key]}\u0000`);
  return hash.digest('hex');
}
