import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  CelRuleSet,
  DEFAULT_SCHEMA_DIR,
  ManifestValidator,
  applyStructuralDefaults,
  compileCelExpression,
  describeCelRule,
  pruneNonNullableNullsWithoutDefaults,
  type ManifestIssue,
} from '../lib/validation';

const validator = ManifestValidator.load();
const FIXTURES = path.join(__dirname, 'fixtures', 'cel');

function located(issues: ManifestIssue[]): { path: string; message: string }[] {
  return issues.map(({ path: issuePath, message }) => ({ path: issuePath, message }));
}

function fixture(dir: 'rejected' | 'accepted', name: string): string {
  return fs.readFileSync(path.join(FIXTURES, dir, name), 'utf-8');
}

const GATEWAY_API = 'gateway.networking.k8s.io/v1';

/**
 * Objects that a rule of a pinned CRD rejects: the rule (CRD version and schema location) and what validate
 * reports, which is the rule's own message at the value's location.
 */
const REJECTED: { file: string; rule: { apiVersion: string; kind: string; location: string }; issues: { path: string; message: string }[] }[] = [
  {
    file: 'httproute-redirect-with-backendref.yaml',
    rule: { apiVersion: GATEWAY_API, kind: 'HTTPRoute', location: '.spec.rules[*]' },
    issues: [{ path: '/spec/rules/0', message: 'RequestRedirect filter must not be used together with backendRefs' }],
  },
  {
    file: 'httproute-pathprefix-without-slash.yaml',
    rule: { apiVersion: GATEWAY_API, kind: 'HTTPRoute', location: '.spec.rules[*].matches[*].path' },
    issues: [{ path: '/spec/rules/0/matches/0/path', message: "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']" }],
  },
  {
    file: 'httproute-service-backend-without-port.yaml',
    rule: { apiVersion: GATEWAY_API, kind: 'HTTPRoute', location: '.spec.rules[*].backendRefs[*]' },
    issues: [{ path: '/spec/rules/0/backendRefs/0', message: 'Must have port for Service reference' }],
  },
  {
    file: 'httproute-backend-timeout-longer-than-request.yaml',
    rule: { apiVersion: GATEWAY_API, kind: 'HTTPRoute', location: '.spec.rules[*].timeouts' },
    issues: [{ path: '/spec/rules/0/timeouts', message: 'backendRequest timeout cannot be longer than request timeout' }],
  },
  {
    file: 'httproute-same-parent-with-and-without-section.yaml',
    rule: { apiVersion: GATEWAY_API, kind: 'HTTPRoute', location: '.spec.parentRefs' },
    issues: [{ path: '/spec/parentRefs', message: 'sectionName must be specified when parentRefs includes 2 or more references to the same parent' }],
  },
  {
    file: 'gateway-http-listener-with-tls.yaml',
    rule: { apiVersion: GATEWAY_API, kind: 'Gateway', location: '.spec.listeners' },
    issues: [{ path: '/spec/listeners', message: "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']" }],
  },
  {
    file: 'gateway-label-prefix-too-long.yaml',
    rule: { apiVersion: GATEWAY_API, kind: 'Gateway', location: '.spec.infrastructure.labels' },
    issues: [
      {
        path: '/spec/infrastructure/labels',
        message: "If specified, the label key's prefix must be a DNS subdomain not longer than 253 characters in total.",
      },
    ],
  },
  {
    file: 'scaledobject-min-above-max.yaml',
    rule: { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', location: '.spec' },
    issues: [{ path: '/spec', message: 'minReplicaCount must be less than or equal to maxReplicaCount' }],
  },
  {
    file: 'scaledobject-min-above-default-max.yaml',
    rule: { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', location: '.spec' },
    issues: [{ path: '/spec', message: 'minReplicaCount must be less than or equal to maxReplicaCount' }],
  },
  {
    // The pinned cert-manager Certificate CRD carries no rules; its Issuer and ClusterIssuer do.
    file: 'issuer-venafi-tpp-and-cloud.yaml',
    rule: { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', location: '.spec.venafi' },
    issues: [{ path: '/spec/venafi', message: 'exactly one of tpp, cloud, or ngts must be configured' }],
  },
  {
    file: 'kongplugin-config-and-configfrom.yaml',
    rule: { apiVersion: 'configuration.konghq.com/v1', kind: 'KongPlugin', location: '' },
    issues: [{ path: '', message: 'Using both config and configFrom fields is not allowed.' }],
  },
  {
    file: 'kongconsumer-without-username-or-custom-id.yaml',
    rule: { apiVersion: 'configuration.konghq.com/v1', kind: 'KongConsumer', location: '' },
    issues: [{ path: '', message: 'Need to provide either username or custom_id' }],
  },
  {
    file: 'traefik-middleware-prefix-without-slash.yaml',
    rule: { apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', location: '.spec.addPrefix.prefix' },
    issues: [{ path: '/spec/addPrefix/prefix', message: "must start with a '/'" }],
  },
];

/** Counts the rules in every schema file by their own structure, independently of the validator. */
function countRulesInSchemaFiles(): number {
  let count = 0;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    const schema = node as Record<string, unknown>;
    if (Array.isArray(schema['x-kubernetes-validations'])) count += schema['x-kubernetes-validations'].length;
    if (schema.properties) Object.values(schema.properties as object).forEach(walk);
    if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties);
    for (const key of ['items', 'allOf', 'anyOf', 'oneOf', 'not']) walk(schema[key]);
  };
  for (const file of fs.readdirSync(DEFAULT_SCHEMA_DIR).filter((f) => f.endsWith('.json'))) {
    const content = JSON.parse(fs.readFileSync(path.join(DEFAULT_SCHEMA_DIR, file), 'utf-8'));
    if (content.definitions) Object.values(content.definitions).forEach(walk);
    for (const kind of content.kinds ?? []) walk(kind.schema);
  }
  return count;
}

/** A CRD version whose `spec` has the given schema. */
function ruleSet(spec: Record<string, unknown>, rootRules: unknown[] = []): CelRuleSet {
  return new CelRuleSet('example.com/v1', 'Widget', {
    type: 'object',
    properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec },
    ...(rootRules.length > 0 ? { 'x-kubernetes-validations': rootRules } : {}),
  });
}

function widget(spec: unknown, metadata: Record<string, unknown> = { name: 'w' }): Record<string, unknown> {
  return { apiVersion: 'example.com/v1', kind: 'Widget', metadata, spec };
}

describe('x-kubernetes-validations (CEL) rules', () => {
  describe('fixtures that upstream rules reject fail, with the rule message at the value', () => {
    it.each(REJECTED)('$file', ({ file, rule, issues }) => {
      expect(located(validator.validateYamlText(fixture('rejected', file), file))).toEqual(issues);
      // The cited rule is a rule of the pinned CRD, evaluated, with exactly that message.
      const cited = validator.celRules().filter((r) => r.apiVersion === rule.apiVersion && r.kind === rule.kind && r.location === rule.location);
      expect(cited.map((r) => [r.rule.message, r.status])).toContainEqual([issues[0].message, 'evaluated']);
    });

    it('every rejected fixture is in the table', () => {
      expect(fs.readdirSync(path.join(FIXTURES, 'rejected')).sort()).toEqual(REJECTED.map((r) => r.file).sort());
    });
  });

  it('equivalent valid objects pass, and the rules did run on them', () => {
    const result = validator.validateDirectory(path.join(FIXTURES, 'accepted'));
    expect(result.issues).toEqual([]);
    expect(result.objects).toBe(9);
    expect(result.cel.objects).toBe(9);
    expect(result.cel.failures).toBe(0);
    expect(result.cel.evaluations).toBeGreaterThan(100);
    expect(result.cel.unsupported).toEqual([]);
  });

  it('applies the schema defaults first: a Gateway HTTPS listener tls defaults to mode Terminate', () => {
    const gateway = parse(fixture('accepted', 'gateway.yaml'));
    delete gateway.spec.listeners[1].tls.certificateRefs;
    const issues = located(validator.validate(gateway));
    // With mode defaulted to Terminate, the rule reads the absent certificateRefs: an evaluation error, as on the server.
    expect(issues).toEqual([
      { path: '/spec/listeners/1/tls', message: expect.stringMatching(/certificateRefs.* evaluating rule: certificateRefs or options must be specified when mode is Terminate$/) },
    ]);
    gateway.spec.listeners[1].tls.mode = 'Passthrough';
    gateway.spec.listeners[1].protocol = 'TLS';
    expect(located(validator.validate(gateway))).toEqual([]);
  });

  it('does not run the rules of an object with a type error, as the server does not', () => {
    const route = parse(fixture('rejected', 'httproute-redirect-with-backendref.yaml'));
    route.spec.rules[0].backendRefs[0].port = 'http';
    expect(located(validator.validate(route))).toEqual([
      { path: '/spec/rules/0/backendRefs/0/port', message: 'must be integer, got string "http"' },
      { path: '', message: 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation' },
    ]);
  });

  describe('every rule of the pinned CRDs', () => {
    const rules = validator.celRules();

    it('is known to the validator: as many as the schema files hold', () => {
      expect(rules.length).toBe(countRulesInSchemaFiles());
      expect(rules.length).toBeGreaterThan(0);
    });

    it('compiles in the Kubernetes CEL environment, or is an explicitly listed transition rule', () => {
      const byStatus = (status: string): string[] => rules.filter((r) => r.status === status).map(describeCelRule).sort();
      // No pinned rule is unsupported. A CRD update that brings one fails here and in validate, where it applies.
      expect(byStatus('unsupported')).toEqual([]);
      expect(byStatus('transition')).toEqual([
        'argoproj.io/v1alpha1 Rollout .spec.selector: self == oldSelf',
        'configuration.konghq.com/v1 KongClusterPlugin (root): self.plugin == oldSelf.plugin',
        'configuration.konghq.com/v1 KongConsumer (root): (!has(oldSelf.spec) || !has(oldSelf.spec.controlPlaneRef)) || has(self.spec.controlPlaneRef)',
        "configuration.konghq.com/v1 KongConsumer (root): (!has(self.spec) || !has(self.spec.controlPlaneRef)) ? true : (!has(self.status) || !self.status.conditions.exists(c, c.type == 'Programmed' && c.status == 'True')) ? true : oldSelf.spec.controlPlaneRef == self.spec.controlPlaneRef",
        'configuration.konghq.com/v1 KongPlugin (root): self.plugin == oldSelf.plugin',
        'gateway.networking.k8s.io/v1 GatewayClass .spec.controllerName: self == oldSelf',
        'gateway.networking.k8s.io/v1beta1 GatewayClass .spec.controllerName: self == oldSelf',
      ]);
      for (const rule of rules.filter((r) => r.status === 'evaluated')) {
        expect(compileCelExpression(rule.rule.rule).program, describeCelRule(rule)).toBeDefined();
      }
      expect(rules.filter((r) => r.status === 'evaluated').length + byStatus('transition').length).toBe(rules.length);
    });
  });

  describe('evaluation, as the API server does it', () => {
    it('types values by schema: integer is int, number is double, int-or-string either, date-time a timestamp, byte bytes', () => {
      const rules = ruleSet(
        {
          type: 'object',
          properties: {
            replicas: { type: 'integer' },
            ratio: { type: 'number' },
            port: { 'x-kubernetes-int-or-string': true },
            target: { 'x-kubernetes-int-or-string': true },
            at: { type: 'string', format: 'date-time' },
            data: { type: 'string', format: 'byte' },
          },
          'x-kubernetes-validations': [
            { rule: 'type(self.replicas) == int && type(self.ratio) == double', message: 'numbers' },
            { rule: 'type(self.port) == int && type(self.target) == string', message: 'int-or-string' },
            { rule: "self.at > timestamp('2024-01-01T00:00:00Z') && self.at < timestamp('2024-01-01T01:00:00Z')", message: 'timestamp' },
            { rule: "self.data == b'abc'", message: 'bytes' },
          ],
        },
      );
      const report = rules.validate(widget({ replicas: 2, ratio: 1, port: 8080, target: 'http', at: '2024-01-01T01:30:00.5+01:00', data: 'YWJj' }));
      expect(report.issues).toEqual([]);
      expect(report.evaluations).toBe(4);
    });

    it('does not evaluate a rule whose value is absent or null', () => {
      const rules = ruleSet({
        type: 'object',
        properties: {
          tls: { type: 'object', properties: { mode: { type: 'string' } }, 'x-kubernetes-validations': [{ rule: "self.mode == 'Terminate'", message: 'tls mode' }] },
          hint: { type: 'string', nullable: true, 'x-kubernetes-validations': [{ rule: 'self.size() > 3', message: 'hint is too short' }] },
        },
      });
      expect(rules.validate(widget({})).evaluations).toBe(0);
      expect(rules.validate(widget({ hint: null })).evaluations).toBe(0);
      expect(rules.validate(widget({ tls: { mode: 'Passthrough' }, hint: 'ab' })).issues).toEqual([
        { path: '/spec/tls', message: 'tls mode' },
        { path: '/spec/hint', message: 'hint is too short' },
      ]);
    });

    it('evaluates rules on every list item and map value, at its own location', () => {
      const rules = ruleSet({
        type: 'object',
        properties: {
          backends: {
            type: 'array',
            items: {
              type: 'object',
              properties: { name: { type: 'string' }, weight: { type: 'integer' } },
              'x-kubernetes-validations': [{ rule: 'self.weight <= 100', messageExpression: "'weight of ' + self.name + ' is ' + string(self.weight) + ', above 100'" }],
            },
          },
          labels: { type: 'object', additionalProperties: { type: 'string', 'x-kubernetes-validations': [{ rule: "self != ''", message: 'label values must not be empty' }] } },
        },
      });
      const report = rules.validate(widget({ backends: [{ name: 'a', weight: 50 }, { name: 'b', weight: 150 }], labels: { team: 'ml', 'app/tier': '' } }));
      expect(report.issues).toEqual([
        { path: '/spec/backends/1', message: 'weight of b is 150, above 100' },
        { path: '/spec/labels/app~1tier', message: 'label values must not be empty' },
      ]);
      expect(report.evaluations).toBe(4);
      expect(report.failures).toBe(2);
    });

    it('words a failure from messageExpression, else message, else the rule; at fieldPath; with reason', () => {
      const rules = ruleSet({
        type: 'object',
        properties: { replicas: { type: 'integer' }, limits: { type: 'object', additionalProperties: { type: 'string' } } },
        'x-kubernetes-validations': [
          { rule: 'self.replicas > 5', messageExpression: "''", message: 'empty messageExpression falls back to message' },
          { rule: 'self.replicas > 5', messageExpression: 'self.missing', message: 'failing messageExpression falls back to message' },
          { rule: 'self.replicas > 5' },
          { rule: 'self.replicas > 5', message: 'at fieldPath', fieldPath: '.replicas' },
          { rule: "'max-surge' in self.limits", message: 'map key fieldPath', fieldPath: ".limits['max-surge']" },
          { rule: 'false', message: 'forbidden', reason: 'FieldValueForbidden' },
          { rule: 'false', message: 'required', reason: 'FieldValueRequired' },
        ],
      });
      expect(rules.validate(widget({ replicas: 1, limits: {} })).issues).toEqual([
        { path: '/spec', message: 'empty messageExpression falls back to message' },
        { path: '/spec', message: 'failing messageExpression falls back to message' },
        { path: '/spec', message: 'failed rule: self.replicas > 5' },
        { path: '/spec/replicas', message: 'at fieldPath' },
        { path: '/spec/limits/max-surge', message: 'map key fieldPath' },
        { path: '/spec', message: 'Forbidden: forbidden' },
        { path: '/spec', message: 'Required value: required' },
      ]);
    });

    it('reports an evaluation error or a non-bool result as a failure, naming the rule', () => {
      const rules = ruleSet({
        type: 'object',
        properties: { tls: { type: 'object', properties: { mode: { type: 'string' } } } },
        'x-kubernetes-validations': [{ rule: "self.tls.mode == 'Terminate'", message: 'tls mode must be Terminate' }, { rule: "'not a bool'" }],
      });
      const report = rules.validate(widget({}));
      expect(report.issues).toEqual([
        { path: '/spec', message: expect.stringMatching(/tls.* evaluating rule: tls mode must be Terminate$/) },
        { path: '/spec', message: "rule did not evaluate to a bool evaluating rule: 'not a bool'" },
      ]);
      expect(report.failures).toBe(2);
    });

    it('names properties as the server escapes them, shows only declared fields, and only name and generateName of metadata', () => {
      const rules = ruleSet(
        {
          type: 'object',
          properties: { namespace: { type: 'string' }, 'max-surge': { type: 'string' }, a__b: { type: 'string' } },
          'x-kubernetes-validations': [
            { rule: "self.__namespace__ == 'gateways' && self.max__dash__surge == '25%' && self.a__underscores__b == 'x'", message: 'escaped names' },
            { rule: '!has(self.undeclared)', message: 'undeclared fields are invisible' },
          ],
        },
        [{ rule: "self.metadata.name == 'w' && !has(self.metadata.labels) && self.kind == 'Widget'", message: 'resource root' }],
      );
      const report = rules.validate(widget({ namespace: 'gateways', 'max-surge': '25%', a__b: 'x', undeclared: 1 }, { name: 'w', labels: { a: 'b' } }));
      expect(report.issues).toEqual([]);
      expect(report.evaluations).toBe(3);
    });

    it('lists transition rules as skipped and reports unsupported rules as errors, never passing them', () => {
      const rules = ruleSet({
        type: 'object',
        properties: {
          selector: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'immutable' }] },
          url: { type: 'string', 'x-kubernetes-validations': [{ rule: 'isURL(self)', message: 'must be a URL' }] },
          timeout: { type: 'string', format: 'duration', 'x-kubernetes-validations': [{ rule: "self > duration('1s')", message: 'too short' }] },
          later: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', optionalOldSelf: true, message: 'ratcheted' }] },
          nested: { type: 'string', allOf: [{ 'x-kubernetes-validations': [{ rule: "self != ''", message: 'in allOf' }] }] },
        },
      });
      expect(rules.rules.map((r) => [r.location, r.status, r.unsupported])).toEqual([
        ['.spec.selector', 'transition', undefined],
        ['.spec.url', 'unsupported', 'unknown function isURL(1 argument)'],
        ['.spec.timeout', 'unsupported', 'values at ".spec.timeout" have format "duration", whose CEL conversion is not implemented'],
        ['.spec.later', 'unsupported', 'optionalOldSelf rules run on create with an empty optional oldSelf, which is not modelled'],
        ['.spec.nested', 'unsupported', 'the rule is inside allOf'],
      ]);
      const report = rules.validate(widget({ selector: 'a', url: 'https://example.com', timeout: '5s', later: 'x', nested: 'y' }));
      expect(report.transitionSkipped.map((u) => [u.info.location, u.count])).toEqual([['.spec.selector', 1]]);
      expect(report.unsupported.map((u) => u.info.location)).toEqual(['.spec.url', '.spec.timeout', '.spec.later', '.spec.nested']);
      expect(report.issues[0]).toEqual({ path: '/spec/url', message: 'UNSUPPORTED x-kubernetes-validations rule (unknown function isURL(1 argument)): isURL(self)' });
      expect(report.issues).toHaveLength(4);
      // Where the value is absent, the rule does not apply.
      expect(rules.validate(widget({ selector: 'a' })).issues).toEqual([]);
    });

    it('makes a directory with an unsupported rule invalid, naming file, object and field, and counts it', () => {
      const schemaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cel-schemas-'));
      const manifests = fs.mkdtempSync(path.join(os.tmpdir(), 'cel-manifests-'));
      fs.copyFileSync(path.join(DEFAULT_SCHEMA_DIR, 'k8s.json'), path.join(schemaDir, 'k8s.json'));
      const schema = {
        type: 'object',
        properties: {
          spec: { type: 'object', properties: { url: { type: 'string', 'x-kubernetes-validations': [{ rule: 'isURL(self)', message: 'must be a URL' }] } } },
        },
      };
      fs.writeFileSync(path.join(schemaDir, 'widget.json'), JSON.stringify({ source: 'test', kinds: [{ group: 'example.com', kind: 'Widget', version: 'v1', scope: 'Namespaced', schema }] }));
      fs.writeFileSync(path.join(manifests, 'widget.yaml'), stringify(widget({ url: 'https://example.com' }, { name: 'w', namespace: 'serving' })));
      const result = ManifestValidator.load({ schemaDir }).validateDirectory(manifests);
      expect(result.invalid).toBe(1);
      expect(result.issues).toEqual([
        {
          file: path.join(manifests, 'widget.yaml'),
          kind: 'Widget',
          name: 'w',
          namespace: 'serving',
          path: '/spec/url',
          message: 'UNSUPPORTED x-kubernetes-validations rule (unknown function isURL(1 argument)): isURL(self)',
        },
      ]);
      expect(result.cel.unsupported.map((u) => [describeCelRule(u.info), u.count])).toEqual([['example.com/v1 Widget .spec.url: isURL(self)', 1]]);
    });
  });

  describe('schema defaults and nulls, as the server prepares an object', () => {
    const schema = {
      type: 'object',
      properties: {
        mode: { type: 'string', default: 'Terminate' },
        tls: { type: 'object', default: {}, properties: { kind: { type: 'string', default: 'Secret' } } },
        refs: { type: 'array', items: { type: 'object', properties: { group: { type: 'string', default: '' }, name: { type: 'string' } } } },
        labels: { type: 'object', additionalProperties: { type: 'object', properties: { weight: { type: 'integer', default: 1 } } } },
        hint: { type: 'string' },
        note: { type: 'string', nullable: true },
      },
    };

    it('fills missing fields, non-nullable nulls, defaults inside defaults, list items and map values', () => {
      const value: Record<string, unknown> = { mode: null, refs: [{ name: 'a' }, { name: 'b', group: 'x' }], labels: { a: {} } };
      applyStructuralDefaults(value, schema);
      expect(value).toEqual({ mode: 'Terminate', tls: { kind: 'Secret' }, refs: [{ name: 'a', group: '' }, { name: 'b', group: 'x' }], labels: { a: { weight: 1 } } });
    });

    it('keeps what is set, and copies defaults rather than sharing them', () => {
      const a: Record<string, any> = { mode: 'Passthrough' };
      const b: Record<string, any> = {};
      applyStructuralDefaults(a, schema);
      applyStructuralDefaults(b, schema);
      expect(a.mode).toBe('Passthrough');
      a.tls.kind = 'changed';
      expect(b.tls.kind).toBe('Secret');
    });

    it('drops nulls the schema does not allow and has no default for', () => {
      const value: Record<string, unknown> = { hint: null, note: null, refs: [{ name: null }] };
      pruneNonNullableNullsWithoutDefaults(value, schema);
      expect(value).toEqual({ note: null, refs: [{}] });
    });
  });
});
