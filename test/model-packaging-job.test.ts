import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Duration, Testing } from 'cdk8s';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { type KubeObject, checkPolicies } from '../lib/policy';
import {
  BuiltInHandler, ModelPackagingJob, type ModelPackagingJobProps, PackagingHandler, packagedArchiveUri, packagingJobName,
} from '../lib/packaging';
import { modelArchiveProblem, modelNameProblem, modelVersionProblem } from '../lib/torchserve';
import { writePackagingJob } from '../lib/repository';
import { defaultValidator } from '../lib/validation';
import { REPO_ROOT, readTree, tempDir } from './helpers/app';

const HANDLER_FILE = path.join(REPO_ROOT, 'test', 'fixtures', 'registry', 'handlers', 'intent_classifier_handler.py');

/** What `model package` passes for the default fleet (serving.yaml, staging environment). */
const PROPS: ModelPackagingJobProps = {
  modelName: 'intent_classifier',
  modelVersion: '1.0.0',
  trainedModelUri: 's3://ml-training/intent_classifier/run-42/',
  handler: PackagingHandler.fromFile('intent_classifier_handler.py', fs.readFileSync(HANDLER_FILE, 'utf-8')),
  serializedFile: 'model.safetensors',
  extraFiles: ['config.json', 'tokenizer.json', 'tokenizer_config.json'],
  archiveBucket: 'betterprompts-models',
  image: 'pytorch/torchserve:0.12.0-gpu',
  awsCliImage: 'amazon/aws-cli:2.22.35',
  iamRoleArn: 'arn:aws:iam::123456789012:role/betterprompts-staging-model-reader',
  partOf: 'betterprompts',
};

function synth(props: Partial<ModelPackagingJobProps> = {}): { objects: KubeObject[]; job: ModelPackagingJob } {
  const chart = Testing.chart();
  const job = new ModelPackagingJob(chart, 'Job', { namespace: 'betterprompts-staging', ...PROPS, ...props });
  return { objects: Testing.synth(chart) as KubeObject[], job };
}

const find = (objects: KubeObject[], kind: string) => {
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`no ${kind} among ${objects.map((o) => o.kind).join(', ')}`);
  return found;
};
const podOf = (objects: KubeObject[]) => find(objects, 'Job').spec.template.spec;
const containersOf = (objects: KubeObject[]) => [...podOf(objects).initContainers, ...podOf(objects).containers];

describe('ModelPackagingJob', () => {
  it('matches the snapshot for the default fleet', async () => {
    const { objects } = synth();
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/package-intent-classifier-1-0-0-source',
      'ServiceAccount/package-intent-classifier-1-0-0',
      'NetworkPolicy/package-intent-classifier-1-0-0',
      'Job/package-intent-classifier-1-0-0',
    ]);
    const text = objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
    await expect(text).toMatchFileSnapshot('./__snapshots__/model-packaging-job.k8s.yaml');
  });

  it('runs download, archive and upload in that order, sharing one bounded scratch volume', () => {
    const pod = podOf(synth().objects);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['download', 'archive']);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['upload']);
    expect(pod.restartPolicy).toBe('Never');
    const [download, archive] = pod.initContainers;
    const [upload] = pod.containers;
    expect(download.command).toEqual(['aws', 's3', 'cp', '--recursive', '--only-show-errors', 's3://ml-training/intent_classifier/run-42/', '/workspace/model/']);
    expect(archive.image).toBe('pytorch/torchserve:0.12.0-gpu');
    expect(archive.command).toEqual(['torch-model-archiver']);
    expect(upload.command).toEqual([
      'aws', 's3api', 'put-object', '--bucket', 'betterprompts-models', '--key', 'intent_classifier/1.0.0/intent_classifier.mar',
      '--body', '/workspace/export/intent_classifier.mar', '--if-none-match', '*', '--checksum-algorithm', 'SHA256',
      '--metadata', 'model-name=intent_classifier,model-version=1.0.0',
    ]);
    // What one step writes is where the next one reads.
    const mount = (c: any, subPath: string) => c.volumeMounts.find((m: any) => m.subPath === subPath);
    expect(mount(download, 'model')).toEqual({ name: 'workspace', subPath: 'model', mountPath: '/workspace/model' });
    expect(mount(archive, 'model')).toEqual({ name: 'workspace', subPath: 'model', mountPath: '/workspace/model', readOnly: true });
    expect(mount(archive, 'export')).toEqual({ name: 'workspace', subPath: 'export', mountPath: '/workspace/export' });
    expect(mount(upload, 'export')).toEqual({ name: 'workspace', subPath: 'export', mountPath: '/workspace/export', readOnly: true });
    expect(pod.volumes).toEqual([
      { name: 'workspace', emptyDir: { sizeLimit: '8Gi' } },
      { name: 'source', configMap: { name: 'package-intent-classifier-1-0-0-source', defaultMode: 0o444 } },
    ]);
  });

  it('meets the restricted Pod Security profile and runs with the IRSA service account', () => {
    const { objects } = synth();
    const pod = podOf(objects);
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const container of containersOf(objects)) {
      expect(container.securityContext, container.name).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
      // Requests equal limits, including the scratch space.
      expect(container.resources.requests, container.name).toEqual(container.resources.limits);
      expect(Object.keys(container.resources.limits).sort(), container.name).toEqual(['cpu', 'ephemeral-storage', 'memory']);
    }
    // Every volume is an emptyDir or the source ConfigMap: nothing else is writable.
    expect(pod.volumes.every((v: any) => v.emptyDir || v.configMap)).toBe(true);
    expect(pod.hostNetwork ?? pod.hostPID ?? pod.hostIPC).toBeUndefined();
    expect(pod.serviceAccountName).toBe('package-intent-classifier-1-0-0');
    expect(pod.automountServiceAccountToken).toBe(false);
    const serviceAccount = find(objects, 'ServiceAccount');
    expect(serviceAccount.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': PROPS.iamRoleArn });
    const job = find(objects, 'Job').spec;
    expect([job.backoffLimit, job.activeDeadlineSeconds, job.ttlSecondsAfterFinished]).toEqual([2, 7200, 86400]);
  });

  it('lets the pod reach only DNS and S3, and nothing reach the pod', () => {
    const policy = find(synth({ objectStorageCidrs: ['52.216.0.0/15'] }).objects, 'NetworkPolicy');
    expect(policy.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'model-packaging', 'app.kubernetes.io/instance': 'package-intent-classifier-1-0-0' } });
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toBeUndefined();
    expect(policy.spec.egress.map((e: any) => e.ports.map((p: any) => `${p.protocol}/${p.port}`))).toEqual([['UDP/53', 'TCP/53'], ['TCP/443']]);
    expect(policy.spec.egress[1].to).toEqual([{ ipBlock: { cidr: '52.216.0.0/15' } }]);
  });

  it('passes strict schema validation and the policy suite', () => {
    const { objects } = synth();
    const text = objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
    expect(defaultValidator().validateYamlText(text, 'packaging.k8s.yaml')).toEqual([]);
    expect(checkPolicies(objects, { productionNamespaces: ['betterprompts-staging'] })).toEqual([]);
    // Also with a built-in handler and no ConfigMap.
    const bare = synth({ handler: PackagingHandler.builtIn(BuiltInHandler.TEXT_CLASSIFIER), extraFiles: [] }).objects;
    expect(bare.map((o) => o.kind)).toEqual(['ServiceAccount', 'NetworkPolicy', 'Job']);
    expect(defaultValidator().validateYamlText(bare.map((o) => stringify(o)).join('---\n'))).toEqual([]);
    expect(checkPolicies(bare)).toEqual([]);
  });

  it('maps its props to torch-model-archiver flags', () => {
    const args = (props: Partial<ModelPackagingJobProps>) => synth(props).job.archiverArgs;
    expect(args({})).toEqual([
      '--model-name', 'intent_classifier', '--version', '1.0.0',
      '--serialized-file', '/workspace/model/model.safetensors',
      '--handler', '/packaging/source/intent_classifier_handler.py',
      '--extra-files', '/workspace/model/config.json,/workspace/model/tokenizer.json,/workspace/model/tokenizer_config.json',
      '--export-path', '/workspace/export', '--archive-format', 'default', '--force',
    ]);
    // Eager mode: the class and the state dict; a built-in handler by name; requirements from the ConfigMap.
    expect(args({ modelFile: 'model.py', serializedFile: 'weights/state_dict.pth', extraFiles: [], handler: PackagingHandler.builtIn(BuiltInHandler.IMAGE_CLASSIFIER), requirements: 'pillow==10.4.0\n' })).toEqual([
      '--model-name', 'intent_classifier', '--version', '1.0.0',
      '--serialized-file', '/workspace/model/weights/state_dict.pth', '--model-file', '/workspace/model/model.py',
      '--handler', 'image_classifier', '--requirements-file', '/packaging/source/requirements.txt',
      '--export-path', '/workspace/export', '--archive-format', 'default', '--force',
    ]);
    // Defaults: model.pt, unless a model file is given (then no serialized file).
    expect(args({ serializedFile: undefined })).toContain('/workspace/model/model.pt');
    expect(args({ serializedFile: undefined, modelFile: 'model.py' })).not.toContain('--serialized-file');
  });

  it('names the Job within 63 characters, keeping distinct versions apart', () => {
    expect(packagingJobName('intent_classifier', '1.0.0')).toBe('package-intent-classifier-1-0-0');
    const long = packagingJobName('a'.repeat(48), '10.20.30');
    expect(long).toMatch(/^package-a{46}-[0-9a-f]{8}$/);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(packagingJobName('m', '1.0.0-rc.1')).not.toBe(packagingJobName('m', '1.0.0-rc-1'));
    // Build metadata's "+" cannot be in a label value: the label has "_", as on the serving workload; the annotation keeps the version.
    const job = find(synth({ modelVersion: '1.0.0+build.7' }).objects, 'Job');
    expect(job.metadata.labels?.['app.kubernetes.io/version']).toBe('1.0.0_build.7');
    expect(job.metadata.annotations?.['model-serving/model-version']).toBe('1.0.0+build.7');
  });

  const INVALID: [string, Partial<ModelPackagingJobProps>, string][] = [
    ['a model name outside the fleet rule', { modelName: 'Intent' }, '[ModelPackagingJob.InvalidModelName] test/Job: \'modelName\' ("Intent") must start with a lowercase letter and contain only lowercase letters, digits, "_" and "-"'],
    ['a version that is not semantic', { modelVersion: '1.0' }, '[ModelPackagingJob.InvalidModelVersion] test/Job: \'modelVersion\' ("1.0") must be a semantic version such as "1.0.0", "1.1.0-rc.1" or "1.1.0+build.7"'],
    ['a trained model outside S3', { trainedModelUri: 'gs://bucket/run/' }, '[ModelPackagingJob.InvalidTrainedModelUri] test/Job: \'trainedModelUri\' ("gs://bucket/run/") must be an S3 prefix such as "s3://ml-training/intent_classifier/run-42/"'],
    ['a bucket name that S3 refuses', { archiveBucket: 'Models_Bucket' }, '[ModelPackagingJob.InvalidArchiveBucket] test/Job: \'archiveBucket\' ("Models_Bucket") must be an S3 bucket name such as "betterprompts-models"'],
    ['a role that is not an IAM role ARN', { iamRoleArn: 'model-packager' }, '[ModelPackagingJob.InvalidRoleArn] test/Job: \'iamRoleArn\' ("model-packager") must be an IAM role ARN such as "arn:aws:iam::123456789012:role/model-packager"'],
    ['an unpinned image', { image: 'pytorch/torchserve:latest' }, '[ModelPackagingJob.UnpinnedImage] test/Job: \'image\' ("pytorch/torchserve:latest") must carry a pinned tag such as "pytorch/torchserve:0.12.0-gpu", never "latest"'],
    ['a file outside the training prefix', { extraFiles: ['../secrets.json'] }, '[ModelPackagingJob.InvalidFile] test/Job: \'extraFiles\' ("../secrets.json") must be a path inside \'trainedModelUri\' such as "model.pt" or "tokenizer/vocab.txt": letters, digits, "_", "-", "." and "/", no ".." or hidden files'],
    ['a file name with a comma', { extraFiles: ['a.json,b.json'] }, "[ModelPackagingJob.InvalidFile] test/Job: 'extraFiles' (\"a.json,b.json\") must be a path inside"],
    ['a duplicate extra file', { extraFiles: ['config.json', 'config.json'] }, '[ModelPackagingJob.InvalidFile] test/Job: \'extraFiles\' lists "config.json" twice'],
    ['a model file that is not Python', { modelFile: 'model.pt' }, '[ModelPackagingJob.InvalidFile] test/Job: \'modelFile\' ("model.pt") must be a Python file (.py) with the model\'s class'],
    ['an unknown built-in handler', { handler: PackagingHandler.builtIn('text_classifer' as BuiltInHandler) }, '[ModelPackagingJob.InvalidHandler] test/Job: \'handler\' ("text_classifer") is not a built-in handler; expected one of: image_classifier, image_segmenter, object_detector, text_classifier'],
    ['a handler file that is not an importable module', { handler: PackagingHandler.fromFile('intent-handler.py', 'x = 1\n') }, '[ModelPackagingJob.InvalidHandler] test/Job: \'handler\' file name ("intent-handler.py") must be a Python module file such as "intent_classifier_handler.py"'],
    ['a handler holding an AWS key', { handler: PackagingHandler.fromFile('h.py', 'KEY = "AKIAIOSFODNN7EXAMPLE"\n') }, "[ModelPackagingJob.SecretInSource] test/Job: 'handler' contains what looks like an AWS access key id; it would be committed in a ConfigMap. Read credentials from the environment or IRSA instead"],
    ['a handler too large for a ConfigMap', { handler: PackagingHandler.fromFile('h.py', `# ${'x'.repeat(1024 * 1024)}\n`) }, "[ModelPackagingJob.SourceTooLarge] test/Job: the handler and requirements are 1048579 bytes; a ConfigMap holds at most 921600. Put large files in 'extraFiles'"],
    ['a workspace that is not a quantity', { workspaceSize: '10GB' }, '[ModelPackagingJob.InvalidQuantity] test/Job: \'workspaceSize\' ("10GB") must be a positive Kubernetes quantity such as "2" or "10Gi"'],
    ['a negative backoff limit', { backoffLimit: -1 }, "[ModelPackagingJob.OutOfRange] test/Job: 'backoffLimit' (-1) must be an integer from 0 to 10"],
    ['a deadline shorter than a minute', { activeDeadline: Duration.seconds(30) }, "[ModelPackagingJob.OutOfRange] test/Job: 'activeDeadline' (30s) must be at least one minute"],
    ['a bad CIDR', { objectStorageCidrs: ['10.0.0.0/33'] }, "[ModelPackagingJob.InvalidCidr] test/Job: 'objectStorageCidrs' entry \"10.0.0.0/33\""],
    ['a name longer than a label', { name: `package-${'x'.repeat(60)}` }, `[ModelPackagingJob.InvalidName] test/Job: 'name' ("package-${'x'.repeat(60)}") must be a DNS-1123 label of at most 63 characters`],
    ['a handler with NUL bytes', { handler: PackagingHandler.fromFile('h.py', 'x = 1\u0000\n') }, "[ModelPackagingJob.BinarySource] test/Job: 'handler' must be text; it contains NUL bytes"],
    ['requirements with NUL bytes', { requirements: 'torch==2.5.1\u0000' }, "[ModelPackagingJob.BinarySource] test/Job: 'requirements' must be text"],
    ['no object storage range', { objectStorageCidrs: [] }, "[ModelPackagingJob.InvalidCidr] test/Job: 'objectStorageCidrs' must list at least one CIDR; the Job cannot reach S3 otherwise"],
    ['a namespace that is no DNS label', { namespace: 'Staging' }, '[ModelPackagingJob.InvalidNamespace] test/Job: \'namespace\' ("Staging") must be a DNS-1123 label; set it on the construct or the chart'],
    ['no namespace, in a chart without one', { namespace: undefined }, "[ModelPackagingJob.InvalidNamespace] test/Job: 'namespace' (undefined) must be a DNS-1123 label"],
  ];

  it.each(INVALID)('refuses %s', (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it('puts every valid model, version and bucket at an archive location the registry accepts', () => {
    // The construct re-checks the location it writes against the registry's archive rule; with
    // the rules on name, version and bucket before it, that check must never be what fails.
    const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,46}[a-z0-9]$/).filter((n) => modelNameProblem(n) === undefined);
    const identifier = fc.stringMatching(/^[0-9A-Za-z-]{1,8}$/);
    const version = fc.tuple(fc.nat(999), fc.nat(999), fc.nat(999), fc.option(identifier, { nil: undefined }), fc.option(identifier, { nil: undefined }))
      .map(([major, minor, patch, pre, build]) => `${major}.${minor}.${patch}${pre ? `-${pre}` : ''}${build ? `+${build}` : ''}`)
      .filter((v) => modelVersionProblem(v) === undefined);
    const bucket = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/);
    fc.assert(fc.property(name, version, bucket, (modelName, modelVersion, archiveBucket) => {
      expect(modelArchiveProblem(packagedArchiveUri(archiveBucket, modelName, modelVersion))).toBeUndefined();
      let code: string | undefined;
      try {
        synth({ modelName, modelVersion, archiveBucket });
      } catch (error) {
        code = (error as { code?: string }).code ?? String(error);
      }
      expect(code).not.toBe('ModelPackagingJob.InvalidArchiveUri');
      expect(code).toBeUndefined();
    }), { numRuns: 60 });
  });
});

describe('writePackagingJob', () => {
  it('writes a Kustomize folder that kubectl builds, the same bytes every time, with no times in it', () => {
    const outdir = path.join(tempDir(), 'dist');
    const options = { ...PROPS, outdir, namespace: 'betterprompts-staging' };
    const first = writePackagingJob(options);
    expect(path.relative(outdir, first.folder)).toBe('intent_classifier-1.0.0');
    const tree = readTree(outdir);
    expect(Object.keys(tree).sort()).toEqual([
      'intent_classifier-1.0.0/ConfigMap.package-intent-classifier-1-0-0-source.k8s.yaml',
      'intent_classifier-1.0.0/Job.package-intent-classifier-1-0-0.k8s.yaml',
      'intent_classifier-1.0.0/NetworkPolicy.package-intent-classifier-1-0-0.k8s.yaml',
      'intent_classifier-1.0.0/ServiceAccount.package-intent-classifier-1-0-0.k8s.yaml',
      'intent_classifier-1.0.0/kustomization.yaml',
    ]);
    for (const text of Object.values(tree)) expect(text).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    writePackagingJob(options);
    expect(readTree(outdir)).toEqual(tree);

    const built = parseAllDocuments(execFileSync('kubectl', ['kustomize', first.folder], { encoding: 'utf-8' })).map((d) => d.toJS());
    expect(built.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Job', 'NetworkPolicy', 'ServiceAccount']);
    expect(defaultValidator().validateDirectory(first.folder).issues).toEqual([]);
  });

  it('writes nothing, not even the packaging folder, when the construct refuses its props', () => {
    const dir = tempDir();
    expect(() => writePackagingJob({ ...PROPS, extraFiles: ['../x'], outdir: path.join(dir, 'dist'), namespace: 'betterprompts-staging' })).toThrow(/InvalidFile/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('replaces an existing folder whole, leaving no staging folders behind', () => {
    const outdir = path.join(tempDir(), 'dist');
    const options = { ...PROPS, outdir, namespace: 'betterprompts-staging' };
    const { folder } = writePackagingJob(options);
    fs.writeFileSync(path.join(folder, 'stale.k8s.yaml'), 'kind: Stale\n');
    writePackagingJob({ ...options, handler: PackagingHandler.builtIn(BuiltInHandler.TEXT_CLASSIFIER) });
    expect(fs.readdirSync(folder).sort()).toEqual([
      'Job.package-intent-classifier-1-0-0.k8s.yaml',
      'NetworkPolicy.package-intent-classifier-1-0-0.k8s.yaml',
      'ServiceAccount.package-intent-classifier-1-0-0.k8s.yaml',
      'kustomization.yaml',
    ]);
    expect(fs.readdirSync(path.dirname(folder))).toEqual(['intent_classifier-1.0.0']);
  });

  it('puts the previous folder back when a run died between moving it aside and swapping in', () => {
    const outdir = path.join(tempDir(), 'dist');
    const options = { ...PROPS, outdir, namespace: 'betterprompts-staging' };
    const { folder } = writePackagingJob(options);
    const before = readTree(outdir);
    fs.renameSync(folder, path.join(path.dirname(folder), '.intent_classifier-1.0.0.previous'));
    fs.mkdirSync(path.join(path.dirname(folder), '.intent_classifier-1.0.0.staging-999999999'));
    writePackagingJob(options);
    expect(readTree(outdir)).toEqual(before);
    expect(fs.readdirSync(path.dirname(folder))).toEqual(['intent_classifier-1.0.0']);
  });
});
