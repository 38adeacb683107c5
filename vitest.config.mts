import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Several tests run the real app, kubectl and git as child processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
