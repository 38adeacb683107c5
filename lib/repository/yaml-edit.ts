import { isDeepStrictEqual } from 'node:util';
import { type Document, type Node, type Pair, Scalar, isMap, isScalar, parseDocument, stringify } from 'yaml';

// Commands edit files that people review (serving.yaml). Re-serializing the whole document would
// move comments, re-align columns and rewrite flow lists, so every edit here splices the source
// text: only the bytes of the changed value (or the inserted or removed lines) differ. Each edit is
// then checked by parsing the result: the data must equal the old data with exactly that change.

/** A scalar a command writes. */
export type YamlScalar = string | number | boolean;

/** One change: set the scalar at `path` (creating missing mappings), or delete the key at `path`. */
export type YamlEdit =
  | { readonly path: readonly YamlKey[]; readonly value: YamlScalar }
  | { readonly path: readonly YamlKey[]; readonly delete: true };

/** A mapping key, or the index of a list item. */
export type YamlKey = string | number;

/** The edit could not be made without rewriting more than the edited value. */
export class YamlEditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'YamlEditError';
  }
}

/**
 * Applies `edits` in order to YAML `text` and returns the new text. Everything an edit does not
 * touch keeps its bytes: comments, alignment, quoting and flow style.
 */
export function editYamlText(text: string, edits: readonly YamlEdit[]): string {
  let current = text;
  for (const edit of edits) {
    const before = parse(current);
    const next = 'delete' in edit ? deleteKey(current, before, edit.path) : setScalar(current, before, edit.path, edit.value);
    verify(before, next, edit);
    current = next;
  }
  return current;
}

function parse(text: string): Document {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) throw new YamlEditError(`cannot edit YAML that does not parse: ${doc.errors[0].message.split('\n')[0]}`);
  return doc;
}

function setScalar(text: string, doc: Document, path: readonly YamlKey[], value: YamlScalar): string {
  const existing = doc.getIn(path, true) as Node | undefined;
  if (existing !== undefined) {
    if (!isScalar(existing) || existing.range === undefined || existing.range === null) {
      throw new YamlEditError(`${path.join('.')} is a ${isMap(existing) ? 'mapping' : 'list'}, not a single value`);
    }
    return replaceScalar(text, existing, value);
  }
  // Find the deepest mapping that exists along the path; the rest is inserted below it.
  let depth = path.length - 1;
  while (depth > 0 && doc.getIn(path.slice(0, depth), true) === undefined) depth--;
  const parent = (depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)) as Node | null | undefined;
  const missing = path.slice(depth);
  if (isMap(parent)) {
    return parent.flow ? insertIntoFlowMap(text, parent, missing, value) : insertIntoBlockMap(text, parent, missing, value);
  }
  if (depth > 0 && isScalar(parent) && parent.value === null && parent.range && parent.range[0] === parent.range[1]) {
    // `key:` with nothing after it: the new mapping goes on the lines below the key.
    const keyPair = pairAt(doc, path.slice(0, depth));
    const keyColumn = columnOf(text, (keyPair.key as Node).range![0]);
    const at = lineEnd(text, (keyPair.key as Node).range![1]);
    return text.slice(0, at) + blockLines(missing, value, keyColumn + 2) + text.slice(at);
  }
  throw new YamlEditError(`${path.slice(0, depth).join('.') || 'the document'} is not a mapping, so ${path.join('.')} cannot be set`);
}

function replaceScalar(text: string, node: Scalar, value: YamlScalar): string {
  const [start, end] = node.range as [number, number, number];
  const rendered = renderScalar(value, node.type);
  let after = text.slice(end);
  // Keep a trailing comment in its column when the value changes length.
  const aligned = /^( +)(#.*)?$/m.exec(after.split('\n')[0]);
  if (aligned && aligned[2] !== undefined) {
    const padding = Math.max(1, aligned[1].length + (end - start) - rendered.length);
    after = ' '.repeat(padding) + after.slice(aligned[1].length);
  }
  return text.slice(0, start) + rendered + after;
}

function insertIntoBlockMap(text: string, map: Node & { items: Pair[] }, keys: readonly YamlKey[], value: YamlScalar): string {
  const first = map.items[0];
  const column = columnOf(text, (first.key as Node).range![0]);
  const last = map.items[map.items.length - 1];
  const lastEnd = ((last.value as Node | null)?.range ?? (last.key as Node).range)![1];
  const at = pastOwnComments(text, text[lastEnd - 1] === '\n' ? lastEnd : lineEnd(text, lastEnd), column);
  const prefix = at === text.length && !text.endsWith('\n') && text.length > 0 ? '\n' : '';
  return text.slice(0, at) + prefix + blockLines(keys, value, column) + text.slice(at);
}

function insertIntoFlowMap(text: string, map: Node & { items: Pair[] }, keys: readonly YamlKey[], value: YamlScalar): string {
  const close = text.lastIndexOf('}', map.range![1] - 1);
  let entry = renderScalar(value);
  for (const key of [...keys].reverse().slice(0, -1)) entry = `{ ${renderKey(key)}: ${entry} }`;
  entry = `${renderKey(keys[0])}: ${entry}`;
  if (map.items.length === 0) return `${text.slice(0, close)}${entry}${text.slice(close)}`;
  const lastEnd = ((map.items[map.items.length - 1].value as Node | null)?.range ?? (map.items[map.items.length - 1].key as Node).range)![1];
  return `${text.slice(0, lastEnd)}, ${entry}${text.slice(lastEnd)}`;
}

function deleteKey(text: string, doc: Document, path: readonly YamlKey[]): string {
  const pair = pairAt(doc, path);
  const parent = (path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true)) as Node & { flow?: boolean; items: Pair[] };
  const keyStart = (pair.key as Node).range![0];
  const valueEnd = ((pair.value as Node | null)?.range ?? (pair.key as Node).range)![1];
  if (parent.flow) {
    const index = parent.items.indexOf(pair);
    if (index > 0) {
      const previousEnd = ((parent.items[index - 1].value as Node | null)?.range ?? (parent.items[index - 1].key as Node).range)![1];
      return text.slice(0, previousEnd) + text.slice(valueEnd);
    }
    const next = parent.items[index + 1];
    return text.slice(0, keyStart) + text.slice(next ? (next.key as Node).range![0] : valueEnd);
  }
  // The whole lines of the entry, with the comment lines directly above it at its indentation.
  const column = columnOf(text, keyStart);
  let start = keyStart - column;
  for (;;) {
    if (start === 0) break;
    const previousStart = text.lastIndexOf('\n', start - 2) + 1;
    const line = text.slice(previousStart, start - 1);
    if (line.startsWith(' '.repeat(column) + '#')) start = previousStart;
    else break;
  }
  const end = pastOwnComments(text, text[valueEnd - 1] === '\n' ? valueEnd : lineEnd(text, valueEnd), column);
  return text.slice(0, start) + text.slice(end);
}

function pairAt(doc: Document, path: readonly YamlKey[]): Pair {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const key = path[path.length - 1];
  const pair = isMap(parent) ? parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key)) : undefined;
  if (pair === undefined) throw new YamlEditError(`${path.join('.')} is not in the file`);
  return pair as Pair;
}

/** `keys` as nested block mapping lines ending in `value`, the first key at `column`. */
function blockLines(keys: readonly YamlKey[], value: YamlScalar, column: number): string {
  return keys.map((key, i) => `${' '.repeat(column + 2 * i)}${renderKey(key)}:${i === keys.length - 1 ? ` ${renderScalar(value)}` : ''}\n`).join('');
}

function renderKey(key: YamlKey): string {
  return renderScalar(String(key));
}

function renderScalar(value: YamlScalar, type?: Scalar['type']): string {
  if (typeof value === 'string' && type === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
  if (typeof value === 'string' && type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  // yaml quotes a string only when it would otherwise read as something else ("1.10", "true").
  return stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
}

/** Skips the comment lines from `at` on that are indented deeper than `column`: they belong to the entry above. */
function pastOwnComments(text: string, at: number, column: number): number {
  let offset = at;
  while (offset < text.length) {
    const next = lineEnd(text, offset);
    const line = text.slice(offset, next).replace(/\n$/, '');
    if (!line.trimStart().startsWith('#') || line.length - line.trimStart().length <= column) break;
    offset = next;
  }
  return offset;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** The offset just after the newline that ends the line holding `offset` (or the end of the text). */
function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline + 1;
}

function verify(before: Document, text: string, edit: YamlEdit): void {
  const expected = before.toJS() as Record<string, unknown>;
  const parent = edit.path.slice(0, -1).reduce<Record<YamlKey, unknown>>((node, key) => {
    if (node[key] === null || node[key] === undefined) node[key] = {};
    return node[key] as Record<YamlKey, unknown>;
  }, expected);
  const key = edit.path[edit.path.length - 1];
  if ('delete' in edit) delete parent[key];
  else parent[key] = edit.value;
  const after = parseDocument(text, { prettyErrors: false });
  if (after.errors.length > 0 || !isDeepStrictEqual(after.toJS(), expected)) {
    throw new YamlEditError(`could not change ${edit.path.join('.')} without rewriting other parts of the file; edit it by hand`);
  }
}
