import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, readTree, synthToTemp } from './helpers/app';

describe('the committed dist/', () => {
  it('is exactly what the default fleet synthesizes (run "npm run synth" and commit dist/ if this fails)', () => {
    const fresh = readTree(synthToTemp());
    // Packaging Jobs come from "model package", not from the fleet file.
    const committed = Object.fromEntries(Object.entries(readTree(path.join(REPO_ROOT, 'dist'))).filter(([file]) => !file.startsWith('packaging/')));
    expect(Object.keys(committed)).toEqual(Object.keys(fresh));
    for (const file of Object.keys(fresh)) {
      expect(committed[file], `dist/${file} is stale`).toBe(fresh[file]);
    }
  });
});
