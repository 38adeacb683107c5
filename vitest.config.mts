import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // kubectl, promtool and docker-compose present, or one clear error before any test runs.
    globalSetup: ['test/setup/required-tools.ts'],
    // Several tests run the real app, kubectl and git as child processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Both cores: vitest's default (cores - 1) runs one file at a time on this 2-core machine,
    // and a test waiting on its child processes would leave the other core idle.
    maxWorkers: 2,
    // A worker keeps the modules it loaded from one test file to the next: importing lib/ and the
    // generated imports/ again for each of 70-odd files cost about 40 s of a 150 s run. No test
    // mocks modules, changes the working directory or leaves process state behind (tempDir's one
    // exit handler is per worker); each test builds its own apps and folders.
    isolate: false,
  },
});
