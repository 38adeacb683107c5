import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Chart, Duration, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BackupStorageClass, ModelStoreBackup, type ModelStoreBackupProps, modelStorePrefix } from '../lib/operations';
import { type KubeObject, checkPolicies } from '../lib/policy';
import { defaultValidator, formatIssue } from '../lib/validation';
import { tempDir } from './helpers/app';

const BASE: ModelStoreBackupProps = {
  source: 's3://betterprompts-models/',
  destination: 's3://betterprompts-model-backups/model-store/',
  iamRoleArn: 'arn:aws:iam::123456789012:role/betterprompts-model-backup',
  namespace: 'betterprompts-production',
  partOf: 'betterprompts',
};

function synth(props: Partial<ModelStoreBackupProps> = {}) {
  const chart = new Chart(Testing.app(), 'production');
  const backup = new ModelStoreBackup(chart, 'Backup', { ...BASE, ...props });
  const objects = Testing.synth(chart) as any[];
  const get = (kind: string) => {
    const found = objects.find((o) => o.kind === kind);
    if (!found) throw new Error(`no ${kind}`);
    return found;
  };
  const cronJob = get('CronJob');
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  return { backup, objects, get, cronJob, pod, container: pod.containers[0] };
}

describe('ModelStoreBackup', () => {
  it('renders a CronJob, its own IRSA ServiceAccount and a NetworkPolicy, all named model-store-backup', () => {
    const { objects, get } = synth();
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      'CronJob/betterprompts-production/model-store-backup',
      'NetworkPolicy/betterprompts-production/model-store-backup',
      'ServiceAccount/betterprompts-production/model-store-backup',
    ]);
    const serviceAccount = get('ServiceAccount');
    expect(serviceAccount.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': BASE.iamRoleArn });
    expect(serviceAccount.automountServiceAccountToken).toBe(false);
    for (const o of objects) {
      expect(o.metadata.labels).toEqual({
        'app.kubernetes.io/name': 'model-store-backup',
        'app.kubernetes.io/instance': 'model-store-backup',
        'app.kubernetes.io/component': 'backup',
        'app.kubernetes.io/part-of': 'betterprompts',
        'app.kubernetes.io/managed-by': 'model-serving',
      });
    }
  });

  it('runs daily, never twice at once, keeps a short history, and carries no ttlSecondsAfterFinished', () => {
    const { cronJob } = synth();
    expect(cronJob.apiVersion).toBe('batch/v1');
    expect(cronJob.spec).toMatchObject({
      schedule: '17 3 * * *',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
    expect(cronJob.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 3, activeDeadlineSeconds: 14_400 });
    expect(cronJob.spec.jobTemplate.spec).not.toHaveProperty('ttlSecondsAfterFinished');
    expect(cronJob.spec.jobTemplate.spec.template.metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': 'model-store-backup' });
  });

  it('meets the restricted pod security profile with the IRSA service account', () => {
    const { pod, container } = synth();
    expect(pod).toMatchObject({
      serviceAccountName: 'model-store-backup',
      automountServiceAccountToken: false,
      restartPolicy: 'OnFailure',
      securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.image).toBe('amazon/aws-cli:2.22.35');
    // $HOME is the only writable place, an emptyDir.
    expect(container.env).toContainEqual({ name: 'HOME', value: '/tmp' });
    expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '128Mi' } }]);
    expect(container.resources.requests).toEqual({ 'cpu': '250m', 'memory': '512Mi', 'ephemeral-storage': '256Mi' });
    expect(container.resources.limits).toEqual(container.resources.requests);
  });

  it('passes the policy suite (restricted profile, kube-linter defaults) and strict schema validation', () => {
    const { objects } = synth();
    expect(checkPolicies(objects as KubeObject[])).toEqual([]);
    const issues = objects.flatMap((o) => defaultValidator().validate(o));
    expect(issues.map(formatIssue)).toEqual([]);
  });

  it('takes the date when the job runs, never at synth time', () => {
    const { objects, container } = synth();
    const yaml = objects.map((o) => stringify(o, { lineWidth: 0, version: '1.1' })).join('---\n');
    expect(yaml).not.toMatch(/\b20\d\d-\d\d-\d\d\b/);
    expect(container.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(container.command[2]).toContain('day="$(date -u +%Y-%m-%d)"');
    expect(container.env).toEqual(expect.arrayContaining([
      { name: 'MODEL_STORE', value: 's3://betterprompts-models/' },
      { name: 'BACKUP_DESTINATION', value: 's3://betterprompts-model-backups/model-store/' },
      { name: 'STORAGE_CLASS', value: 'STANDARD_IA' },
    ]));
  });

  it('its script syncs the store to today\'s UTC folder, then marks the copy complete (run in a real shell)', () => {
    // The script runs in /bin/sh as in the container; `aws` is the one thing not available
    // here, so a recorder stands in for it and logs the arguments and standard input it got.
    const { container } = synth();
    const bin = tempDir();
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(path.join(bin, 'aws'), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${log}"\nif [ "$3" = - ]; then printf 'stdin:%s' "$(cat)" >> "${log}"; echo >> "${log}"; fi\n`, { mode: 0o755 });
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    const before = new Date().toISOString().slice(0, 10);
    const run = spawnSync(container.command[0], container.command.slice(1), { env: { ...env, PATH: `${bin}:/usr/bin:/bin`, TZ: 'Pacific/Kiritimati' }, encoding: 'utf-8' });
    const after = new Date().toISOString().slice(0, 10);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const calls = fs.readFileSync(log, 'utf-8').trim().split('\n');
    const day = /model-store\/(\d{4}-\d{2}-\d{2})\//.exec(calls[0])?.[1];
    // UTC, whatever the local time zone says (Kiritimati is 14 hours ahead).
    expect([before, after]).toContain(day);
    expect(calls).toEqual([
      `s3 sync s3://betterprompts-models/ s3://betterprompts-model-backups/model-store/${day}/ --only-show-errors --storage-class STANDARD_IA`,
      `s3 cp - s3://betterprompts-model-backups/model-store/${day}/_SUCCESS --only-show-errors`,
      `stdin:${day}`,
    ]);
    expect(run.stdout).toContain(`model-serving: s3://betterprompts-model-backups/model-store/${day}/ is complete`);
  });

  it('stops at the first failure, before writing the completion marker', () => {
    const { container } = synth();
    const bin = tempDir();
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(path.join(bin, 'aws'), `#!/bin/sh\nprintf '%s\\n' "$1 $2" >> "${log}"\nexit 2\n`, { mode: 0o755 });
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    const run = spawnSync(container.command[0], container.command.slice(1), { env: { ...env, PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf-8' });
    expect(run.status).toBe(2);
    expect(fs.readFileSync(log, 'utf-8')).toBe('s3 sync\n');
  });

  it('matches its YAML file snapshot', async () => {
    const { objects } = synth();
    await expect(objects.map((o) => stringify(o, { lineWidth: 0, version: '1.1' })).join('---\n')).toMatchFileSnapshot('./__snapshots__/model-store-backup.k8s.yaml');
  });

  it('applies its options', () => {
    const { cronJob, container, get } = synth({
      name: 'nightly-backup',
      schedule: '@daily',
      timeZone: 'Europe/Berlin',
      storageClass: BackupStorageClass.GLACIER_IR,
      timeout: Duration.hours(1),
      startingDeadline: Duration.minutes(30),
      backoffLimit: 1,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 5,
      cpu: '1',
      memory: '1Gi',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/aws-cli:2.22.35',
      objectStorageCidrs: ['10.20.0.0/16'],
    });
    expect(cronJob.metadata.name).toBe('nightly-backup');
    expect(cronJob.spec).toMatchObject({ schedule: '@daily', timeZone: 'Europe/Berlin', startingDeadlineSeconds: 1800, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 5 });
    expect(cronJob.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 1, activeDeadlineSeconds: 3600 });
    expect(container.env).toContainEqual({ name: 'STORAGE_CLASS', value: 'GLACIER_IR' });
    expect(container.resources.limits).toMatchObject({ cpu: '1', memory: '1Gi' });
    expect(container.image).toBe('123456789012.dkr.ecr.eu-west-1.amazonaws.com/aws-cli:2.22.35');
    expect(get('NetworkPolicy').spec.egress[1]).toEqual({ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ protocol: 'TCP', port: 443 }] });
  });

  it('accepts an image pinned by digest, with or without a tag', () => {
    for (const image of ['amazon/aws-cli@sha256:a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/aws-cli:2.22.35@sha256:a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1']) {
      const { container, objects } = synth({ image });
      expect(container.image).toBe(image);
      expect(objects.flatMap((o) => defaultValidator().validate(o)).map(formatIssue)).toEqual([]);
    }
  });

  it('admits no ingress and lets the job out only to DNS and to S3 on 443, never to instance metadata', () => {
    const { get } = synth();
    const policy = get('NetworkPolicy');
    expect(policy.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'model-store-backup', 'app.kubernetes.io/instance': 'model-store-backup' } });
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toBeUndefined();
    expect(policy.spec.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }], ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
  });

  it('tells how to restore a day\'s copy', () => {
    const { backup } = synth();
    expect(backup.restoreCommand('2026-11-26')).toBe('aws s3 sync s3://betterprompts-model-backups/model-store/2026-11-26/ s3://betterprompts-models/ --exclude _SUCCESS');
    expect(() => backup.restoreCommand('yesterday')).toThrow('[ModelStoreBackup.InvalidDay] production/Backup: \'day\' ("yesterday") must be a date such as "2025-01-31"');
  });

  it.each<[string, Partial<ModelStoreBackupProps>, string]>([
    ['a destination inside the source', { destination: 's3://betterprompts-models/backups/' }, '[ModelStoreBackup.OverlappingPrefixes] production/Backup: \'destination\' ("s3://betterprompts-models/backups/") and \'source\' ("s3://betterprompts-models/") must not contain each other; every run would copy the earlier backups again'],
    ['a prefix without the trailing slash', { source: 's3://betterprompts-models/store' }, '[ModelStoreBackup.InvalidS3Prefix] production/Backup: \'source\' ("s3://betterprompts-models/store") must be an S3 prefix ending in "/", such as "s3://betterprompts-models/" or "s3://backups/model-store/"'],
    ['the latest tag', { image: 'amazon/aws-cli:latest' }, '[ModelStoreBackup.UnpinnedImage] production/Backup: \'image\' ("amazon/aws-cli:latest") must carry a pinned tag such as "amazon/aws-cli:2.22.35", never "latest", or a digest'],
    ['an image without a tag', { image: 'amazon/aws-cli' }, '[ModelStoreBackup.UnpinnedImage] production/Backup: \'image\' ("amazon/aws-cli") must carry a pinned tag such as "amazon/aws-cli:2.22.35", never "latest"'],
    ['a registry port taken for a tag', { image: 'registry.example.com:5000/aws-cli' }, '[ModelStoreBackup.UnpinnedImage] production/Backup: \'image\' ("registry.example.com:5000/aws-cli") must carry a pinned tag'],
    ['a digest that is not one', { image: 'amazon/aws-cli@sha256:ABC' }, '[ModelStoreBackup.UnpinnedImage] production/Backup: \'image\' ("amazon/aws-cli@sha256:ABC") has the digest "sha256:ABC"'],
    ['a schedule with six fields', { schedule: '0 17 3 * * *' }, '[ModelStoreBackup.InvalidSchedule] production/Backup: \'schedule\' ("0 17 3 * * *") must be a cron schedule of five fields (minute hour day-of-month month day-of-week) such as "17 3 * * *", or a macro such as "@daily"; it has 6 fields'],
    ['a time zone in the schedule', { schedule: 'CRON_TZ=UTC 17 3 * * *' }, 'the time zone goes in its own field, not in the schedule'],
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, '[ModelStoreBackup.InvalidTimeZone] production/Backup: \'timeZone\' ("Mars/Olympus") must be an IANA time zone such as "Etc/UTC" or "Europe/Berlin"'],
    ['a role that is not an IAM role ARN', { iamRoleArn: 'betterprompts-model-backup' }, '[ModelStoreBackup.InvalidRoleArn] production/Backup: \'iamRoleArn\' ("betterprompts-model-backup") must be an IAM role ARN such as "arn:aws:iam::123456789012:role/model-backup"'],
    ['a name too long for its Jobs', { name: 'a'.repeat(53) }, `[ModelStoreBackup.InvalidName] production/Backup: 'name' ("${'a'.repeat(53)}") must be a DNS-1123 label of at most 52 characters, so the Jobs' names fit in 63`],
    ['a starting deadline the controller cannot meet', { startingDeadline: Duration.seconds(5) }, '[ModelStoreBackup.OutOfRange] production/Backup: \'startingDeadline (seconds)\' (5) must be an integer from 10 to 86400'],
    ['a CIDR with host bits', { objectStorageCidrs: ['10.0.0.1/8'] }, '[ModelStoreBackup.InvalidCidr] production/Backup: \'objectStorageCidrs\' entry "10.0.0.1/8" has host bits set'],
    ['no object storage range', { objectStorageCidrs: [] }, "[ModelStoreBackup.NoObjectStorage] production/Backup: 'objectStorageCidrs' must list at least one CIDR; the job cannot reach S3 otherwise"],
    ['memory that is not a quantity', { memory: '512MB' }, '[ModelStoreBackup.InvalidQuantity] production/Backup: \'memory\' ("512MB") must be a positive Kubernetes quantity such as "250m" or "512Mi"'],
    ['no CPU', { cpu: '0' }, '[ModelStoreBackup.InvalidQuantity] production/Backup: \'cpu\' ("0") must be a positive Kubernetes quantity'],
    ['no namespace', { namespace: undefined }, '[ModelStoreBackup.InvalidNamespace] production/Backup: \'namespace\' (undefined) must be a DNS-1123 label; set it on the construct or the chart'],
  ])('refuses %s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('modelStorePrefix', () => {
  it('is the bucket the S3 archives share', () => {
    expect(modelStorePrefix(['s3://models/a/1.0.0/a.mar', 's3://models/b/2.0.0/b.mar', 'pvc://claim/c.mar'])).toBe('s3://models/');
  });

  it('is undefined when the archives span buckets or none is in S3', () => {
    expect(modelStorePrefix(['s3://models/a.mar', 's3://other/b.mar'])).toBeUndefined();
    expect(modelStorePrefix(['pvc://claim/c.mar'])).toBeUndefined();
  });
});
