import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEMA_DIR, ManifestValidator, formatIssue, type ManifestIssue } from '../lib/validation';

const validator = ManifestValidator.load();

const NAMESPACE = 'betterprompts-staging';

function deployment(): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'intent-classifier',
      namespace: NAMESPACE,
      labels: { 'app.kubernetes.io/name': 'torchserve', 'app.kubernetes.io/instance': 'intent-classifier' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { 'app.kubernetes.io/instance': 'intent-classifier' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } },
      template: {
        metadata: {
          labels: { 'app.kubernetes.io/instance': 'intent-classifier' },
          annotations: { 'kubectl.kubernetes.io/default-container': 'torchserve' },
        },
        spec: {
          automountServiceAccountToken: false,
          serviceAccountName: 'intent-classifier',
          containers: [
            {
              name: 'torchserve',
              image: 'pytorch/torchserve:0.12.0-gpu',
              imagePullPolicy: 'IfNotPresent',
              args: ['--start', '--foreground'],
              env: [{ name: 'GPU_MEMORY_FRACTION', value: '0.8' }],
              ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/ping', port: 'http' }, periodSeconds: 10 },
              resources: {
                limits: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': 1 },
                requests: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': 1 },
              },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        },
      },
    },
  };
}

function service(): any {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'intent-classifier', namespace: NAMESPACE },
    spec: {
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/instance': 'intent-classifier' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'metrics', port: 8082, targetPort: 8082 },
      ],
    },
  };
}

function configMap(): any {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'intent-classifier-config', namespace: NAMESPACE },
    data: { 'config.properties': 'inference_address=http://0.0.0.0:8080\n', 'any.key-at_all': 'value' },
  };
}

function podDisruptionBudget(): any {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'intent-classifier', namespace: NAMESPACE },
    spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/instance': 'intent-classifier' } } },
  };
}

function serviceMonitor(): any {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: 'intent-classifier', namespace: NAMESPACE, labels: { release: 'prometheus' } },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/instance': 'intent-classifier' } },
      endpoints: [{ port: 'metrics', path: '/metrics', interval: '30s', scheme: 'http' }],
    },
  };
}

function rollout(): any {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'intent-classifier', namespace: NAMESPACE },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'intent-classifier' } },
      template: {
        metadata: { labels: { app: 'intent-classifier' } },
        spec: { containers: [{ name: 'torchserve', image: 'pytorch/torchserve:0.12.0-gpu' }] },
      },
      strategy: {
        canary: {
          maxSurge: '25%',
          maxUnavailable: 0,
          steps: [
            { setWeight: 20 },
            { pause: { duration: '10m' } },
            { plugin: { name: 'argoproj-labs/metric-gate', config: { anything: { nested: [1, 2] }, 'free-form': true } } },
          ],
        },
      },
    },
  };
}

/** The issue fields that identify where a problem is; `file` and `namespace` are checked separately. */
function located(issues: ManifestIssue[]): { kind: string; name: string; path: string; message: string }[] {
  return issues.map(({ kind, name, path: issuePath, message }) => ({ kind, name, path: issuePath, message }));
}

describe('ManifestValidator', () => {
  describe('accepts valid core objects', () => {
    it.each([
      ['Deployment', deployment()],
      ['Service', service()],
      ['ConfigMap', configMap()],
      ['Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: { team: 'ml' } } }],
      ['PodDisruptionBudget', podDisruptionBudget()],
      ['ServiceAccount', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'intent-classifier', namespace: NAMESPACE }, automountServiceAccountToken: false }],
    ])('%s', (_kind, obj) => {
      expect(validator.validate(obj)).toEqual([]);
    });
  });

  it('reports an unknown top-level field by its key', () => {
    const obj = deployment();
    obj.extra = true;
    expect(validator.validate(obj, 'dist/staging/Deployment.intent-classifier.k8s.yaml')).toEqual([
      {
        file: 'dist/staging/Deployment.intent-classifier.k8s.yaml',
        kind: 'Deployment',
        name: 'intent-classifier',
        namespace: NAMESPACE,
        path: '/extra',
        message: 'unknown field "extra"',
      },
    ]);
  });

  it('reports an unknown field inside a container with its full path', () => {
    const obj = deployment();
    obj.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    expect(located(validator.validate(obj))).toEqual([
      {
        kind: 'Deployment',
        name: 'intent-classifier',
        path: '/spec/template/spec/containers/0/imagePullPolicyy',
        message: 'unknown field "imagePullPolicyy"',
      },
    ]);
  });

  it('treats metadata as strict, in core kinds and in CRDs alike', () => {
    const core = deployment();
    core.metadata.label = { a: 'b' };
    expect(located(validator.validate(core))).toEqual([
      { kind: 'Deployment', name: 'intent-classifier', path: '/metadata/label', message: 'unknown field "label"' },
    ]);

    const podTemplate = deployment();
    podTemplate.spec.template.metadata.annotation = {};
    expect(located(validator.validate(podTemplate))).toEqual([
      { kind: 'Deployment', name: 'intent-classifier', path: '/spec/template/metadata/annotation', message: 'unknown field "annotation"' },
    ]);

    const crd = serviceMonitor();
    crd.metadata.namespaces = 'x';
    expect(located(validator.validate(crd))).toEqual([
      { kind: 'ServiceMonitor', name: 'intent-classifier', path: '/metadata/namespaces', message: 'unknown field "namespaces"' },
    ]);
  });

  it('reports a value of the wrong type', () => {
    const obj = deployment();
    obj.spec.replicas = '3';
    expect(located(validator.validate(obj))).toEqual([
      { kind: 'Deployment', name: 'intent-classifier', path: '/spec/replicas', message: 'must be integer, got string "3"' },
    ]);
  });

  it('reports a value outside an enum with the allowed values', () => {
    // The 1.28 definitions declare no enums; this one comes from the kubernetes-models layer.
    const obj = deployment();
    obj.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes';
    expect(located(validator.validate(obj))).toEqual([
      {
        kind: 'Deployment',
        name: 'intent-classifier',
        path: '/spec/template/spec/containers/0/imagePullPolicy',
        message: 'must be one of "Always", "IfNotPresent", "Never", got string "Sometimes"',
      },
    ]);

    const svc = service();
    svc.spec.type = 'Foo';
    expect(located(validator.validate(svc))).toEqual([
      {
        kind: 'Service',
        name: 'intent-classifier',
        path: '/spec/type',
        message: 'must be one of "ClusterIP", "ExternalName", "LoadBalancer", "NodePort", got string "Foo"',
      },
    ]);
  });

  it('reports a malformed resource quantity', () => {
    const obj = deployment();
    obj.spec.template.spec.containers[0].resources.limits.memory = '16 GB';
    expect(located(validator.validate(obj))).toEqual([
      {
        kind: 'Deployment',
        name: 'intent-classifier',
        path: '/spec/template/spec/containers/0/resources/limits/memory',
        message: 'must be a valid quantity, got string "16 GB"',
      },
    ]);
  });

  it('reports a missing required field', () => {
    const obj = deployment();
    delete obj.spec.template.spec.containers[0].name;
    expect(located(validator.validate(obj))).toEqual([
      { kind: 'Deployment', name: 'intent-classifier', path: '/spec/template/spec/containers/0', message: 'missing required field "name"' },
    ]);
  });

  it('accepts int-or-string fields as either, and nothing else', () => {
    const obj = service();
    expect(validator.validate(obj)).toEqual([]);
    obj.spec.ports[0].targetPort = true;
    expect(located(validator.validate(obj))).toEqual([
      { kind: 'Service', name: 'intent-classifier', path: '/spec/ports/0/targetPort', message: 'must be string or integer, got boolean true' },
    ]);
  });

  it('reports an object whose apiVersion and kind have no schema', () => {
    const obj = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };
    expect(located(validator.validate(obj))).toEqual([{ kind: 'Widget', name: 'w', path: '', message: 'no schema for example.com/v1 Widget' }]);
    expect(located(validator.validate({ ...deployment(), apiVersion: 'apps/v1beta9' }))).toEqual([
      { kind: 'Deployment', name: 'intent-classifier', path: '', message: 'no schema for apps/v1beta9 Deployment' },
    ]);
  });

  it('reports documents that are not Kubernetes objects', () => {
    expect(located(validator.validate({ kind: 'ConfigMap', metadata: { name: 'c' } }))).toEqual([
      { kind: 'ConfigMap', name: 'c', path: '', message: 'missing required field "apiVersion"' },
    ]);
    expect(located(validator.validate(['a']))).toEqual([
      { kind: '', name: '', path: '', message: 'expected a Kubernetes object (a mapping), got an array' },
    ]);
  });

  it('skips a Kustomization', () => {
    expect(validator.validate({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['a.yaml'] })).toEqual([]);
  });

  describe('free-form maps accept arbitrary keys', () => {
    it('labels, annotations and ConfigMap data', () => {
      const obj = deployment();
      obj.metadata.labels['example.com/anything-at.all'] = 'yes';
      obj.metadata.annotations = { 'model-serving/config-checksum': 'abc', 'x/y_z.1': '1' };
      obj.spec.template.metadata.annotations['prometheus.io/scrape'] = 'true';
      expect(validator.validate(obj)).toEqual([]);

      const cm = configMap();
      cm.data['whatever/you~like'] = 'x';
      cm.binaryData = { 'blob.bin': 'aGVsbG8=' };
      expect(validator.validate(cm)).toEqual([]);
    });

    it('fields marked x-kubernetes-preserve-unknown-fields', () => {
      const plugin = {
        apiVersion: 'configuration.konghq.com/v1',
        kind: 'KongPlugin',
        metadata: { name: 'rate-limit', namespace: NAMESPACE },
        plugin: 'rate-limiting',
        config: { second: 20, policy: 'local', nested: { any: ['thing'] } },
      };
      expect(validator.validate(plugin)).toEqual([]);
      // The step's plugin config in rollout() carries arbitrary keys too.
      expect(validator.validate(rollout())).toEqual([]);
    });

    it('but the maps still check their value types', () => {
      const obj = configMap();
      obj.data.count = 3;
      expect(located(validator.validate(obj))).toEqual([
        { kind: 'ConfigMap', name: 'intent-classifier-config', path: '/data/count', message: 'must be string, got number 3' },
      ]);
    });
  });

  describe('CRD objects', () => {
    it('accepts a valid ServiceMonitor', () => {
      expect(validator.validate(serviceMonitor())).toEqual([]);
    });

    it('reports an unknown field in a ServiceMonitor endpoint', () => {
      const obj = serviceMonitor();
      obj.spec.endpoints[0].intervall = '30s';
      expect(located(validator.validate(obj))).toEqual([
        { kind: 'ServiceMonitor', name: 'intent-classifier', path: '/spec/endpoints/0/intervall', message: 'unknown field "intervall"' },
      ]);
    });

    it('reports a ServiceMonitor enum violation from the CRD schema', () => {
      const obj = serviceMonitor();
      obj.spec.endpoints[0].scheme = 'ftp';
      expect(located(validator.validate(obj))).toEqual([
        {
          kind: 'ServiceMonitor',
          name: 'intent-classifier',
          path: '/spec/endpoints/0/scheme',
          message: 'must be one of "http", "https", "HTTP", "HTTPS", got string "ftp"',
        },
      ]);
    });

    it('accepts a valid Rollout', () => {
      expect(validator.validate(rollout())).toEqual([]);
    });

    it('reports unknown fields and wrong types in a Rollout', () => {
      const obj = rollout();
      obj.spec.strategy.canary.steps[0] = { setWieght: 20 };
      obj.spec.strategy.canary.maxSurge = 1.5;
      obj.spec.template.spec.containers[0].resourcez = {};
      expect(located(validator.validate(obj))).toEqual([
        { kind: 'Rollout', name: 'intent-classifier', path: '/spec/strategy/canary/maxSurge', message: 'must be integer or string, got number 1.5' },
        { kind: 'Rollout', name: 'intent-classifier', path: '/spec/strategy/canary/steps/0/setWieght', message: 'unknown field "setWieght"' },
        { kind: 'Rollout', name: 'intent-classifier', path: '/spec/template/spec/containers/0/resourcez', message: 'unknown field "resourcez"' },
      ]);
    });
  });

  describe('a schema folder of its own', () => {
    const widgetCrd = {
      source: 'test',
      kinds: [
        {
          group: 'example.com',
          kind: 'Widget',
          version: 'v1',
          scope: 'Namespaced',
          schema: {
            type: 'object',
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 5 } } },
              spec: {
                type: 'object',
                oneOf: [{ required: ['size'] }, { required: ['color'] }],
                properties: {
                  size: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
                  color: { type: 'string', pattern: '^(?i)(red|blue)$' },
                  extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'string' } } },
                },
              },
            },
          },
        },
      ],
    };

    function withWidgetSchemas<T>(use: (widgets: ManifestValidator) => T): T {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'widget-schemas-'));
      try {
        fs.copyFileSync(path.join(DEFAULT_SCHEMA_DIR, 'k8s.json'), path.join(dir, 'k8s.json'));
        fs.writeFileSync(path.join(dir, 'widget.json'), JSON.stringify(widgetCrd));
        return use(ManifestValidator.load({ schemaDir: dir }));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }

    const widget = (metadata: object, spec: object) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata, spec });

    it('keeps CRD metadata constraints while making metadata strict', () => {
      withWidgetSchemas((widgets) => {
        expect(widgets.hasSchema('example.com/v1', 'Widget')).toBe(true);
        expect(widgets.hasSchema('monitoring.coreos.com/v1', 'ServiceMonitor')).toBe(false);
        expect(widgets.validate(widget({ name: 'w', labels: { 'a/b': 'c' } }, { color: 'red' }))).toEqual([]);
        expect(located(widgets.validate(widget({ name: 'too-long', label: {} }, { color: 'red' })))).toEqual([
          { kind: 'Widget', name: 'too-long', path: '/metadata/label', message: 'unknown field "label"' },
          { kind: 'Widget', name: 'too-long', path: '/metadata/name', message: 'must NOT have more than 5 characters' },
        ]);
      });
    });

    it('handles int-or-string, preserved fields, RE2 flags and one-of rules', () => {
      withWidgetSchemas((widgets) => {
        expect(widgets.validate(widget({ name: 'w' }, { size: '10%', extra: { known: 'k', other: { deep: 1 } } }))).toEqual([]);
        expect(widgets.validate(widget({ name: 'w' }, { size: 3 }))).toEqual([]);
        expect(widgets.validate(widget({ name: 'w' }, { color: 'BLUE' }))).toEqual([]);
        expect(located(widgets.validate(widget({ name: 'w' }, { color: 'green', size: 1.5, colour: 'red' })))).toEqual([
          { kind: 'Widget', name: 'w', path: '/spec', message: 'matches more than one of the mutually exclusive alternatives' },
          { kind: 'Widget', name: 'w', path: '/spec/colour', message: 'unknown field "colour"' },
          { kind: 'Widget', name: 'w', path: '/spec/size', message: 'must be integer or string, got number 1.5' },
          { kind: 'Widget', name: 'w', path: '/spec/color', message: 'must match pattern ^(?i)(red|blue)$, got string "green"' },
        ]);
        expect(located(widgets.validate(widget({ name: 'w' }, {})))).toEqual([
          { kind: 'Widget', name: 'w', path: '/spec', message: 'does not match any of the allowed alternatives' },
        ]);
      });
    });
  });

  describe('validateYamlText', () => {
    it('reports a duplicate key with its path and line', () => {
      const text = [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: settings',
        '  namespace: serving',
        'data:',
        '  mode: fast',
        '  mode: slow',
        '',
      ].join('\n');
      expect(validator.validateYamlText(text, 'settings.yaml')).toEqual([
        {
          file: 'settings.yaml',
          kind: 'ConfigMap',
          name: 'settings',
          namespace: 'serving',
          path: '/data/mode',
          message: 'duplicate key "mode" (line 8, column 3)',
        },
      ]);
    });

    it('finds duplicate keys inside lists', () => {
      const obj = deployment();
      const text = JSON.stringify(obj, null, 2).replace('"imagePullPolicy": "IfNotPresent",', '"imagePullPolicy": "IfNotPresent", "image": "again",');
      const issues = validator.validateYamlText(text);
      expect(issues).toHaveLength(1);
      expect(issues[0].path).toBe('/spec/template/spec/containers/0/image');
      expect(issues[0].message).toMatch(/^duplicate key "image" \(line \d+, column \d+\)$/);
    });

    it('validates each document, skipping empty ones and Kustomizations', () => {
      const text = [
        '---',
        '# nothing here',
        '---',
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources: [a.yaml]',
        '---',
        'apiVersion: v1',
        'kind: ServiceAccount',
        'metadata: {name: ok}',
        '---',
        'apiVersion: v1',
        'kind: ServiceAccount',
        'metadata: {name: bad}',
        'automountServiceAccountTokens: false',
        '',
      ].join('\n');
      expect(located(validator.validateYamlText(text))).toEqual([
        { kind: 'ServiceAccount', name: 'bad', path: '/automountServiceAccountTokens', message: 'unknown field "automountServiceAccountTokens"' },
      ]);
    });

    it('reports YAML syntax errors', () => {
      const issues = validator.validateYamlText('apiVersion: v1\nkind: ConfigMap\ndata: [unclosed\n', 'broken.yaml');
      expect(issues.length).toBeGreaterThan(0);
      expect(issues[0]).toMatchObject({ file: 'broken.yaml', path: '' });
      expect(issues[0].message).toMatch(/^invalid YAML: /);
    });
  });

  describe('validateDirectory', () => {
    it('walks YAML files recursively in sorted order and skips kustomization.yaml', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifest-validator-'));
      try {
        fs.mkdirSync(path.join(dir, 'staging'));
        fs.writeFileSync(path.join(dir, 'staging', 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n');
        fs.writeFileSync(path.join(dir, 'staging', 'b.k8s.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: b, labelz: {}}\n');
        fs.writeFileSync(path.join(dir, 'staging', 'a.k8s.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labelz: {}}\n');
        fs.writeFileSync(path.join(dir, 'all.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: one}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: two}\n');
        fs.writeFileSync(path.join(dir, 'notes.txt'), 'not yaml: [');

        const result = validator.validateDirectory(dir);
        expect(result).toMatchObject({ files: 3, objects: 4, invalid: 2 });
        expect(result.issues.map((i) => [path.relative(dir, i.file ?? ''), i.name, i.path])).toEqual([
          [path.join('staging', 'a.k8s.yaml'), 'a', '/metadata/labelz'],
          [path.join('staging', 'b.k8s.yaml'), 'b', '/metadata/labelz'],
        ]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('formats an issue on one line', () => {
    expect(
      formatIssue({
        file: 'dist/staging/Deployment.intent-classifier.k8s.yaml',
        kind: 'Deployment',
        name: 'intent-classifier',
        namespace: NAMESPACE,
        path: '/spec/template/spec/containers/0/imagePullPolicyy',
        message: 'unknown field "imagePullPolicyy"',
      }),
    ).toBe(
      'dist/staging/Deployment.intent-classifier.k8s.yaml: Deployment/intent-classifier: /spec/template/spec/containers/0/imagePullPolicyy: unknown field "imagePullPolicyy"',
    );
    expect(formatIssue({ kind: 'Widget', name: 'w', path: '', message: 'no schema for example.com/v1 Widget' })).toBe('Widget/w: no schema for example.com/v1 Widget');
  });
});
