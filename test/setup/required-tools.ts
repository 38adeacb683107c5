import { spawnSync } from 'node:child_process';

/**
 * The tools the tests run for real (README "Set up"; .ci/run installs them). Checked once before
 * any test, so a machine without one gets one line naming it and how to install it, instead of
 * dozens of failures deep in the suite. A missing tool is never a skipped test.
 */
const TOOLS: ReadonlyArray<{ command: string; args: string[]; install: string }> = [
  { command: 'kubectl', args: ['version', '--client'], install: 'kubectl (with its built-in Kustomize): https://kubernetes.io/docs/tasks/tools/' },
  { command: 'promtool', args: ['--version'], install: 'promtool: apt-get install prometheus (Debian)' },
  { command: 'docker-compose', args: ['version'], install: 'docker-compose: apt-get install docker-compose (Debian); no engine is needed' },
];

export default function requiredTools(): void {
  const missing = TOOLS.filter((tool) => spawnSync(tool.command, tool.args, { stdio: 'ignore' }).error !== undefined);
  if (missing.length > 0) {
    throw new Error(`the tests run these tools and they are not on PATH:\n${missing.map((tool) => `  - ${tool.install}`).join('\n')}`);
  }
}
