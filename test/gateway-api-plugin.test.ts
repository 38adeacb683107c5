import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  GATEWAY_API_PLUGIN_LOCATION, GATEWAY_API_PLUGIN_SHA256, GATEWAY_API_PLUGIN_VERSION, GatewayApiPluginAccess, type GatewayApiPluginAccessProps,
  GatewayApiPluginConfig, type GatewayApiPluginConfigProps, gatewayApiPluginEntry,
} from '../lib/release';
import { expectValid, expectValidationError, objectOf, synthObjects } from './helpers/constructs';

function access(props: Partial<GatewayApiPluginAccessProps> = {}) {
  const chart = Testing.chart();
  new GatewayApiPluginAccess(chart, 'access', { namespace: 'ml', ...props });
  return synthObjects(chart);
}

function config(props: GatewayApiPluginConfigProps = {}) {
  const chart = Testing.chart();
  new GatewayApiPluginConfig(chart, 'config', props);
  return synthObjects(chart);
}

describe('GatewayApiPluginAccess', () => {
  it('lets the Argo Rollouts controller edit HTTPRoutes and keep its state in one namespace: a Role, never a ClusterRole', () => {
    const objects = access({ labels: { 'app.kubernetes.io/component': 'release' } });
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['Role/ml/argo-rollouts-gatewayapi', 'RoleBinding/ml/argo-rollouts-gatewayapi']);
    for (const o of objects) expect(o.metadata.labels).toEqual({ 'app.kubernetes.io/component': 'release' });
    expect(objectOf(objects, 'Role', 'argo-rollouts-gatewayapi').rules).toEqual([
      { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'update', 'patch'] },
    ]);
    const binding = objectOf(objects, 'RoleBinding', 'argo-rollouts-gatewayapi');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'argo-rollouts-gatewayapi' });
    // The controller's ServiceAccount where the argo-rollouts chart installs it, by default.
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'argo-rollouts', namespace: 'argo-rollouts' }]);
  });

  it('binds the controller the props name', () => {
    const binding = objectOf(access({ controller: { name: 'rollouts-controller', namespace: 'platform' } }), 'RoleBinding', 'argo-rollouts-gatewayapi');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'rollouts-controller', namespace: 'platform' }]);
  });

  it('passes strict schema validation', () => {
    expectValid(access());
  });
});

describe('GatewayApiPluginConfig', () => {
  it('writes the whole argo-rollouts-config ConfigMap, registering the pinned plugin release by checksum', () => {
    const configMap = objectOf(config(), 'ConfigMap', 'argo-rollouts-config');
    expect(configMap.metadata.namespace).toBe('argo-rollouts');
    expect(configMap.metadata.annotations?.['model-serving/replaces']).toContain('controller.trafficRouterPlugins');
    expect(parse(configMap.data.trafficRouterPlugins)).toEqual([{ name: 'argoproj-labs/gatewayAPI', location: GATEWAY_API_PLUGIN_LOCATION, sha256: GATEWAY_API_PLUGIN_SHA256 }]);
    expect(GATEWAY_API_PLUGIN_LOCATION).toContain(`/releases/download/${GATEWAY_API_PLUGIN_VERSION}/gatewayapi-plugin-linux-amd64`);
    expect(GATEWAY_API_PLUGIN_SHA256).toMatch(/^[0-9a-f]{64}$/);
    // The same entry a Helm-installed Argo Rollouts takes in controller.trafficRouterPlugins.
    expect(parse(configMap.data.trafficRouterPlugins)).toEqual([gatewayApiPluginEntry()]);
  });

  it('takes a mirror of the plugin with its checksum, and the namespace and labels, from the props', () => {
    const sha256 = 'a'.repeat(64);
    const configMap = objectOf(config({ namespace: 'rollouts', location: 'file:///plugins/gatewayapi', sha256, labels: { team: 'ml' } }), 'ConfigMap', 'argo-rollouts-config');
    expect(configMap.metadata).toMatchObject({ namespace: 'rollouts', labels: { team: 'ml' } });
    expect(parse(configMap.data.trafficRouterPlugins)).toEqual([{ name: 'argoproj-labs/gatewayAPI', location: 'file:///plugins/gatewayapi', sha256 }]);
  });

  it('passes strict schema validation', () => {
    expectValid(config());
  });

  it.each<[string, GatewayApiPluginConfigProps, string, string]>([
    ['a location without its checksum', { location: 'file:///plugins/gatewayapi' }, 'GatewayApiPluginConfig.UnpinnedLocation', "'location' and 'sha256' go together: the controller runs the binary it downloads only if its checksum matches"],
    ['a checksum without its location', { sha256: 'a'.repeat(64) }, 'GatewayApiPluginConfig.UnpinnedLocation', "'location' and 'sha256' go together"],
    ['a checksum that is no SHA-256', { location: 'file:///plugins/gatewayapi', sha256: 'abc' }, 'GatewayApiPluginConfig.InvalidSha256', '\'sha256\' ("abc") must be 64 lowercase hex digits'],
    ['an upper-case checksum', { location: 'file:///plugins/gatewayapi', sha256: 'A'.repeat(64) }, 'GatewayApiPluginConfig.InvalidSha256', 'must be 64 lowercase hex digits'],
  ])('refuses %s', (_name, props, code, detail) => {
    expectValidationError(() => config(props), code, 'test/config', detail);
  });
});
