import { describe, expect, it } from 'vitest';
import { TOTAL_ANNOTATION_SIZE_LIMIT_BYTES, defaultValidator, apiServerProblems } from '../lib/validation';

// What the API server refuses in metadata and selectors, which no OpenAPI schema states.

const deployment = (patch: (d: any) => void = () => {}): any => {
  const d: any = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'intent-classifier', namespace: 'serving', labels: { 'app.kubernetes.io/name': 'intent-classifier' } },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': 'intent-classifier' } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'intent-classifier' }, annotations: {} },
        spec: { containers: [{ name: 'torchserve', image: 'pytorch/torchserve:0.12.0' }], nodeSelector: {} },
      },
    },
  };
  patch(d);
  return d;
};

describe('apiServerProblems', () => {
  it('accepts an object that follows every rule', () => {
    expect(apiServerProblems(deployment())).toEqual([]);
  });

  it.each([
    ['a label value of 64 characters', (d: any) => { d.metadata.labels['app.kubernetes.io/version'] = 'v'.repeat(64); }, '/metadata/labels/app.kubernetes.io~1version', 'must be at most 63 characters (it has 64)'],
    ['a "+" in a label value', (d: any) => { d.spec.template.metadata.labels['app.kubernetes.io/version'] = '1.1.0+build.7'; }, '/spec/template/metadata/labels/app.kubernetes.io~1version', 'label value "1.1.0+build.7" must be empty or letters'],
    ['a label value ending in "-"', (d: any) => { d.metadata.labels.x = 'a-'; }, '/metadata/labels/x', 'label value "a-"'],
    ['a label key with two slashes', (d: any) => { d.metadata.labels['a/b/c'] = 'x'; }, '/metadata/labels/a~1b~1c', 'label key "a/b/c"'],
    ['a selector value that cannot be a label', (d: any) => { d.spec.selector.matchLabels.v = 'a b'; }, '/spec/selector/matchLabels/v', 'label value "a b"'],
    ['a node selector value of 64 characters', (d: any) => { d.spec.template.spec.nodeSelector.pool = 'p'.repeat(64); }, '/spec/template/spec/nodeSelector/pool', 'at most 63'],
    ['a name with capitals', (d: any) => { d.metadata.name = 'Intent'; }, '/metadata/name', 'must be a DNS-1123 subdomain'],
    ['a namespace of 64 characters', (d: any) => { d.metadata.namespace = 'n'.repeat(64); }, '/metadata/namespace', 'must be at most 63 characters'],
    ['annotations over 256 KiB', (d: any) => { d.spec.template.metadata.annotations.handler = 'h'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES); }, '/spec/template/metadata/annotations', 'the API server allows at most 262144 (256 KiB) per object'],
  ])('refuses %s', (_what, patch, path, message) => {
    const problems = apiServerProblems(deployment(patch));
    expect(problems).toHaveLength(1);
    expect(problems[0].path).toBe(path);
    expect(problems[0].message).toContain(message);
  });

  it('checks names by kind: Services are DNS-1035 labels, Namespaces DNS-1123 labels, CronJobs at most 52 and Jobs 63 characters', () => {
    const named = (kind: string, name: string) => apiServerProblems({ apiVersion: 'v1', kind, metadata: { name } }).map((p) => p.message);
    expect(named('Service', '1abc')).toEqual(['"1abc" must be a DNS-1035 label: lowercase letters, digits and "-", starting with a letter']);
    expect(named('Service', `a${'b'.repeat(63)}`)).toEqual(['"' + `a${'b'.repeat(63)}` + '" must be at most 63 characters (it has 64)']);
    expect(named('ConfigMap', `a${'.b'.repeat(100)}`)).toEqual([]);
    expect(named('Namespace', 'a.b')).toHaveLength(1);
    expect(named('CronJob', 'c'.repeat(52))).toEqual([]);
    expect(named('CronJob', 'c'.repeat(53))[0]).toContain('at most 52 characters (it has 53): its Jobs add 11');
    expect(named('Job', 'j'.repeat(64))[0]).toContain("it becomes the pods' job-name label");
    expect(named('Role', 'system:reader')).toEqual([]);
  });

  it('checks tolerations as ValidateTolerations does', () => {
    const tolerating = (tolerations: unknown[]) => apiServerProblems(deployment((d) => { d.spec.template.spec.tolerations = tolerations; })).map((p) => `${p.path}: ${p.message}`);
    expect(tolerating([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, { operator: 'Exists' }, { key: 'a', value: 'b', effect: 'NoExecute', tolerationSeconds: 30 }])).toEqual([]);
    expect(tolerating([{ value: 'x' }])).toEqual(['/spec/template/spec/tolerations/0/operator: must be "Exists" when the key is empty']);
    expect(tolerating([{ key: 'a', operator: 'Exists', value: 'x' }])).toEqual(['/spec/template/spec/tolerations/0/value: must be empty when the operator is "Exists"']);
    expect(tolerating([{ key: 'a', value: 'b', effect: 'NoSchedule', tolerationSeconds: 5 }])).toEqual(['/spec/template/spec/tolerations/0/effect: must be "NoExecute" when tolerationSeconds is set']);
  });

  it("checks a CronJob's schedule and time zone as the API server parses them", () => {
    const cronJob = (schedule: string, timeZone: string) => apiServerProblems({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'backup' }, spec: { schedule, timeZone } }).map((p) => p.path);
    expect(cronJob('17 3 * * *', 'Etc/UTC')).toEqual([]);
    expect(cronJob('@daily', 'Europe/Berlin')).toEqual([]);
    expect(cronJob('99 3 * * *', 'europe/berlin')).toEqual(['/spec/schedule', '/spec/timeZone']);
  });

  it('is part of strict validation', () => {
    const issues = defaultValidator().validate(deployment((d) => { d.metadata.labels['app.kubernetes.io/version'] = '1.1.0+build.7'; }));
    expect(issues.map((i) => i.path)).toEqual(['/metadata/labels/app.kubernetes.io~1version']);
  });
});
