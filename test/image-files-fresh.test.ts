import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFleet } from '../lib/fleet';
import { GENERATED_MARKER, SERVING_IMAGES_DIR, defineServingImages, renderServingImageFiles } from '../lib/image';
import { DEFAULT_FLEET, REPO_ROOT } from './helpers/app';

/** The generated image files in the repository: the ones that start with the generated marker. */
function committedImageFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (relative: string) => {
    const file = path.join(REPO_ROOT, relative);
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf-8').startsWith(GENERATED_MARKER)) out[relative] = fs.readFileSync(file, 'utf-8');
  };
  add('.dockerignore');
  const dir = path.join(REPO_ROOT, SERVING_IMAGES_DIR);
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    for (const file of ['Dockerfile', 'requirements.txt']) add(`${SERVING_IMAGES_DIR}/${name}/${file}`);
  }
  return out;
}

describe('the committed serving image files', () => {
  it('are exactly what the default fleet defines (run "model-serving image" and commit if this fails)', () => {
    const fleet = loadFleet(DEFAULT_FLEET);
    const fresh = Object.fromEntries(renderServingImageFiles(defineServingImages({ fleet, fleetFile: DEFAULT_FLEET }), path.basename(DEFAULT_FLEET)).map((f) => [f.path, f.content]));
    const committed = committedImageFiles();
    // A fleet without servingImages defines no file, and none may be left behind.
    expect(Object.keys(committed).sort()).toEqual(Object.keys(fresh).sort());
    for (const file of Object.keys(fresh)) expect(committed[file], `${file} is stale`).toBe(fresh[file]);
  });
});
