import { Construct } from 'constructs';
import { Application } from '../../imports/application-argoproj.io';
import { isDnsLabel } from '../private/names';
import { httpUrlProblem } from '../private/url';
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

/** What an {@link ArgoCdApplication} uses for an optional prop left out; the fleet file leaves them out too. */
export const ARGOCD_DEFAULTS = {
  targetRevision: 'main',
  project: 'default',
  namespace: 'argocd',
  // The cluster Argo CD runs in.
  destinationServer: 'https://kubernetes.default.svc',
} as const;

/** Why `url` cannot be the repository an Application reads, or `undefined`. The fleet file and the construct follow it. Completes "got <url>; ...". */
export function repoUrlProblem(url: string): string | undefined {
  return /^(https?|ssh):\/\/\S+$|^git@\S+:\S+$/.test(url) ? undefined : 'must be an https, ssh or git@ repository URL';
}

/** Why `url` cannot be the API server an Application deploys to, or `undefined`. The fleet file and the construct follow it. Completes "got <url>; ...". */
export function destinationServerProblem(url: string): string | undefined {
  return httpUrlProblem(url, `the http(s) URL of a cluster's API server, such as "${ARGOCD_DEFAULTS.destinationServer}"`);
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
  /** @default ARGOCD_DEFAULTS.targetRevision ('main') */
  readonly targetRevision?: string;
  /** @default ARGOCD_DEFAULTS.project ('default') */
  readonly project?: string;
  /** Where Argo CD runs. @default ARGOCD_DEFAULTS.namespace ('argocd') */
  readonly namespace?: string;
  /** @default ARGOCD_DEFAULTS.destinationServer ('https://kubernetes.default.svc', the cluster Argo CD runs in) */
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
    const repoIssue = repoUrlProblem(props.repoURL);
    if (repoIssue) fail(`'repoURL' ("${props.repoURL}") ${repoIssue}`);
    const serverIssue = props.destinationServer === undefined ? undefined : destinationServerProblem(props.destinationServer);
    if (serverIssue) fail(`'destinationServer' ("${props.destinationServer}") ${serverIssue}`);
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
        namespace: props.namespace ?? ARGOCD_DEFAULTS.namespace,
        labels: props.labels ?? {},
        // Deleting the Application deletes what it deployed, rather than orphaning it.
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
      },
      spec: {
        project: props.project ?? ARGOCD_DEFAULTS.project,
        source: { repoUrl: props.repoURL, targetRevision: props.targetRevision ?? ARGOCD_DEFAULTS.targetRevision, path: props.path },
        destination: { server: props.destinationServer ?? ARGOCD_DEFAULTS.destinationServer, namespace: props.destinationNamespace },
        syncPolicy: {
          ...(props.automatedSync ? { automated: { prune: true, selfHeal: true } } : {}),
          syncOptions: ['ServerSideApply=true', ...(ignoreDifferences ? ['RespectIgnoreDifferences=true'] : [])],
        },
        ...(ignoreDifferences ? { ignoreDifferences } : {}),
      },
    });
  }
}
