import fs from 'node:fs';
import path from 'node:path';

/**
 * The project's root folder (the one holding cdk8s.yaml), found upwards from `from`. Code runs
 * both from lib/ (tests, tsx) and from a bundle in .build/ (bin/run-ts.mjs), so a fixed number
 * of `..` from `__dirname` would be right in only one of them.
 */
export function projectRoot(from: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'cdk8s.yaml'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no cdk8s.yaml above ${from}; run from within the model-serving project`);
  }
}
