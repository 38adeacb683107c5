export * from './argocd-application';
