import { describe, expect, it } from 'vitest';
import { resolveRepositoryPaths } from '../lib/repository';

describe('resolveRepositoryPaths: one rule for every command', () => {
  it('takes serving.yaml, with the registry, dist/ and packaging/ beside it', () => {
    expect(resolveRepositoryPaths({}, {})).toEqual({ fleetFile: 'serving.yaml', registryFile: 'registry.yaml', registryNamed: false, outdir: 'dist', packagingDir: 'packaging' });
  });

  it('finds the registry, dist/ and packaging/ beside a fleet file named with --config or SERVING_CONFIG', () => {
    expect(resolveRepositoryPaths({ config: '../serving.yaml' }, {})).toMatchObject({ fleetFile: '../serving.yaml', registryFile: '../registry.yaml', outdir: '../dist', packagingDir: '../packaging' });
    expect(resolveRepositoryPaths({}, { SERVING_CONFIG: 'fleets/a.yaml' })).toMatchObject({ fleetFile: 'fleets/a.yaml', registryFile: 'fleets/registry.yaml', outdir: 'fleets/dist' });
    // The flag wins over the variable.
    expect(resolveRepositoryPaths({ config: 'b.yaml' }, { SERVING_CONFIG: 'fleets/a.yaml' }).fleetFile).toBe('b.yaml');
  });

  it('takes --registry, then MODEL_REGISTRY, and --output, then CDK8S_OUTDIR; an empty variable counts as unset', () => {
    expect(resolveRepositoryPaths({ registry: 'r.yaml' }, { MODEL_REGISTRY: 'm.yaml' })).toMatchObject({ registryFile: 'r.yaml', registryNamed: true });
    expect(resolveRepositoryPaths({}, { MODEL_REGISTRY: 'm.yaml' })).toMatchObject({ registryFile: 'm.yaml', registryNamed: true });
    expect(resolveRepositoryPaths({ output: 'out' }, { CDK8S_OUTDIR: '/tmp/x' }).outdir).toBe('out');
    expect(resolveRepositoryPaths({}, { CDK8S_OUTDIR: '/tmp/x' }).outdir).toBe('/tmp/x');
    expect(resolveRepositoryPaths({}, { CDK8S_OUTDIR: '', MODEL_REGISTRY: '' })).toMatchObject({ outdir: 'dist', registryFile: 'registry.yaml', registryNamed: false });
  });
});
