import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/app';

// A team changes serving.yaml, registry.yaml, dist/ and packaging/ release after release, so no
// test but test/user-repository.test.ts (which asserts only what holds for any fleet) may read
// them: every other test works on fixtures under test/ and temporary folders.
const USER_FILES = /REPO_ROOT,\s*'(serving\.yaml|registry\.yaml|dist|packaging|handlers)'|cwd:\s*REPO_ROOT[^\n]*['"](synth|check|deploy|model|diff|compose|validate)['"]/;

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === '__snapshots__' ? [] : testFiles(file);
    return /\.(ts|mts)$/.test(entry.name) ? [file] : [];
  });
}

describe('the self-tests', () => {
  it("never read the repository's own fleet file, registry or output, except the user-repository invariants", () => {
    const offenders = testFiles(path.join(REPO_ROOT, 'test'))
      .filter((file) => path.basename(file) !== 'user-repository.test.ts' && path.basename(file) !== 'self-tests-apart.test.ts')
      .filter((file) => USER_FILES.test(fs.readFileSync(file, 'utf-8')))
      .map((file) => path.relative(REPO_ROOT, file));
    expect(offenders).toEqual([]);
  });

  it('catch such a read', () => {
    expect(USER_FILES.test("const registry = fs.readFileSync(path.join(REPO_ROOT, 'registry.yaml'));")).toBe(true);
    expect(USER_FILES.test("validateDirectory(path.join(REPO_ROOT, 'dist'))")).toBe(true);
  });
});
