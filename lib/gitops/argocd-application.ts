import { Construct } from 'constructs';
import { Application } from '../../imports/application-argoproj.io';
import { isDnsLabel } from '../private/names';
import { ValidationError } from '../core/validation-error';

/**
 * The longest Application name: Argo CD labels every object it deploys with the Application's
 * name (app.kubernetes.io/instance, its default tracking label), and a label value holds 63.
 */
export const MAX_APPLICATION_NAME_LENGTH = 63;

/** The Application of one environment of a fleet: `<fleet>-<environment>`. */
export function applicationName(fleetName: string, environment: string): string {
  return `${fleetName}-${environment}`;
}

/** Properties of an {@link ArgoCdApplication}. */
export interface ArgoCdApplicationProps {
  /** The Application's name, e.g. "<fleet>-<environment>"; a DNS-1123 label of at most {@link MAX_APPLICATION_NAME_LENGTH} characters. */
  readonly name: string;
  /** The Git repository holding the committed output. */
  readonly repoURL: string;
  /** The folder of the environment inside the repository, e.g. "dist/production". */
  readonly path: string;
  /** The namespace the environment deploys to. */
  readonly destinationNamespace: string;
  /** @default 'main' */
  readonly targetRevision?: string;
  /** @default 'default' */
  readonly project?: string;
  /** Where Argo CD runs. @default 'argocd' */
  readonly namespace?: string;
  /** @default 'https://kubernetes.default.svc' */
  readonly destinationServer?: string;
  /** Sync (with prune and self-heal) whenever the folder changes; otherwise wait for a manual sync. @default false */
  readonly automatedSync?: boolean;
  /**
   * Argo Rollouts rewrites some fields during a release (Service selectors, route weights);
   * Argo CD must not undo them. @default false
   */
  readonly ignoreRolloutManagedFields?: boolean;
  /** @default {} */
  readonly labels?: Record<string, string>;
}

/**
 * An Argo CD Application that deploys one environment's committed folder.
 *
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/#applications
 */
export class ArgoCdApplication extends Construct {
  constructor(scope: Construct, id: string, props: ArgoCdApplicationProps) {
    super(scope, id);
    const fail = (message: string): never => {
      throw new ValidationError('ArgoCdApplication.InvalidProps', message, this);
    };
    if (!isDnsLabel(props.name)) fail(`'name' ("${props.name}") must be a DNS-1123 label of at most ${MAX_APPLICATION_NAME_LENGTH} characters: Argo CD labels what it deploys with it`);
    if (!/^(https?|ssh):\/\/\S+$|^git@\S+:\S+$/.test(props.repoURL)) fail(`'repoURL' ("${props.repoURL}") must be an https, ssh or git@ repository URL`);
    if (props.path.startsWith('/') || props.path.split('/').includes('..')) fail(`'path' ("${props.path}") must be a relative folder inside the repository`);
    for (const [prop, namespace] of [['destinationNamespace', props.destinationNamespace], ['namespace', props.namespace]] as const) {
      if (namespace !== undefined && !isDnsLabel(namespace)) fail(`'${prop}' ("${namespace}") must be a namespace name`);
    }

    const ignoreDifferences = props.ignoreRolloutManagedFields
      ? [
        // Argo Rollouts pins each Service to a ReplicaSet through this selector.
        { group: '', kind: 'Service', jqPathExpressions: ['.spec.selector["rollouts-pod-template-hash"]'] },
        // The canary's traffic weights.
        { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', jqPathExpressions: ['.spec.rules[].backendRefs[].weight'] },
        { group: 'traefik.io', kind: 'TraefikService', jqPathExpressions: ['.spec.weighted.services[].weight'] },
      ]
      : undefined;
    new Application(this, 'Resource', {
      metadata: {
        name: props.name,
        namespace: props.namespace ?? 'argocd',
        labels: props.labels ?? {},
        // Deleting the Application deletes what it deployed, rather than orphaning it.
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
      },
      spec: {
        project: props.project ?? 'default',
        source: { repoUrl: props.repoURL, targetRevision: props.targetRevision ?? 'main', path: props.path },
        destination: { server: props.destinationServer ?? 'https://kubernetes.default.svc', namespace: props.destinationNamespace },
        syncPolicy: {
          ...(props.automatedSync ? { automated: { prune: true, selfHeal: true } } : {}),
          syncOptions: ['ServerSideApply=true', ...(ignoreDifferences ? ['RespectIgnoreDifferences=true'] : [])],
        },
        ...(ignoreDifferences ? { ignoreDifferences } : {}),
      },
    });
  }
}
