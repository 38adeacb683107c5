// The long run of the property tests: `npm run fuzz [-- --fleets N] [--mutations N] [--seed S]`.
//
// npm test runs the same properties on a fixed seed and a few dozen cases (test/generated-fleets.test.ts);
// this runs many more, from a random seed unless one is given, and prints what it found: how many
// repositories were generated, accepted (synthesized, validated, policy-checked) and refused, the
// rules that refused them, and the seed to replay a failure with.
import { parseArgs } from 'node:util';
import { newMutationStats, newStats, runMutationProperty, runRepositoryProperty } from '../test/helpers/fleet-properties';

const { values } = parseArgs({
  options: {
    fleets: { type: 'string', default: '500' },
    mutations: { type: 'string', default: '2000' },
    seed: { type: 'string' },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const fleets = Number(values.fleets);
const mutationRuns = Number(values.mutations);
console.log(`seed ${seed}: ${fleets} generated repositories, ${mutationRuns} mutated files (replay with --seed ${seed})`);

let failed = false;
const started = Date.now();
const stats = newStats();
try {
  runRepositoryProperty({ seed, runs: fleets }, stats);
} catch (error) {
  failed = true;
  console.log(`\nFAILED: generated repositories\n${(error as Error).message}`);
}
const fleetSeconds = (Date.now() - started) / 1000;
console.log(`\ngenerated repositories: ${stats.generated} (${stats.accepted} accepted: synthesized, valid, no policy violation; ${stats.refused} refused with located errors) in ${fleetSeconds.toFixed(0)} s`);
for (const [reason, count] of [...stats.reasons].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${String(count).padStart(5)}  ${reason}`);

const mutationStarted = Date.now();
const mutationStats = newMutationStats();
try {
  runMutationProperty({ seed, runs: mutationRuns }, mutationStats);
} catch (error) {
  failed = true;
  console.log(`\nFAILED: mutated files\n${(error as Error).message}`);
}
const mutationSeconds = (Date.now() - mutationStarted) / 1000;
console.log(`\nmutated files: ${mutationStats.generated} (${mutationStats.accepted} still valid and synthesized, ${mutationStats.refused} refused with user errors) in ${mutationSeconds.toFixed(0)} s`);
const byKind = new Map<string, number>();
for (const [label, count] of mutationStats.byMutation) {
  for (const kind of label.replace(/^[^:]+: /, '').split(' + ')) byKind.set(kind, (byKind.get(kind) ?? 0) + count);
}
for (const [kind, count] of [...byKind].sort((a, b) => b[1] - a[1])) console.log(`  ${String(count).padStart(5)}  ${kind}`);
process.exitCode = failed ? 1 : 0;
