// Filesystem floor for the synth benchmark: plain node writing the same files a synth wrote (the
// same relative paths, so the same folders and count, and the same sizes) into a fresh folder,
// with nothing else to do. Shows how much of a large synth is writing files alone.
//
//   node scripts/bench/write-files.mjs DIR LISTING.json
//
// LISTING.json is [[relativePath, bytes], ...], as scripts/bench.mjs records it from a synth's output.
import fs from 'node:fs';
import path from 'node:path';

const [dir, listingFile] = process.argv.slice(2);
if (!dir || !listingFile) {
  console.error('usage: node scripts/bench/write-files.mjs DIR LISTING.json');
  process.exit(2);
}
const listing = JSON.parse(fs.readFileSync(listingFile, 'utf8'));
// Contents prepared before the clock matters as little as possible: one buffer, sliced per size.
const largest = listing.reduce((max, [, bytes]) => Math.max(max, bytes), 0);
const body = Buffer.alloc(largest, 'x');
const folders = new Set(listing.map(([file]) => path.dirname(file)));
for (const folder of folders) fs.mkdirSync(path.join(dir, folder), { recursive: true });
for (const [file, bytes] of listing) {
  fs.writeFileSync(path.join(dir, file), body.subarray(0, bytes));
}
