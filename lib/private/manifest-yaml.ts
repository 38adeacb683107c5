import { Yaml } from 'cdk8s';
import { Document } from 'yaml';

/**
 * The YAML text cdk8s writes for one manifest, `Yaml.stringify(manifest)`, byte for byte, at a
 * fraction of its cost.
 *
 * Why: a profile of a 100-model synth spent about half its time in cdk8s's `Yaml.stringify`,
 * which builds a YAML document node for every key and value of every manifest (280,000 of them
 * for 5,600 files) and tests every string against the YAML 1.1 types each time. This writes the
 * block structure itself (two-space maps and indented sequences: the defaults of the `yaml`
 * package that cdk8s uses), and each scalar the way `yaml` does:
 * - a single-line string is plain unless `yaml` would read it back as something else, then
 *   single-quoted if it holds a `"` and no `'`, else double-quoted (JSON);
 * - a multi-line string is a literal block scalar;
 * - a string that might be one of the YAML 1.1 implicit types (`yes`, `0x1F`, `e5`, `1:20`, ...),
 *   that needs escapes, or whose block would need an indentation indicator or keep chomping,
 *   and every number, boolean and key that is not plainly safe, is rendered by cdk8s's own
 *   `Yaml.stringify` and remembered per indentation.
 * Anything outside this model (null or undefined values, an object met twice, which `yaml`
 * writes as an anchor and an alias, class instances, keys longer than 1024 characters) hands
 * the whole manifest to `Yaml.stringify`. test/manifest-yaml.test.ts checks the result against
 * `Yaml.stringify` on generated documents.
 */
export function manifestYaml(manifest: unknown): string {
  if (!isPlainObject(manifest)) return Yaml.stringify(manifest);
  if (Object.keys(manifest).length === 0) return '{}\n';
  try {
    // Pieces joined once: one flat string, no chain of partial concatenations to flatten later.
    const out: string[] = [];
    emitMap(manifest, '', new Set(), out);
    out.push('\n');
    return out.join('');
  } catch (error) {
    if (error === FALLBACK) return Yaml.stringify(manifest);
    throw error;
  }
}

const INDENT_STEP = '  ';

/**
 * Every implicit type test of the YAML 1.1 schema cdk8s writes with (`version: '1.1'`): a string
 * one of them matches is left to `Yaml.stringify`. All are consulted, whether or not `yaml`
 * applies them when it writes, which only sends more strings to `Yaml.stringify`.
 */
const IMPLICIT_TYPE_TESTS: readonly RegExp[] = new Document(null, { version: '1.1' }).schema.tags
  .flatMap((tag) => ('test' in tag && tag.test instanceof RegExp ? [tag.test] : []));
/** The same tests as one expression (each is `^...$` without flags), else the list itself. */
const IMPLICIT_TYPE = IMPLICIT_TYPE_TESTS.every((t) => t.flags === '' && /^\^.*[^\\]\$$/.test(t.source))
  ? new RegExp(`^(?:${IMPLICIT_TYPE_TESTS.map((t) => `(?:${t.source.slice(1, -1)})`).join('|')})$`)
  : { test: (value: string) => IMPLICIT_TYPE_TESTS.some((t) => t.test(value)) };
/** Strings `yaml` cannot write plain (its own test): indicators first, `: `, ` #`, trailing space or colon. */
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
/** Characters that make `yaml` double-quote a string, escaped (its own test). */
const NEEDS_ESCAPES = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;
/**
 * Multi-line strings `yaml` writes as a literal block with no indentation indicator and clip or
 * strip chomping: they start with neither a space nor a newline, and end with a character other
 * than a space, tab or newline, or with one newline after it.
 */
const SIMPLE_BLOCK = /^[^ \n][\s\S]*[^ \t\n]\n?$/;
/**
 * Names, labels, paths and image references: plain as they are (a subset of what `yaml` writes
 * plain) unless they match an implicit type. Most strings of a manifest are such.
 */
const PLAIN_WORD = /^[A-Za-z0-9_/][A-Za-z0-9_./-]*$/;
/** `yaml` writes keys longer than this as explicit `? key` entries. */
const MAX_IMPLICIT_KEY = 1024;
/** Longer strings (alert expressions, config files) are mostly unique: not remembered. */
const MAX_CACHED_LENGTH = 256;
/** A bound on each cache, in case a fleet has very many distinct strings to quote. */
const MAX_CACHE_ENTRIES = 20_000;

/** Thrown inside the emitter when the manifest needs `Yaml.stringify` as a whole. */
const FALLBACK = Symbol('fallback');

/**
 * Scalars that took more than a glance, rendered: single-line values (whose rendering does not
 * depend on the indentation), and keys per indentation (a top-level key is quoted where a
 * deeper one is not, for document markers).
 */
let valueCache = new Map<unknown, string>();
const keyCaches = new Map<number, Map<string, string>>();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isPlainWord(value: string): boolean {
  return PLAIN_WORD.test(value) && !IMPLICIT_TYPE.test(value);
}

/** `\n` and the indentation of each depth, made once. */
const NEWLINES: string[] = [];

function newlineAt(indent: string): string {
  const depth = indent.length / INDENT_STEP.length;
  return (NEWLINES[depth] ??= `\n${indent}`);
}

/** Appends the pairs of a non-empty map whose pairs start at `indent` (the first one where the caller is). */
function emitMap(map: Record<string, unknown>, indent: string, seen: Set<object>, out: string[]): void {
  enter(map, seen);
  const inner = indent + INDENT_STEP;
  let first = true;
  for (const key of Object.keys(map)) {
    if (!first) out.push(newlineAt(indent));
    first = false;
    out.push(scalarKey(key, inner.length), ':');
    emitValue(map[key], inner, seen, newlineAt(inner), out);
  }
}

/** Appends the items of a non-empty sequence whose dashes are at `indent` (the first one where the caller is). */
function emitSeq(seq: unknown[], indent: string, seen: Set<object>, out: string[]): void {
  enter(seq, seen);
  const inner = indent + INDENT_STEP;
  for (let i = 0; i < seq.length; i++) {
    if (i > 0) out.push(newlineAt(indent));
    out.push('-');
    emitValue(seq[i], inner, seen, ' ', out);
  }
}

function enter(value: object, seen: Set<object>): void {
  // `yaml` writes an object met twice as an anchor and an alias.
  if (seen.has(value)) throw FALLBACK;
  seen.add(value);
}

/**
 * Appends a value after its key's colon or its item's dash, one space away, except a non-empty
 * collection, which follows `blockSep`: a new line for a map's value, a space for a sequence
 * item (whose collection starts on the dash's line).
 */
function emitValue(value: unknown, inner: string, seen: Set<object>, blockSep: string, out: string[]): void {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      out.push(' ', scalarValue(value, inner.length));
      return;
    case 'object':
      if (Array.isArray(value)) {
        if (value.length === 0) out.push(' []');
        else {
          out.push(blockSep);
          emitSeq(value, inner, seen, out);
        }
        return;
      }
      if (isPlainObject(value)) {
        if (Object.keys(value).length === 0) out.push(' {}');
        else {
          out.push(blockSep);
          emitMap(value, inner, seen, out);
        }
        return;
      }
      throw FALLBACK;
    default:
      // null, undefined, bigint, symbol, function: Yaml.stringify decides.
      throw FALLBACK;
  }
}

/** A string, number or boolean as `yaml` writes it as a value whose block lines are indented `indent` spaces. */
function scalarValue(value: string | number | boolean, indent: number): string {
  if (typeof value === 'string') {
    if (value.length <= MAX_CACHED_LENGTH && isPlainWord(value)) return value;
    if (value.length > MAX_CACHED_LENGTH || value.includes('\n')) return stringValue(value, indent);
  } else if (Object.is(value, -0)) {
    // A Map cannot tell -0 from 0.
    return rendered(value, indent);
  }
  let text = valueCache.get(value);
  if (text === undefined) {
    text = typeof value === 'string' ? stringValue(value, indent) : rendered(value, indent);
    if (valueCache.size >= MAX_CACHE_ENTRIES) valueCache = new Map();
    valueCache.set(value, text);
  }
  return text;
}

function stringValue(value: string, indent: number): string {
  if (NEEDS_ESCAPES.test(value) || IMPLICIT_TYPE.test(value)) return rendered(value, indent);
  if (value.includes('\n')) {
    if (!SIMPLE_BLOCK.test(value)) return rendered(value, indent);
    // Blank lines stay empty; the others are indented.
    const pad = ' '.repeat(indent);
    const clip = value.endsWith('\n');
    const body = clip ? value.slice(0, -1) : value;
    return `|${clip ? '' : '-'}\n${pad}${body.replace(/\n+/g, `$&${pad}`)}`;
  }
  if (!NOT_PLAIN.test(value)) return value;
  return value.includes('"') && !value.includes("'") ? `'${value}'` : JSON.stringify(value);
}

/** A mapping key as `yaml` writes it in a pair whose value lines are indented `indent` spaces. */
function scalarKey(key: string, indent: number): string {
  if (key.length > MAX_IMPLICIT_KEY) throw FALLBACK;
  if (isPlainWord(key)) return key;
  let cache = keyCaches.get(indent);
  if (cache === undefined || cache.size >= MAX_CACHE_ENTRIES) {
    cache = new Map();
    keyCaches.set(indent, cache);
  }
  let text = cache.get(key);
  if (text === undefined) {
    text = renderedKey(key, indent);
    cache.set(key, text);
  }
  return text;
}

/** `k:\n  k:\n    ` for depth 3: the lines above a pair whose value lines are indented `2 * depth`. */
function wrapperPrefix(depth: number): string {
  let prefix = '';
  for (let i = 0; i < depth - 1; i++) prefix += `${INDENT_STEP.repeat(i)}k:\n`;
  return `${prefix}${INDENT_STEP.repeat(depth - 1)}`;
}

/** `leaf` nested in `depth - 1` maps, so that its pair sits where the scalar will. */
function wrap(leaf: Record<string, unknown>, depth: number): Record<string, unknown> {
  let doc = leaf;
  for (let i = 1; i < depth; i++) doc = { k: doc };
  return doc;
}

/** A value rendered by `Yaml.stringify` in a document that puts it at the same indentation. */
function rendered(value: unknown, indent: number): string {
  const depth = indent / INDENT_STEP.length;
  const prefix = `${wrapperPrefix(depth)}k: `;
  const text = Yaml.stringify(wrap({ k: value }, depth));
  if (!text.startsWith(prefix) || !text.endsWith('\n')) throw FALLBACK;
  return text.slice(prefix.length, -1);
}

/** A key rendered by `Yaml.stringify` in a document that puts it at the same indentation. */
function renderedKey(key: string, indent: number): string {
  const depth = indent / INDENT_STEP.length;
  const prefix = wrapperPrefix(depth);
  const suffix = ': 0\n';
  const text = Yaml.stringify(wrap({ [key]: 0 }, depth));
  if (!text.startsWith(prefix) || !text.endsWith(suffix)) throw FALLBACK;
  const rendering = text.slice(prefix.length, -suffix.length);
  if (rendering.includes('\n') || rendering.startsWith('? ')) throw FALLBACK;
  return rendering;
}
