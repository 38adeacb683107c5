import fs from 'node:fs';
import { type Document, LineCounter, type Node, type Pair, type YAMLError, isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments } from 'yaml';
import { formatFieldPath } from './yaml-problems';

// The fleet file and the registry are hand-written, reviewed, and edited in place by the CLI. They
// are read here, and everything YAML allows beyond plain mappings, lists and scalars is refused
// with its line, before any schema looks at the values:
// - anchors and aliases (and so alias bombs): a reviewed one-line change must change one field, a
//   command that edits a field must not change others through an alias, and every error must point
//   at the line that holds the value;
// - merge keys ("<<"), which YAML 1.2 does not have, and tags other than the core ones (!!binary,
//   !!timestamp, custom tags), which would turn a value into something no field takes;
// - a %YAML directive other than 1.2, which would change how yes/no, dates and "<<" read;
// - text that is not UTF-8, and control characters, which YAML does not allow unescaped.
// Syntax errors are reported one per real problem: a tab that indents a line is one problem,
// not the dozen that follow from the mis-indented lines after it.

/** One problem, located where possible. */
export interface YamlSourceProblem {
  /** The field path, e.g. `environments.staging.replicas`; `''` for the file as a whole. */
  readonly path: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** A YAML document that may be given to a schema. */
export interface YamlSource {
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
  /** The document as plain data. */
  readonly value: unknown;
}

/** What a reader says about the file, in its own words. */
export interface YamlFileWording {
  /** The file's role, e.g. "fleet file" or "registry". */
  readonly kind: string;
  /** Completes "<file>: ..." for a file with no content. */
  readonly empty: string;
}

/** The file's problems, or the document. */
export type YamlReadResult = { readonly source: YamlSource; readonly problems?: undefined } | { readonly source?: undefined; readonly problems: readonly YamlSourceProblem[] };

/** The core schema's tags, which only say what the value already is (`!!str 1.0`). */
const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/** Nesting deeper than this is no configuration file; it would only exhaust the stack. */
const MAX_DEPTH = 64;

/**
 * The text of a YAML file that exists (`stat` is its stat): a regular file of at most
 * `maxBytes` (`tooLarge` completes "is <n> bytes; ..."), readable, and UTF-8; else the problem.
 * The callers decide what a missing file means.
 */
export function readYamlFileText(file: string, stat: fs.Stats, kind: string, maxBytes: number, tooLarge: string): ReturnType<typeof decodeYamlBytes> {
  if (!stat.isFile()) return { problem: { path: '', message: 'is not a file' } };
  if (stat.size > maxBytes) return { problem: { path: '', message: `is ${stat.size} bytes; ${tooLarge}` } };
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    return { problem: { path: '', message: `cannot be read: ${(error as Error).message}` } };
  }
  return decodeYamlBytes(bytes, kind);
}

/**
 * Decodes a file's bytes as UTF-8. A UTF-16 or UTF-32 file, or bytes that are not UTF-8, are a
 * problem naming the line; a UTF-8 byte order mark is fine.
 */
export function decodeYamlBytes(bytes: Uint8Array, kind: string): { text: string; problem?: undefined } | { text?: undefined; problem: YamlSourceProblem } {
  const starts = (...prefix: number[]) => prefix.every((b, i) => bytes[i] === b);
  const utf = starts(0x00, 0x00, 0xfe, 0xff) || starts(0xff, 0xfe, 0x00, 0x00) ? 'UTF-32' : starts(0xfe, 0xff) || starts(0xff, 0xfe) ? 'UTF-16' : undefined;
  if (utf) return { problem: { path: '', message: `is ${utf} text; save the ${kind} as UTF-8` } };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    // Find the first line that does not decode, and the character in it.
    let start = 0;
    let line = 1;
    for (;;) {
      const newline = bytes.indexOf(0x0a, start);
      const end = newline === -1 ? bytes.length : newline;
      const slice = bytes.subarray(start, end);
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(slice);
      } catch {
        const column = new TextDecoder('utf-8').decode(slice).indexOf('\uFFFD') + 1;
        return { problem: { path: '', line, column: Math.max(column, 1), message: `is not UTF-8 text here; save the ${kind} as UTF-8` } };
      }
      if (newline === -1) return { problem: { path: '', message: `is not UTF-8 text; save the ${kind} as UTF-8` } };
      start = newline + 1;
      line += 1;
    }
  }
}

/**
 * Parses `text` as exactly one YAML document of plain mappings, lists and scalars. Every problem
 * is located and reported once; see the file comment for what is refused and why.
 */
export function readYamlDocument(text: string, wording: YamlFileWording): YamlReadResult {
  const control = controlCharacter(text) ?? loneCarriageReturn(text);
  if (control) return { problems: [control] };
  const lineCounter = new LineCounter();
  // "1" and 1 are one key once the file is data, so they count as a duplicate.
  const sameKey = (a: unknown, b: unknown): boolean => isScalar(a) && isScalar(b) && String(a.value) === String(b.value);
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: sameKey, prettyErrors: false });
  const documents = Array.isArray(parsed) ? parsed : [];
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };

  const syntax = documents.flatMap((doc) => syntaxProblems(doc, at));
  if (syntax.length > 0) return { problems: syntax };

  const nonEmpty = documents.filter((doc) => doc.contents !== null);
  if (nonEmpty.length === 0) return { problems: [{ path: '', message: wording.empty }] };
  if (nonEmpty.length > 1) {
    const second = nonEmpty[1].contents?.range?.[0];
    return { problems: [{ path: '', ...(second === undefined ? {} : at(second)), message: `holds ${nonEmpty.length} YAML documents; a ${wording.kind} is exactly one document (remove the "---" line and what follows, or merge them)` }] };
  }
  const doc = nonEmpty[0];
  const problems: YamlSourceProblem[] = [];
  if (doc.directives?.yaml.explicit && doc.directives.yaml.version !== '1.2') {
    problems.push({ path: '', line: 1, column: 1, message: `starts with "%YAML ${doc.directives.yaml.version}", which changes how values read (yes/no as booleans, dates, "<<"); remove the directive: the ${wording.kind} is YAML 1.2` });
  }
  problems.push(...structureProblems(doc, text, wording, at));
  if (problems.length > 0) return { problems };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (error) {
    return { problems: [{ path: '', message: `cannot be read as YAML data: ${(error as Error).message}` }] };
  }
  return { source: { doc, lineCounter, value } };
}

/** The first character YAML does not allow unescaped (C0 and C1 controls other than tab and line breaks). */
function controlCharacter(text: string): YamlSourceProblem | undefined {
  // eslint-disable-next-line no-control-regex
  const match = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\uFFFE\uFFFF]/.exec(text);
  if (!match) return undefined;
  const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  const before = text.slice(0, match.index);
  const line = before.split('\n').length;
  const column = match.index - (before.lastIndexOf('\n') + 1) + 1;
  return { path: '', line, column, message: `holds the control character U+${code}, which YAML does not allow; remove it${code === '0000' ? ' (a file with NUL bytes is usually UTF-16: save it as UTF-8)' : ''}` };
}

/** Old Mac line endings: YAML reads a lone CR as no line break, so the whole file would be one line. */
function loneCarriageReturn(text: string): YamlSourceProblem | undefined {
  const match = /\r(?!\n)/.exec(text);
  if (!match) return undefined;
  const line = text.slice(0, match.index).split('\n').length;
  return { path: '', line, column: match.index - (text.lastIndexOf('\n', match.index - 1) + 1) + 1, message: 'ends a line with a carriage return alone (old Mac line endings); save the file with LF or CRLF line endings' };
}

/** A document's syntax errors, one per real problem. */
function syntaxProblems(doc: Document.Parsed, at: (offset: number) => { line: number; column: number }): YamlSourceProblem[] {
  const errors = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0]);
  if (errors.length === 0) return [];
  const tabs = errors.filter((e) => e.code === 'TAB_AS_INDENT');
  const firstTab = tabs[0]?.pos[0] ?? Infinity;
  // After a tab or any other structural error, the parser reads the following lines at the wrong
  // depth: what it reports there follows from the first error. Tabs and duplicate keys before
  // that point are problems of their own.
  const firstOther = errors.find((e) => e.code !== 'TAB_AS_INDENT' && e.code !== 'DUPLICATE_KEY');
  const cutoff = Math.min(firstTab, firstOther?.pos[0] ?? Infinity);
  const kept: YAMLError[] = [
    ...errors.filter((e) => e.code === 'DUPLICATE_KEY' && e.pos[0] < cutoff),
    ...(firstOther && firstOther.pos[0] < firstTab ? [firstOther] : []),
    ...tabs,
  ];
  const seenLines = new Set<string>();
  const problems: YamlSourceProblem[] = [];
  for (const error of kept.sort((a, b) => a.pos[0] - b.pos[0])) {
    const where = at(error.pos[0]);
    const id = `${error.code}:${where.line}`;
    if (seenLines.has(id)) continue;
    seenLines.add(id);
    if (error.code === 'DUPLICATE_KEY') {
      problems.push(duplicateKeyProblem(doc, error.pos[0], at) ?? { path: '', ...where, message: 'is a duplicate key; each key may appear once in a mapping' });
    } else if (error.code === 'TAB_AS_INDENT') {
      problems.push({ path: '', ...where, message: 'a tab indents this line; YAML indents with spaces only: replace the tab with spaces' });
    } else {
      problems.push({ path: '', ...where, message: `not valid YAML: ${describeSyntaxError(error)}` });
    }
  }
  return problems;
}

function describeSyntaxError(error: YAMLError): string {
  const message = error.message.split('\n')[0];
  switch (error.code) {
    case 'BAD_INDENT':
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return `${message}; check the indentation of this line and the next, and quote a value that holds ": "`;
    case 'RESOURCE_EXHAUSTION':
      return 'nested too deeply to read';
    default:
      return message;
  }
}

/** The duplicate key at `offset`: its field path, and the line of its first occurrence. */
function duplicateKeyProblem(doc: Document.Parsed, offset: number, at: (offset: number) => { line: number; column: number }): YamlSourceProblem | undefined {
  let found: YamlSourceProblem | undefined;
  walk(doc.contents, [], (node, path) => {
    if (found || !isMap(node)) return;
    const index = node.items.findIndex((pair) => isScalar(pair.key) && pair.key.range?.[0] === offset);
    if (index === -1) return;
    const key = node.items[index].key as Node & { value: unknown };
    const first = node.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === String(key.value));
    const firstLine = first && isScalar(first.key) && first.key.range ? at(first.key.range[0]).line : undefined;
    found = {
      path: formatFieldPath([...path, String(key.value)]),
      ...at(offset),
      message: `duplicate key "${String(key.value)}"${firstLine !== undefined ? `: line ${firstLine} sets it already` : ''}; YAML would keep only one of the two values, so remove one`,
    };
  });
  return found;
}

/** Anchors and aliases, merge keys, tags, keys that are not scalars, and nesting too deep. */
function structureProblems(doc: Document.Parsed, text: string, wording: YamlFileWording, at: (offset: number) => { line: number; column: number }): YamlSourceProblem[] {
  const problems: { offset: number; problem: YamlSourceProblem }[] = [];
  const add = (offset: number | undefined, path: readonly (string | number)[], message: string) => {
    problems.push({ offset: offset ?? 0, problem: { path: formatFieldPath(path), ...(offset === undefined ? {} : at(offset)), message } });
  };
  // Anchors by name, in file order, with the lines of the aliases that use them.
  const anchors = new Map<string, { offset?: number; path: (string | number)[]; uses: number[] }>();
  let tooDeep = false;
  walk(doc.contents, [], (node, path, depth) => {
    if (depth > MAX_DEPTH) {
      if (!tooDeep) add(node.range?.[0], path, `is nested more than ${MAX_DEPTH} levels deep; no field of the file goes this deep`);
      tooDeep = true;
      return false;
    }
    const offset = node.range?.[0];
    if (isAlias(node)) {
      const anchor = anchors.get(node.source);
      if (anchor) anchor.uses.push(offset ?? 0);
      else add(offset, path, `is an alias (*${node.source}), and no anchor &${node.source} comes before it; aliases are not supported here: write the value out`);
      return true;
    }
    // Point at the "&name" itself, which comes before the node it names.
    if (node.anchor) anchors.set(node.anchor, { offset: offset === undefined ? undefined : Math.max(0, text.lastIndexOf(`&${node.anchor}`, offset)), path, uses: [] });
    if (node.tag && !CORE_TAGS.has(node.tag)) {
      const tag = node.tag.startsWith('tag:yaml.org,2002:') ? `!!${node.tag.slice('tag:yaml.org,2002:'.length)}` : node.tag;
      add(offset, path, `has the tag ${tag}, which is not supported: the ${wording.kind} holds plain strings, numbers, booleans, lists and mappings; remove the tag${tag === '!!binary' ? ' and write the value as text' : ''}`);
    }
    if (isMap(node)) {
      for (const pair of node.items as Pair[]) {
        const key = pair.key as Node | null;
        if (isScalar(key) && key.value === '<<' && key.type === 'PLAIN') {
          add(key.range?.[0], path, 'has a merge key ("<<"), which YAML 1.2 does not have; write the keys out');
        } else if (key !== null && !isScalar(key)) {
          add(key.range?.[0], path, `has a key that is a ${isMap(key) ? 'mapping' : isSeq(key) ? 'list' : 'alias'}; keys are plain names`);
        } else if (key === null || key.value === null || key.value === '') {
          add(key?.range?.[0] ?? node.range?.[0], path, 'has an entry without a key; write "<key>: <value>"');
        }
      }
    }
    return true;
  });
  const why = 'anchors and aliases are not supported here: each line must be one field, which a command can change alone and an error can point at; write the values out';
  for (const [name, anchor] of anchors) {
    const lines = [...new Set(anchor.uses.map((offset) => at(offset).line))];
    const shown = lines.length > 5 ? `${lines.slice(0, 5).join(', ')} and ${lines.length - 5} more` : lines.join(', ');
    const uses = anchor.uses.length === 0 ? '' : `, repeated by ${anchor.uses.length === 1 ? 'an alias' : `${anchor.uses.length} aliases`} (line${lines.length === 1 ? '' : 's'} ${shown})`;
    add(anchor.offset, anchor.path, `has an anchor (&${name})${uses}; ${why}`);
  }
  return problems.sort((a, b) => a.offset - b.offset).map((p) => p.problem);
}

/**
 * Calls `visit` for every node with its field path and depth; aliases are visited but not
 * followed. `visit` returns false to skip the node's children.
 */
function walk(node: unknown, path: (string | number)[], visit: (node: Node, path: (string | number)[], depth: number) => boolean | void, depth = 0): void {
  if (node === null || node === undefined || typeof node !== 'object') return;
  const current = node as Node;
  if (visit(current, path, depth) === false) return;
  if (isMap(current)) {
    for (const pair of current.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (pair.key !== null && !isScalar(pair.key)) walk(pair.key, path, visit, depth + 1);
      walk(pair.value, [...path, key], visit, depth + 1);
    }
  } else if (isSeq(current)) {
    current.items.forEach((item, index) => walk(item, [...path, index], visit, depth + 1));
  }
}

/**
 * The documents of a generated manifest file as data. A document that does not parse, or whose
 * aliases would expand beyond reason, is left out: `validate` reports it with its file, and a
 * diff or a policy check compares what can be read.
 */
export function readManifestDocuments(text: string): unknown[] {
  const docs = parseAllDocuments(text);
  return (Array.isArray(docs) ? docs : []).flatMap((doc) => {
    if (doc.errors.length > 0) return [];
    try {
      return [doc.toJS({ maxAliasCount: 1000 }) as unknown];
    } catch {
      return [];
    }
  });
}
