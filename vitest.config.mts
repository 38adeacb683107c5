import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Several tests run the real app, kubectl and git as child processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Both cores: vitest's default (cores - 1) runs one file at a time on this 2-core machine,
    // and a test waiting on its child processes would leave the other core idle.
    maxWorkers: 2,
  },
});
