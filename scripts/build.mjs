#!/usr/bin/env node
// Builds the installable library into build/: lib/ and the generated imports/ compiled to
// CommonJS with declarations (tsconfig.build.json), and the validator's schemas copied beside
// them, so build/ mirrors the source tree and every module-relative path holds in both.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'build');
const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');

fs.rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
fs.cpSync(path.join(root, 'imports', 'schemas'), path.join(out, 'imports', 'schemas'), { recursive: true });
