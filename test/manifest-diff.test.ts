import { describe, expect, it } from 'vitest';
import { ChangeType, type ManifestObject, type ManifestSet, RiskCategory, diffManifests, renderDiffMarkdown } from '../lib/review';

const NS = 'betterprompts-production';
const SELECTOR = { 'app.kubernetes.io/name': 'torchserve', 'app.kubernetes.io/instance': 'intent-classifier' };

function deployment(overrides: { version?: string; image?: string; replicas?: number; cpu?: string; strategy?: unknown; selector?: Record<string, string>; account?: string } = {}): ManifestObject {
  const version = overrides.version ?? '1.0.0';
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'intent-classifier', namespace: NS, labels: { ...SELECTOR, 'app.kubernetes.io/version': version } },
    spec: {
      replicas: overrides.replicas ?? 3,
      selector: { matchLabels: overrides.selector ?? SELECTOR },
      strategy: overrides.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { ...SELECTOR, 'app.kubernetes.io/version': version }, annotations: { 'model-serving/model-archive': `s3://models/intent_classifier/${version}/intent_classifier.mar` } },
        spec: {
          serviceAccountName: overrides.account ?? 'intent-classifier',
          containers: [{
            name: 'torchserve',
            image: overrides.image ?? 'pytorch/torchserve:0.12.0-gpu',
            env: [{ name: 'MODEL_NAME', value: 'intent_classifier' }, { name: 'MODEL_VERSION', value: version }],
            resources: { requests: { cpu: overrides.cpu ?? '8', memory: '32Gi' }, limits: { cpu: overrides.cpu ?? '8', memory: '32Gi' } },
          }],
        },
      },
    },
  };
}

const service = (selector = SELECTOR): ManifestObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'intent-classifier', namespace: NS }, spec: { selector, ports: [{ name: 'http', port: 8080 }] } });
const policy = (cidr = '10.0.0.0/8'): ManifestObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'intent-classifier', namespace: NS },
  spec: { podSelector: { matchLabels: SELECTOR }, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr } }] }] },
});
const rules = (expr = 'error_rate > 0.05', forDuration = '5m', extra: unknown[] = []): ManifestObject => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'intent-classifier', namespace: NS },
  spec: { groups: [{ name: 'intent-classifier', rules: [{ alert: 'TorchServeHighErrorRate', expr, for: forDuration, labels: { severity: 'critical' } }, ...extra] }] },
});
const role = (verbs = ['get']): ManifestObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'argo-rollouts-plugin', namespace: NS }, rules: [{ apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs }] });
const account = (arn: string): ManifestObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'intent-classifier', namespace: NS, annotations: { 'eks.amazonaws.com/role-arn': arn } } });

const set = (objects: ManifestObject[], environment = 'production'): ManifestSet => new Map([[environment, objects]]);
const risksOf = (base: ManifestObject[], head: ManifestObject[]) => diffManifests(set(base), set(head)).changes.flatMap((c) => c.risks.map((r) => `${c.kind}: ${r.category}: ${r.message}`));

describe('diffManifests', () => {
  it('finds nothing between identical outputs, whatever the key order', () => {
    const a = deployment();
    const reverseKeys = (v: unknown): unknown => (Array.isArray(v) ? v.map(reverseKeys) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)])) : v);
    const reordered = reverseKeys(a) as ManifestObject;
    expect(Object.keys(reordered)).toEqual(['spec', 'metadata', 'kind', 'apiVersion']);
    expect(diffManifests(set([a, service()]), set([service(), reordered])).changes).toEqual([]);
  });

  it('keys objects by API group, kind, namespace and name, and reports added, removed and changed ones', () => {
    const diff = diffManifests(
      new Map([['staging', [deployment(), service()]], ['production', [policy()]]]),
      new Map([['staging', [deployment({ replicas: 4 }), policy()]], ['argocd', [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'x', namespace: 'argocd' } }]]]),
    );
    expect(diff.environments).toEqual(['argocd', 'production', 'staging']);
    expect(diff.changes.map((c) => `${c.environment} ${c.type} ${c.kind}/${c.name}`)).toEqual([
      'argocd added Application/x',
      'production removed NetworkPolicy/intent-classifier',
      'staging changed Deployment/intent-classifier',
      'staging added NetworkPolicy/intent-classifier',
      'staging removed Service/intent-classifier',
    ]);
    const changed = diff.changes.find((c) => c.type === ChangeType.CHANGED)!;
    expect(changed.fields).toEqual([{ path: 'spec.replicas', before: 3, after: 4 }]);
  });

  it('names list elements by their name, so a changed container reads as one', () => {
    const [change] = diffManifests(set([deployment()]), set([deployment({ image: 'pytorch/torchserve:0.12.1-gpu' })])).changes;
    expect(change.fields.map((f) => f.path)).toEqual(['spec.template.spec.containers[torchserve].image']);
  });

  it('flags the model version and the image', () => {
    expect(risksOf([deployment()], [deployment({ version: '1.1.0', image: 'pytorch/torchserve:0.12.1-gpu' })])).toEqual([
      'Deployment: model version: 1.0.0 → 1.1.0',
      'Deployment: model version: archive s3://models/intent_classifier/1.0.0/intent_classifier.mar → s3://models/intent_classifier/1.1.0/intent_classifier.mar',
      'Deployment: image: container torchserve: pytorch/torchserve:0.12.0-gpu → pytorch/torchserve:0.12.1-gpu',
    ]);
  });

  it('flags replicas and resources', () => {
    expect(risksOf([deployment()], [deployment({ replicas: 1, cpu: '4' })])).toEqual([
      'Deployment: replicas: replicas 3 → 1',
      'Deployment: resources: container torchserve limits.cpu 8 → 4',
      'Deployment: resources: container torchserve requests.cpu 8 → 4',
    ]);
  });

  it('flags a workload selector as immutable, and a Service selector as moving traffic', () => {
    const other = { ...SELECTOR, 'app.kubernetes.io/instance': 'intent-classifier-v2' };
    expect(risksOf([deployment(), service()], [deployment({ selector: other }), service(other)])).toEqual([
      'Deployment: selector: spec.selector changed: immutable, so the apply is refused; the object must be deleted and recreated (downtime)',
      'Service: selector: Service selector changed: traffic goes to other pods (intent-classifier → intent-classifier-v2)',
    ]);
  });

  it('flags network policies and RBAC, added, removed or changed, and a new IAM role', () => {
    expect(risksOf([policy(), role()], [policy('10.20.0.0/16'), role(['get', 'patch'])])).toEqual([
      'NetworkPolicy: network policy: ingress rules changed',
      'Role: RBAC and identity: rules changed',
    ]);
    expect(risksOf([], [policy()])).toEqual(['NetworkPolicy: network policy: NetworkPolicy added: traffic it does not allow is now denied']);
    expect(risksOf([role()], [])).toEqual(['Role: RBAC and identity: Role removed']);
    expect(risksOf([account('arn:aws:iam::123456789012:role/a')], [account('arn:aws:iam::123456789012:role/b')])).toEqual([
      'ServiceAccount: RBAC and identity: IAM role arn:aws:iam::123456789012:role/a → arn:aws:iam::123456789012:role/b',
    ]);
    expect(risksOf([deployment()], [deployment({ account: 'model-admin' })])).toEqual(['Deployment: RBAC and identity: service account intent-classifier → model-admin']);
  });

  it('flags the release strategy, and a Deployment replaced by a Rollout', () => {
    expect(risksOf([deployment()], [deployment({ strategy: { type: 'Recreate' } })])).toEqual([
      'Deployment: strategy: strategy.rollingUpdate {"maxSurge":1,"maxUnavailable":0} → (none)',
      'Deployment: strategy: strategy.type RollingUpdate → Recreate',
    ]);
    const rollout: ManifestObject = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'intent-classifier', namespace: NS, labels: { ...SELECTOR, 'app.kubernetes.io/version': '1.0.0' } }, spec: { strategy: { canary: { steps: [{ setWeight: 10 }] } } } };
    expect(risksOf([deployment()], [rollout])).toEqual(['Rollout: strategy: Deployment replaced by a Rollout of the same name: delete the old Deployment only once the Rollout is healthy (an Argo CD prune deletes it at once)']);
    // A version change that comes with the switch is still a version change, and the first
    // revision of a new Rollout skips the steps: the table says both.
    const released = { ...rollout, metadata: { ...rollout.metadata, labels: { ...SELECTOR, 'app.kubernetes.io/version': '1.1.0' } } };
    expect(risksOf([deployment()], [released])).toEqual([
      'Rollout: model version: 1.0.0 → 1.1.0; a new Rollout has no stable version, so 1.1.0 goes out at once without the release steps or their analysis: switch the strategy with 1.0.0 first, then release 1.1.0',
      'Rollout: strategy: Deployment replaced by a Rollout of the same name: delete the old Deployment only once the Rollout is healthy (an Argo CD prune deletes it at once)',
    ]);
    // A workload that goes away without a replacement stops serving.
    expect(risksOf([deployment()], [])).toEqual(['Deployment: replicas: Deployment removed: its pods stop serving once it is deleted (an Argo CD prune deletes it; kubectl apply leaves it running)']);
    const slower = { ...rollout, spec: { strategy: { canary: { steps: [{ setWeight: 20 }] } } } };
    expect(risksOf([rollout], [slower])).toEqual(['Rollout: strategy: strategy.canary.steps[0].setWeight 10 → 20']);
  });

  it('flags alert thresholds: expressions, durations, severities, and alerts added or removed', () => {
    expect(risksOf([rules()], [rules('error_rate > 0.10', '10m')])).toEqual([
      'PrometheusRule: alert thresholds: alert TorchServeHighErrorRate: expr error_rate > 0.05 → error_rate > 0.10',
      'PrometheusRule: alert thresholds: alert TorchServeHighErrorRate: for 5m → 10m',
    ]);
    const latency = { alert: 'TorchServeSlow', expr: 'p95 > 0.5', for: '10m' };
    expect(risksOf([rules()], [rules(undefined, undefined, [latency])])).toEqual(['PrometheusRule: alert thresholds: alert TorchServeSlow added']);
    expect(risksOf([rules(undefined, undefined, [latency])], [rules()])).toEqual(['PrometheusRule: alert thresholds: alert TorchServeSlow removed']);
  });

  it('flags immutable StatefulSet fields', () => {
    const sts = (size: string): ManifestObject => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'prediction-cache', namespace: NS }, spec: { serviceName: 'prediction-cache', volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: size } } } }] } });
    expect(risksOf([sts('5Gi')], [sts('10Gi')])).toEqual([
      'StatefulSet: immutable field: spec.volumeClaimTemplates changed: immutable, so the apply is refused; delete the StatefulSet with --cascade=orphan and apply again',
    ]);
  });

  it('sums up a namespace quota in one line', () => {
    const quota = (pods: number, cpu: string): ManifestObject => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'model-serving', namespace: NS }, spec: { hard: { pods, 'requests.cpu': cpu } } });
    expect(risksOf([quota(10, '52')], [quota(12, '68')])).toEqual(['ResourceQuota: resources: namespace quota: 2 limits changed']);
    expect(risksOf([quota(10, '52')], [quota(12, '52')])).toEqual(['ResourceQuota: resources: hard.pods 10 → 12']);
  });

  it('raises nothing for a change that carries no risk, such as a label', () => {
    const labelled = (o: ManifestObject): ManifestObject => ({ ...o, metadata: { ...o.metadata, labels: { ...(o.metadata as any).labels, team: 'ml' } } });
    const diff = diffManifests(set([deployment(), policy()]), set([labelled(deployment()), labelled(policy())]));
    expect(diff.changes).toHaveLength(2);
    expect(diff.changes.flatMap((c) => c.risks)).toEqual([]);
  });
});

describe('renderDiffMarkdown', () => {
  const labels = { base: '`dist/` at `origin/main` (1a2b3c4)', head: 'a fresh synthesis of `serving.yaml`' };

  it('says so when nothing changed', () => {
    expect(renderDiffMarkdown(diffManifests(set([deployment()]), set([deployment()])), labels)).toBe(
      '## Manifest changes\n\n`dist/` at `origin/main` (1a2b3c4) → a fresh synthesis of `serving.yaml`\n\nNo changes: every object is identical.\n',
    );
  });

  it('renders a summary, the risky changes, and every object per environment, ready for a pull request', async () => {
    const configMap = (text: string): ManifestObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'intent-classifier-config', namespace: NS }, data: { 'config.properties': text } });
    const base = new Map([
      ['production', [deployment(), service(), policy(), rules(), configMap('batch_size=8\nworkers=4\n')]],
      ['staging', [deployment({ replicas: 1 })]],
    ]);
    const head = new Map([
      ['production', [deployment({ version: '1.1.0', replicas: 4 }), service(), policy('10.20.0.0/16'), rules('error_rate > 0.10'), configMap('batch_size=16\nworkers=4\n'), role()]],
      ['staging', [deployment({ replicas: 1 })]],
    ]);
    const markdown = renderDiffMarkdown(diffManifests(base, head), labels);
    expect(markdown).toContain('**production**: 1 added, 4 changed · **staging**: no changes · ⚠️ **6 risky changes**');
    expect(markdown).toContain('| production | `Deployment betterprompts-production/intent-classifier` | model version | 1.0.0 → 1.1.0 |');
    expect(markdown).toContain('| production | `PrometheusRule betterprompts-production/intent-classifier` | alert thresholds | alert TorchServeHighErrorRate: expr error_rate > 0.05 → error_rate > 0.10 |');
    expect(markdown).toContain('  - batch_size=8\n  + batch_size=16');
    expect(markdown).not.toContain('### staging');
    await expect(markdown).toMatchFileSnapshot('./__snapshots__/manifest-diff.md');
  });

  it('escapes table pipes and keeps the comment within GitHub\'s size limit', () => {
    const wide = (n: number, value: string): ManifestObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${n}`, namespace: NS }, data: { value } });
    const base = new Map([['production', Array.from({ length: 400 }, (_, i) => wide(i, 'a'.repeat(200)))]]);
    const head = new Map([['production', Array.from({ length: 400 }, (_, i) => wide(i, 'b'.repeat(200)))]]);
    const markdown = renderDiffMarkdown(diffManifests(base, head), labels);
    expect(markdown.length).toBeLessThan(65_536);
    expect(markdown).toContain('_The changed fields are left out: the full list exceeds a pull request comment.');
    const piped = renderDiffMarkdown(diffManifests(set([rules('a')]), set([rules('a | b')])), labels);
    expect(piped).toContain('expr a → a \\| b |');
  });

  it('uses the risk categories as written', () => {
    expect(Object.values(RiskCategory)).toContain('alert thresholds');
  });
});
