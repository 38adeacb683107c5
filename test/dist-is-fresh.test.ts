import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, readTree, synthToTemp } from './helpers/app';

describe('the committed dist/', () => {
  it('is exactly what the default fleet synthesizes (run "npm run synth" and commit dist/ if this fails)', () => {
    const fresh = readTree(synthToTemp());
    const committed = readTree(path.join(REPO_ROOT, 'dist'));
    expect(Object.keys(committed)).toEqual(Object.keys(fresh));
    for (const file of Object.keys(fresh)) {
      expect(committed[file], `dist/${file} is stale`).toBe(fresh[file]);
    }
  });
});
