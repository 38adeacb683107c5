export * from './model-network-policy';
export * from './namespace-guardrails';
