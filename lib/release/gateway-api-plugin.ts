import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { stringify } from 'yaml';
import { ValidationError } from '../core/validation-error';
import { GATEWAY_API_PLUGIN } from '../gateway/providers';

/** The plugin release this project's canaries are written for. */
export const GATEWAY_API_PLUGIN_VERSION = 'v0.15.0';

/** The linux-amd64 release asset of {@link GATEWAY_API_PLUGIN_VERSION}. */
export const GATEWAY_API_PLUGIN_LOCATION = `https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi/releases/download/${GATEWAY_API_PLUGIN_VERSION}/gatewayapi-plugin-linux-amd64`;

/**
 * The SHA-256 of {@link GATEWAY_API_PLUGIN_LOCATION}. Argo Rollouts refuses to start a
 * downloaded plugin whose checksum differs (argo-rollouts v1.9 utils/plugin/downloader.go
 * checkShaOfPlugin). The plugin's releases publish no checksum file; this value is the one a
 * public Argo Rollouts deployment pins for this same asset. Re-check it before trusting it:
 * `curl -sL <location> | sha256sum`.
 */
export const GATEWAY_API_PLUGIN_SHA256 = '24816da0e613836b3f180a2b50f6199431668c72d7f4adeef09284bffc6582a1';

/** The `trafficRouterPlugins` entry that registers the plugin, pinned by checksum. */
export function gatewayApiPluginEntry(location = GATEWAY_API_PLUGIN_LOCATION, sha256 = GATEWAY_API_PLUGIN_SHA256): { name: string; location: string; sha256: string } {
  return { name: GATEWAY_API_PLUGIN, location, sha256 };
}

/** Properties of a {@link GatewayApiPluginAccess}. */
export interface GatewayApiPluginAccessProps {
  /** The namespace whose HTTPRoutes the plugin may edit. */
  readonly namespace: string;
  /** The Argo Rollouts controller's ServiceAccount. @default { name: 'argo-rollouts', namespace: 'argo-rollouts' } */
  readonly controller?: { readonly name: string; readonly namespace: string };
  /** @default {} */
  readonly labels?: Record<string, string>;
}

/**
 * Lets the Argo Rollouts controller's Gateway API plugin shift HTTPRoute weights in one
 * namespace, and keep its state in a ConfigMap there: a Role, not a ClusterRole.
 */
export class GatewayApiPluginAccess extends Construct {
  constructor(scope: Construct, id: string, props: GatewayApiPluginAccessProps) {
    super(scope, id);
    const name = 'argo-rollouts-gatewayapi';
    const metadata = { name, namespace: props.namespace, labels: props.labels ?? {} };
    const controller = props.controller ?? { name: 'argo-rollouts', namespace: 'argo-rollouts' };
    new k8s.KubeRole(this, 'Role', {
      metadata,
      rules: [
        { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'update', 'patch'] },
      ],
    });
    new k8s.KubeRoleBinding(this, 'RoleBinding', {
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', ...controller }],
    });
  }
}

/** Properties of a {@link GatewayApiPluginConfig}. */
export interface GatewayApiPluginConfigProps {
  /** Where Argo Rollouts runs. @default 'argo-rollouts' */
  readonly namespace?: string;
  /** The plugin binary for the controller to download. @default GATEWAY_API_PLUGIN_LOCATION */
  readonly location?: string;
  /** The binary's SHA-256; required with `location`. @default GATEWAY_API_PLUGIN_SHA256 */
  readonly sha256?: string;
  /** @default {} */
  readonly labels?: Record<string, string>;
}

/**
 * Registers the Gateway API traffic router plugin with Argo Rollouts: the WHOLE
 * `argo-rollouts-config` ConfigMap, which the controller reads. Only for an Argo Rollouts
 * installed without Helm: the argo-rollouts chart owns that ConfigMap
 * (`controller.createConfigmap`, on by default), so applying this would replace its content
 * and fight Helm; set `controller.trafficRouterPlugins` to {@link gatewayApiPluginEntry} there.
 *
 * @see https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi
 */
export class GatewayApiPluginConfig extends Construct {
  constructor(scope: Construct, id: string, props: GatewayApiPluginConfigProps = {}) {
    super(scope, id);
    if ((props.location === undefined) !== (props.sha256 === undefined)) {
      throw new ValidationError('GatewayApiPluginConfig.UnpinnedLocation', "'location' and 'sha256' go together: the controller runs the binary it downloads only if its checksum matches", this);
    }
    if (props.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(props.sha256)) {
      throw new ValidationError('GatewayApiPluginConfig.InvalidSha256', `'sha256' ("${props.sha256}") must be 64 lowercase hex digits`, this);
    }
    const entry = gatewayApiPluginEntry(props.location, props.sha256);
    new k8s.KubeConfigMap(this, 'Resource', {
      metadata: {
        name: 'argo-rollouts-config',
        namespace: props.namespace ?? 'argo-rollouts',
        labels: props.labels ?? {},
        annotations: { 'model-serving/replaces': 'the whole argo-rollouts-config ConfigMap; with a Helm-installed Argo Rollouts set controller.trafficRouterPlugins instead' },
      },
      data: { trafficRouterPlugins: stringify([entry]) },
    });
  }
}
