import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { tempDir } from './app';

/**
 * Checks that every PromQL expression parses, with the real promtool: each becomes a recording
 * rule in a temporary rules file, and `promtool check rules` must accept the file. Throws with
 * promtool's output otherwise (and when promtool is missing: CI installs it, see .ci/run).
 */
export function checkPromqlParses(expressions: string[]): void {
  const file = path.join(tempDir('promql-'), 'rules.yaml');
  const rules = expressions.map((expr, i) => ({ record: `model_serving:query_check_${i}`, expr }));
  fs.writeFileSync(file, stringify({ groups: [{ name: 'query-checks', rules }] }, { lineWidth: 0 }));
  try {
    execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf-8', stdio: 'pipe' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool rejected a query:\n${e.stdout ?? ''}${e.stderr ?? e.message}\n${fs.readFileSync(file, 'utf-8')}`);
  }
}
