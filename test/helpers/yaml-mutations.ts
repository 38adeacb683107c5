import fc from 'fast-check';

// Mutations of a YAML file's text as hands, editors and tools make them: a value of another type,
// a line lost or doubled, indentation off by a space or a tab, YAML features the loaders refuse
// (anchors, aliases and alias bombs, tags, merge keys, directives, more documents), and other
// encodings (a byte order mark, UTF-16, Latin-1, stray bytes, control characters, truncation).

/** One mutation: its name (for the report) and the file's bytes after it. */
export interface Mutation {
  readonly name: string;
  apply(text: string): string | Buffer;
}

/** Values of every YAML type, and the syntax a value can go wrong with. */
const REPLACEMENT_VALUES = [
  '[]', '{}', '[a, b]', '{a: 1}', 'null', '~', 'true', 'no', '.nan', '-.inf', '.Inf', '0x1F', '0o17', '1e400', '-1', '0', '1.5',
  '"quoted"', "'single'", '123456789012345678901234567890', '!!binary aGk=', '!!timestamp 2001-12-14', '!custom x', '*nowhere', '&anchor value',
  '|\n  block', '>\n  folded', '"unterminated', '[unclosed', '{a: }', ': x', '- item', '@reserved', '`backtick', '%percent', 'a: b: c', '""', "''",
  `"${'x'.repeat(2000)}"`, '"\\u0000"', '"line\\nbreak"', 'ſtrange', '✓', '"\\uD800"',
];

const SYNTAX_CHARACTERS = [':', '-', '[', ']', '{', '}', '"', "'", '#', '&', '*', '!', '|', '>', '%', '@', '`', ',', '?', '\t', '\\', ' '];

const lines = (text: string) => text.split('\n');

/** A line index of `text`, chosen by `pick`: any line, not only the first ones. */
const lineAt = (text: string, pick: number) => pick % lines(text).length;

function onLine(text: string, pick: number, edit: (line: string) => string | string[]): string {
  const all = lines(text);
  const index = lineAt(text, pick);
  const edited = edit(all[index]);
  all.splice(index, 1, ...(Array.isArray(edited) ? edited : [edited]));
  return all.join('\n');
}

/** The mutations, each drawn with its own random choices. */
export function mutation(): fc.Arbitrary<Mutation> {
  // An index into the lines or bytes of the file, taken modulo its length.
  const pick = fc.nat({ max: 1_000_000 });
  return fc.oneof(
    fc.tuple(pick, fc.constantFrom(...REPLACEMENT_VALUES)).map(([at, value]): Mutation => ({
      name: 'value of another type',
      apply: (text) => onLine(text, at, (line) => (/^(\s*-?\s*[^\s#:][^:#]*):\s*\S/.test(line) ? line.replace(/^(\s*-?\s*[^\s#:][^:#]*):\s*.*$/, `$1: ${value}`) : line)),
    })),
    pick.map((at): Mutation => ({ name: 'line deleted', apply: (text) => onLine(text, at, () => []) })),
    pick.map((at): Mutation => ({ name: 'line duplicated', apply: (text) => onLine(text, at, (line) => [line, line]) })),
    fc.tuple(pick, fc.constantFrom(' ', '\t', '  \t', 'unindent')).map(([at, indent]): Mutation => ({
      name: indent === 'unindent' ? 'line unindented' : indent === ' ' ? 'indentation off by one' : 'tab in the indentation',
      apply: (text) => onLine(text, at, (line) => (indent === 'unindent' ? line.replace(/^ {1,2}/, '') : `${indent}${line}`)),
    })),
    fc.tuple(pick, pick).map(([a, b]): Mutation => ({
      name: 'anchor and alias',
      apply: (text) => {
        let anchored = onLine(text, a, (line) => line.replace(/^(\s*-?\s*[^\s#:][^:#]*):(\s+)(\S)/, '$1:$2&shared $3'));
        anchored = onLine(anchored, b, (line) => line.replace(/^(\s*-?\s*[^\s#:][^:#]*):\s+\S.*$/, '$1: *shared'));
        return anchored;
      },
    })),
    fc.constant<Mutation>({
      name: 'alias bomb',
      apply: (text) => `${text}\nbomb0: &b0 [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `bomb${i + 1}: &b${i + 1} [${Array(10).fill(`*b${i}`).join(', ')}]`).join('\n')}\n`,
    }),
    fc.tuple(pick, fc.constantFrom('<<: *nowhere', '<<: {a: 1}', '? [complex, key]\n  : value', '!!set {a, b}: x')).map(([at, entry]): Mutation => ({
      name: 'merge key or complex key',
      apply: (text) => onLine(text, at, (line) => {
        const indent = /^\s*/.exec(line)?.[0] ?? '';
        return [line, ...entry.split('\n').map((l) => `${indent}${l}`)];
      }),
    })),
    fc.constantFrom<Mutation>(
      { name: 'second document', apply: (text) => `${text}\n---\nname: other\n` },
      { name: 'YAML 1.1 directive', apply: (text) => `%YAML 1.1\n---\n${text}` },
      { name: 'tag directive', apply: (text) => `%TAG !e! tag:example.com,2000:\n---\n${text}` },
      { name: 'byte order mark', apply: (text) => `\uFEFF${text}` },
      { name: 'UTF-16 with BOM', apply: (text) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]) },
      { name: 'UTF-16 without BOM', apply: (text) => Buffer.from(text, 'utf16le') },
      { name: 'UTF-16BE with BOM', apply: (text) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]) },
      { name: 'Latin-1 with an accent', apply: (text) => Buffer.from(text.replace(/(#[^\n]*)/, '$1 café'), 'latin1') },
      { name: 'empty file', apply: () => '' },
      { name: 'only a comment', apply: () => '# nothing here\n' },
      { name: 'Windows line endings', apply: (text) => text.replace(/\n/g, '\r\n') },
      { name: 'old Mac line endings', apply: (text) => text.replace(/\n/g, '\r') },
    ),
    fc.tuple(pick, fc.constantFrom(0xff, 0xc3, 0x80, 0xed, 0x00, 0x07, 0x1b, 0x7f)).map(([at, byte]): Mutation => ({
      name: byte < 0x20 || byte === 0x7f ? 'control character' : 'byte that is not UTF-8',
      apply: (text) => {
        const bytes = Buffer.from(text);
        const offset = at % (bytes.length + 1);
        return Buffer.concat([bytes.subarray(0, offset), Buffer.from([byte]), bytes.subarray(offset)]);
      },
    })),
    pick.map((at): Mutation => ({ name: 'truncated', apply: (text) => text.slice(0, at % (text.length + 1)) })),
    fc.tuple(pick, fc.constantFrom(...SYNTAX_CHARACTERS)).map(([at, character]): Mutation => ({
      name: 'stray syntax character',
      apply: (text) => {
        const offset = at % (text.length + 1);
        return text.slice(0, offset) + character + text.slice(offset);
      },
    })),
  );
}

/** One to three mutations, applied in order (encodings last, since they produce bytes). */
export function mutations(): fc.Arbitrary<Mutation[]> {
  return fc.array(mutation(), { minLength: 1, maxLength: 3 });
}

/** `text` after `applied`, as the file's bytes; a mutation that produces bytes ends the chain. */
export function mutate(text: string, applied: readonly Mutation[]): Buffer {
  let current: string | Buffer = text;
  for (const m of applied) {
    if (typeof current !== 'string') break;
    current = m.apply(current);
  }
  return typeof current === 'string' ? Buffer.from(current) : current;
}
