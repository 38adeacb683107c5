import type { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { Rollout, type RolloutProps } from '../../imports/rollout-argoproj.io';

/**
 * An Argo Rollout whose pod template is a core PodTemplateSpec, which Argo Rollouts embeds as it
 * is: the template is typed with the Kubernetes types and rendered with their converter, like a
 * Deployment's, and everything else with the Rollout CRD's generated types.
 */
export class RolloutWithPodTemplate extends Rollout {
  constructor(scope: Construct, id: string, props: Omit<RolloutProps, 'spec'> & { spec: Omit<NonNullable<RolloutProps['spec']>, 'template'> }, private readonly podTemplate: k8s.PodTemplateSpec) {
    super(scope, id, props);
  }

  public toJson(): any {
    const json = super.toJson();
    return { ...json, spec: { ...json.spec, template: k8s.toJson_PodTemplateSpec(this.podTemplate) } };
  }
}
