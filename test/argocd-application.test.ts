import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { ArgoCdApplication, type ArgoCdApplicationProps } from '../lib/gitops';
import { expectValid, expectValidationError, objectOf, synthObjects } from './helpers/constructs';

/**
 * The construct on its own, built with props. `argocd-applications.test.ts` checks the
 * Applications the app writes for a fleet file.
 */

const REQUIRED: ArgoCdApplicationProps = {
  name: 'serving-production',
  repoURL: 'https://git.example.com/ml/serving.git',
  path: 'dist/production',
  destinationNamespace: 'ml-production',
};

function build(props: Partial<ArgoCdApplicationProps> = {}) {
  const chart = Testing.chart();
  new ArgoCdApplication(chart, 'app', { ...REQUIRED, ...props });
  const objects = synthObjects(chart);
  return { objects, app: objectOf(objects, 'Application', props.name ?? REQUIRED.name) };
}

describe('ArgoCdApplication', () => {
  it('deploys the folder at main to the in-cluster API server, by hand, from the argocd namespace of the default project', () => {
    const { app } = build();
    expect(app.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(app.metadata).toEqual({
      name: 'serving-production',
      namespace: 'argocd',
      // Deleting the Application deletes what it deployed.
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    });
    expect(app.spec).toEqual({
      project: 'default',
      source: { repoURL: 'https://git.example.com/ml/serving.git', targetRevision: 'main', path: 'dist/production' },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'ml-production' },
      syncPolicy: { syncOptions: ['ServerSideApply=true'] },
    });
  });

  it('takes every default from the props', () => {
    const { app } = build({
      targetRevision: 'release-1.4',
      project: 'ml-platform',
      namespace: 'gitops',
      destinationServer: 'https://prod.k8s.example.com',
      labels: { 'app.kubernetes.io/part-of': 'serving' },
    });
    expect(app.metadata).toMatchObject({ namespace: 'gitops', labels: { 'app.kubernetes.io/part-of': 'serving' } });
    expect(app.spec).toMatchObject({
      project: 'ml-platform',
      source: { targetRevision: 'release-1.4' },
      destination: { server: 'https://prod.k8s.example.com', namespace: 'ml-production' },
    });
  });

  it('syncs automatically, pruning and self-healing, when asked', () => {
    expect(build({ automatedSync: true }).app.spec.syncPolicy).toEqual({ automated: { prune: true, selfHeal: true }, syncOptions: ['ServerSideApply=true'] });
  });

  it('leaves the fields Argo Rollouts rewrites during a release to it, when asked', () => {
    const { app } = build({ ignoreRolloutManagedFields: true });
    expect(app.spec.ignoreDifferences).toEqual([
      { group: '', kind: 'Service', jqPathExpressions: ['.spec.selector["rollouts-pod-template-hash"]'] },
      { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', jqPathExpressions: ['.spec.rules[].backendRefs[].weight'] },
      { group: 'traefik.io', kind: 'TraefikService', jqPathExpressions: ['.spec.weighted.services[].weight'] },
    ]);
    // Without this option Argo CD applies the ignored fields anyway on a sync.
    expect(app.spec.syncPolicy.syncOptions).toEqual(['ServerSideApply=true', 'RespectIgnoreDifferences=true']);
  });

  it('passes strict schema validation, with and without the options', () => {
    expectValid([build().app, build({ automatedSync: true, ignoreRolloutManagedFields: true, repoURL: 'git@git.example.com:ml/serving.git' }).app]);
  });

  it.each<[string, Partial<ArgoCdApplicationProps>, string]>([
    ['a name that is no DNS label', { name: 'Serving_Production' }, '\'name\' ("Serving_Production") must be a DNS-1123 label'],
    ['a repository that is no URL', { repoURL: 'git.example.com/ml/serving' }, '\'repoURL\' ("git.example.com/ml/serving") must be an https, ssh or git@ repository URL'],
    ['a destination server that is no http(s) URL', { destinationServer: 'kubernetes.default.svc' }, '\'destinationServer\' ("kubernetes.default.svc") must be the http(s) URL of a cluster\'s API server, such as "https://kubernetes.default.svc"'],
    ['an absolute path', { path: '/dist/production' }, '\'path\' ("/dist/production") must be a relative folder inside the repository'],
    ['a path out of the repository', { path: 'dist/../../secrets' }, '\'path\' ("dist/../../secrets") must be a relative folder'],
    ['a destination namespace that is no namespace name', { destinationNamespace: 'ML' }, '\'destinationNamespace\' ("ML") must be a namespace name'],
    ['an Argo CD namespace that is no namespace name', { namespace: 'argo cd' }, '\'namespace\' ("argo cd") must be a namespace name'],
  ])('refuses %s', (_name, props, detail) => {
    expectValidationError(() => build(props), 'ArgoCdApplication.InvalidProps', 'test/app', detail);
  });
});
