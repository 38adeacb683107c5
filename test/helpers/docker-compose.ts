import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * `docker-compose -f <file> config`: Compose's own parser and validator, which needs no engine.
 * Returns the normalized file it prints, or its complaint.
 */
export function dockerComposeConfig(file: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('docker-compose', ['-f', file, 'config'], { cwd: path.dirname(file), encoding: 'utf-8' });
  if (result.error) throw new Error(`docker-compose could not run (install Debian's docker-compose): ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
