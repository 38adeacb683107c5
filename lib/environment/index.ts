export * from './environment-chart';
