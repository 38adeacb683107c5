export * from './cluster-prerequisites';
