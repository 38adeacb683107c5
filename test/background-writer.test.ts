import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackgroundWriter } from '../lib/private/background-writer';
import { tempDir } from './helpers/app';

describe('BackgroundWriter', () => {
  it('has every file on disk, byte for byte, when finish() returns', () => {
    const dir = tempDir();
    const writer = new BackgroundWriter();
    const files = Array.from({ length: 700 }, (_, i) => [path.join(dir, `f${i}.yaml`), `${'ü'.repeat(i % 50)}line ${i}\n`] as const);
    for (const [file, data] of files) writer.write(file, data);
    writer.finish();
    for (const [file, data] of files) expect(fs.readFileSync(file, 'utf-8')).toBe(data);
  });

  it('throws the first write error, naming the file', () => {
    const dir = tempDir();
    const writer = new BackgroundWriter();
    writer.write(path.join(dir, 'ok.yaml'), 'a\n');
    writer.write(path.join(dir, 'missing', 'no.yaml'), 'b\n');
    expect(() => {
      for (let i = 0; i < 600; i++) writer.write(path.join(dir, `later-${i}.yaml`), 'c\n');
      writer.finish();
    }).toThrow(/ENOENT.*missing\/no\.yaml/);
  });
});
