import { describe, expect, it } from 'vitest';
import { runMutationProperty, runRepositoryProperty } from './helpers/fleet-properties';

// Property-based tests on a fixed seed (npm run fuzz runs them long, from any seed, and reports):
// - fleets and registries generated from the schema's own bounds are refused with a located error,
//   or synthesize output that passes strict validation and the policy suite;
// - the fixture files, mutated as hands, editors and tools do (types, lines, indentation, tabs,
//   aliases, tags, documents, encodings), load to a user error or to output that synthesizes.

const SEED = 21;

describe('generated repositories', () => {
  it('are refused with located errors, or synthesize valid output that passes the policy suite', () => {
    const stats = runRepositoryProperty({ seed: SEED, runs: 24 });
    console.info(`generated repositories: ${stats.generated} (${stats.accepted} accepted and valid, ${stats.refused} refused with located errors)`);
    expect(stats.generated).toBe(24);
    // The seed exercises both outcomes.
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.refused).toBeGreaterThan(0);
  }, 120_000);
});

describe('mutated fleet files and registries', () => {
  it('load to a user error or synthesize; never a crash', () => {
    const stats = runMutationProperty({ seed: SEED, runs: 80 });
    console.info(`mutated files: ${stats.generated} (${stats.accepted} still valid, ${stats.refused} refused with user errors)`);
    expect(stats.generated).toBe(80);
    expect(stats.refused).toBeGreaterThan(0);
  }, 120_000);
});
