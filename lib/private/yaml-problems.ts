import { type Document, type LineCounter, type Node, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { core } from 'zod';

// Shared by the fleet file and registry loaders: both report each problem with its field path,
// the value found, and its line and column in the YAML the user wrote.

/** The value at `where` inside parsed YAML, or undefined. */
export function valueAt(root: unknown, where: readonly PropertyKey[]): unknown {
  let value = root;
  for (const part of where) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/** A short description of a value for "got …": the value itself, or its shape. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  // As YAML writes them: JSON would say null.
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `['models', 0, 'name']` as `models[0].name`. */
export function formatFieldPath(where: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const part of where) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out;
}

/** Points at the key (for unknown keys) or the value at `where`, falling back to the nearest parent. */
export function locateInYaml(doc: Document, lineCounter: LineCounter, where: readonly PropertyKey[], key?: string): { line?: number; column?: number } {
  for (let depth = where.length; depth >= 0; depth--) {
    const node = doc.getIn(where.slice(0, depth) as unknown[], true) as Node | undefined;
    if (!node) continue;
    let offset = node.range?.[0];
    if (key !== undefined && depth === where.length && isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === key);
      if (pair && isScalar(pair.key)) offset = pair.key.range?.[0];
    } else if (depth > 0 && (isMap(node) || isSeq(node)) && !node.flow) {
      // A block mapping or list starts on the line below its key: point at the key.
      const parent = doc.getIn(where.slice(0, depth - 1) as unknown[], true);
      const last = where[depth - 1];
      const pair = isMap(parent) ? parent.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(last)) : undefined;
      if (pair && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
    }
    if (offset === undefined) continue;
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  }
  return {};
}

/** The keys `schema` accepts at `where`, found by walking the zod schema along the same path. */
export function allowedKeysAt(schema: core.$ZodType, where: readonly PropertyKey[]): string[] {
  const unwrap = (s: core.$ZodType): core.$ZodType => {
    let current = s;
    for (;;) {
      const def = current._zod.def as unknown as { type: string; innerType?: core.$ZodType; in?: core.$ZodType };
      if (def.innerType) current = def.innerType;
      else if (def.type === 'pipe' && def.in) current = def.in;
      else return current;
    }
  };
  let current: core.$ZodType | undefined = schema;
  for (const part of where) {
    if (!current) break;
    const def = unwrap(current)._zod.def as unknown as { type: string; shape?: Record<string, core.$ZodType>; element?: core.$ZodType; valueType?: core.$ZodType };
    if (def.type === 'object' && def.shape) current = def.shape[String(part)];
    else if (def.type === 'array') current = def.element;
    else if (def.type === 'record') current = def.valueType;
    else current = undefined;
  }
  if (!current) return [];
  const def = unwrap(current)._zod.def as unknown as { type: string; shape?: Record<string, unknown> };
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** A located problem, with the key a typo most likely meant (see {@link oncePerMistake}). */
export interface KeyProblem {
  readonly path: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
  readonly meant?: string;
}

/**
 * `key`, which the schema does not allow in the mapping at `where`, as a located problem that
 * lists the allowed keys and suggests the nearest one; {@link oncePerMistake} relies on its wording.
 */
export function unknownKeyProblem(doc: Document, lineCounter: LineCounter, where: readonly (string | number)[], key: string, allowed: readonly string[]): KeyProblem {
  const suggestion = closestKey(key, allowed);
  return {
    path: formatFieldPath([...where, key]),
    ...locateInYaml(doc, lineCounter, where, key),
    message: `unknown key; ${suggestion ? `did you mean "${suggestion}"? ` : ''}allowed keys here: ${allowed.join(', ')}`,
    ...(suggestion ? { meant: formatFieldPath([...where, suggestion]) } : {}),
  };
}

/**
 * A misspelt key is one mistake, though the schema sees two: an unknown key and a missing one.
 * When an unknown key's suggestion is the key reported missing, only the typo is reported.
 */
export function oncePerMistake<P extends { path: string; message: string; meant?: string }>(problems: P[]): Omit<P, 'meant'>[] {
  const meant = new Map(problems.filter((p) => p.meant !== undefined).map((p) => [p.meant as string, p]));
  return problems
    .filter((p) => !(p.message === 'is required' && meant.has(p.path)))
    .map(({ meant: suggestion, ...p }) => (suggestion !== undefined && problems.some((q) => q.path === suggestion && q.message === 'is required') ? { ...p, message: p.message.replace('"? ', '", which is required? ') } : p));
}

/** The allowed key nearest to a typo, if it is near enough to be the likely intent. */
export function closestKey(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}
