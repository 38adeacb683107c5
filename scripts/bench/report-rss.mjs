// Preload for the synth benchmark: records the process's peak resident set size.
//
//   BENCH_RSS_FILE=/tmp/rss node --import ./scripts/bench/report-rss.mjs bin/run-ts.mjs main.ts
//
// On exit, writes process.resourceUsage().maxRSS (kilobytes) to $BENCH_RSS_FILE.
// Does nothing when BENCH_RSS_FILE is unset, so the app itself is unchanged.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      writeFileSync(file, `${process.resourceUsage().maxRSS}\n`);
    } catch {
      // Never change the app's exit status because of the benchmark.
    }
  });
}
