// Filesystem floor for the synth benchmark: creates as many files, of the same average size, as
// a synth wrote, with nothing else to do. Shows how much of a large synth is file creation alone.
//
//   node scripts/bench/write-files.mjs DIR FILES BYTES_PER_FILE [SUBFOLDERS]
import fs from 'node:fs';
import path from 'node:path';

const [dir, filesArg, bytesArg, foldersArg = '1'] = process.argv.slice(2);
const files = Number(filesArg);
const bytes = Number(bytesArg);
const folders = Math.max(1, Number(foldersArg));
if (!dir || !Number.isInteger(files) || files < 0 || !Number.isInteger(bytes) || bytes < 0) {
  console.error('usage: node scripts/bench/write-files.mjs DIR FILES BYTES_PER_FILE [SUBFOLDERS]');
  process.exit(2);
}
const body = `${'x'.repeat(Math.max(0, bytes - 1))}\n`;
const subdirs = Array.from({ length: folders }, (_, i) => path.join(dir, `folder-${i}`));
for (const sub of subdirs) fs.mkdirSync(sub, { recursive: true });
for (let i = 0; i < files; i += 1) {
  fs.writeFileSync(path.join(subdirs[i % folders], `file-${String(i).padStart(5, '0')}.yaml`), body);
}
