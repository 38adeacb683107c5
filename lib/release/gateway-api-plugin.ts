import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { GATEWAY_API_PLUGIN } from './canary-rollout';

/** The plugin release this project's canaries are written for. */
export const GATEWAY_API_PLUGIN_VERSION = 'v0.15.0';

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
  /** The plugin binary for the controller to download. @default - the GATEWAY_API_PLUGIN_VERSION linux-amd64 release asset */
  readonly location?: string;
  /** @default {} */
  readonly labels?: Record<string, string>;
}

/**
 * Registers the Gateway API traffic router plugin with Argo Rollouts (its `argo-rollouts-config`
 * ConfigMap). If Argo Rollouts is installed with Helm, set `controller.trafficRouterPlugins` to
 * the same entry instead of applying this.
 *
 * @see https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi
 */
export class GatewayApiPluginConfig extends Construct {
  constructor(scope: Construct, id: string, props: GatewayApiPluginConfigProps = {}) {
    super(scope, id);
    const location = props.location
      ?? `https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi/releases/download/${GATEWAY_API_PLUGIN_VERSION}/gatewayapi-plugin-linux-amd64`;
    new k8s.KubeConfigMap(this, 'Resource', {
      metadata: { name: 'argo-rollouts-config', namespace: props.namespace ?? 'argo-rollouts', labels: props.labels ?? {} },
      data: { trafficRouterPlugins: `- name: "${GATEWAY_API_PLUGIN}"\n  location: "${location}"\n` },
    });
  }
}
