import fs from 'node:fs';
import type { Document, LineCounter } from 'yaml';
import { type YamlSourceProblem, readYamlDocument, readYamlFileText } from '../private/yaml-source';
import { allowedKeysAt as schemaKeysAt, describeValue as describe, formatFieldPath as formatPath, locateInYaml as locate, oncePerMistake, unknownKeyProblem, valueAt } from '../private/yaml-problems';
import type { core } from 'zod';
import { type FleetConfig, MOVED_KEYS, fleetSchema } from './fleet-schema';

/** Fleet files are hand-written; anything larger is a mistake (a model, a log) passed by accident. */
export const MAX_FLEET_FILE_BYTES = 1024 * 1024;

/** One problem in a fleet file, located by field path (e.g. `models[0].name`) and, where known, line and column. */
export type FleetProblem = YamlSourceProblem;

/** A fleet file that cannot be used. Its message lists every problem. */
export class FleetConfigError extends Error {
  constructor(
    public readonly file: string,
    public readonly problems: readonly FleetProblem[],
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  ${formatLocation(file, p)}${p.path ? `${p.path}: ` : ''}${p.message}`);
    super(`${file} is not a valid fleet file (${count}):\n${lines.join('\n')}`);
    this.name = 'FleetConfigError';
  }
}

function formatLocation(file: string, problem: FleetProblem): string {
  return problem.line === undefined ? `${file}: ` : `${file}:${problem.line}:${problem.column}: `;
}

/** Where a field of a parsed YAML file is: its line and column, or nothing when it is not in the file. */
export type YamlLocator = (path: readonly (string | number)[]) => { readonly line?: number; readonly column?: number };

/** A validated fleet file with what a later check needs to point at its lines. */
export interface FleetSource {
  readonly file: string;
  /** The file's text, as read. */
  readonly text: string;
  readonly config: FleetConfig;
  /** The line and column of a field (or of its nearest parent in the file). */
  readonly locate: YamlLocator;
}

/** Reads, parses and validates a fleet file. Throws {@link FleetConfigError} on any problem. */
export function loadFleet(file: string): FleetConfig {
  return loadFleetSource(file).config;
}

/** {@link loadFleet}, keeping the text and the field locations for later checks. */
export function loadFleetSource(file: string): FleetSource {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new FleetConfigError(file, [{ path: '', message: 'file not found; pass --config <file> or set SERVING_CONFIG to an existing fleet file' }]);
  }
  const decoded = readYamlFileText(file, stat, 'fleet file', MAX_FLEET_FILE_BYTES, `a fleet file may be at most ${MAX_FLEET_FILE_BYTES} bytes (1 MiB)`);
  if (decoded.problem) throw new FleetConfigError(file, [decoded.problem]);
  return parseFleetSource(decoded.text, file);
}

/** Parses and validates fleet YAML text. `file` only labels the error messages. */
export function parseFleet(text: string, file = '<fleet>'): FleetConfig {
  return parseFleetSource(text, file).config;
}

/** {@link parseFleet}, keeping the text and the field locations for later checks. */
export function parseFleetSource(text: string, file = '<fleet>'): FleetSource {
  const read = readYamlDocument(text, { kind: 'fleet file', empty: 'is empty; a fleet file needs at least name, image, models and environments (see serving.yaml)' });
  if (read.problems) throw new FleetConfigError(file, read.problems);
  const { doc, lineCounter, value: input } = read.source;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new FleetConfigError(file, [{ path: '', line: 1, column: 1, message: `must be a YAML mapping with name, image, models and environments; got ${describe(input)}` }]);
  }
  const result = fleetSchema.safeParse(input, { reportInput: true });
  if (result.success) return { file, text, config: result.data, locate: (path) => locate(doc, lineCounter, path) };
  const problems = oncePerMistake(result.error.issues.flatMap((issue) => toProblems(issue, doc, lineCounter, input)));
  // Reported in file order, so the list reads top to bottom like the file.
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  throw new FleetConfigError(file, problems);
}

function toProblems(issue: core.$ZodIssue, doc: Document, lineCounter: LineCounter, root: unknown): (FleetProblem & { meant?: string })[] {
  const path = issue.path as (string | number)[];
  if (issue.code === 'unrecognized_keys') {
    const allowed = schemaKeysAt(fleetSchema, path);
    return issue.keys.map((key) => {
      const moved = MOVED_KEYS.find((m) => m.key === key && m.at.length === path.length && m.at.every((part, i) => part === '*' || part === path[i]));
      if (moved) {
        return {
          path: formatPath([...path, key]),
          ...locate(doc, lineCounter, path, key),
          message: `has moved to ${moved.to(String(path[1]))}: ${moved.why}`,
        };
      }
      return unknownKeyProblem(doc, lineCounter, path, key, allowed);
    });
  }
  // Refinements of a parent object report the parent as their input; the reader wants the
  // value at the path the issue names.
  return [{ path: formatPath(path), ...locate(doc, lineCounter, path), message: describeIssue(issue, valueAt(root, path)) }];
}

function describeIssue(issue: core.$ZodIssue, value: unknown): string {
  // A rule about a name (an environment's, say) gives the name as its input; the value at its
  // path is the whole entry.
  const named = issue.code === 'custom' && typeof issue.input === 'string' && value !== null && typeof value === 'object';
  const input = named ? issue.input : value;
  const got = `got ${describe(input)}`;
  if (input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) return 'is required';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'string' && typeof input === 'number') return `${got} (a number); expected a string, so quote it: "${input}"`;
      return `${got}; expected ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}`;
    case 'too_small':
      if (issue.origin === 'array') return `${got}; ${issue.message.replace(/^Too small: /, '')}`;
      return `${got}; must be ${issue.inclusive ? '>=' : '>'} ${issue.minimum}`;
    case 'too_big':
      // A bound with its own message says why; zod's default message only restates it.
      if (issue.origin === 'string') return `${got}; ${issue.message.startsWith('Too big') ? `must be at most ${issue.maximum} characters` : issue.message}`;
      return `${got}; must be ${issue.inclusive ? '<=' : '<'} ${issue.maximum}`;
    case 'invalid_value':
      return `${got}; expected one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_key': {
      // A record key (an environment name): the value at the path is the entry, not the key.
      const key = String(issue.path[issue.path.length - 1]);
      const reason = issue.issues.map((inner) => inner.message).join('; ') || 'is not a valid name';
      return `got "${key}"; ${reason}`;
    }
    case 'invalid_union':
      return `${got}; expected a string or a number`;
    default:
      return input === undefined ? issue.message : `${got}; ${issue.message}`;
  }
}
