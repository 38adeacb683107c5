import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Document, type LineCounter, stringify } from 'yaml';
import { type YamlSourceProblem, readYamlDocument, readYamlFileText } from '../private/yaml-source';
import { type core, z } from 'zod';
import { archiveSchema, checkedString, modelNameSchema, versionSchema } from '../fleet/fleet-schema';
import type { YamlLocator } from '../fleet/load-fleet';
import { toResourceName } from '../private/names';
import { modelArchiveProblem, modelNameProblem, modelVersionProblem } from '../torchserve';
import { allowedKeysAt as schemaKeysAt, describeValue as describe, formatFieldPath as formatPath, locateInYaml as locate, oncePerMistake, unknownKeyProblem, valueAt } from '../private/yaml-problems';

/**
 * The model registry: a committed YAML file that records every registered version of each model,
 * which version each stage deploys, and an append-only audit trail of every change.
 *
 * The rules ({@link registerVersion}, {@link promoteVersion}, {@link versionForStage}) are pure
 * functions of a registry value, so they can be tested without files; reading, atomic writing and
 * {@link resolveActor} are kept apart from them.
 */

// The registry follows the fleet file's rules for names, versions and archive locations: the
// same schemas, which ask the same predicates (lib/torchserve/model-*.ts).

/** A registry file is hand-reviewed text; anything larger is a mistake. */
export const MAX_REGISTRY_FILE_BYTES = 16 * 1024 * 1024;

/** A stage a version can be promoted to; each fleet environment deploys one (its `stage`). */
export enum RegistryStage {
  /** Deployed by environments with `stage: staging`. */
  STAGING = 'staging',
  /** Deployed by environments with `stage: production`; only after staging unless forced. */
  PRODUCTION = 'production',
}

/** What an audit entry records. */
export enum RegistryAction {
  /** A version and its `.mar` location were added. */
  REGISTER = 'register',
  /** A stage was pointed at a version. */
  PROMOTE = 'promote',
}

/** Stages in promotion order; also the order they are written in. */
const STAGE_ORDER: readonly RegistryStage[] = [RegistryStage.STAGING, RegistryStage.PRODUCTION];

/** Marks an issue whose message is a whole sentence, printed without the "got <value>;" prefix. */
const SENTENCE = { sentence: true };

/** Why `reason` cannot be an audit entry's reason, or `undefined`; the file and the CLI options follow it. */
function reasonProblem(reason: string): string | undefined {
  if (reason.length > 1000) return 'must be at most 1000 characters';
  if (reason.trim().length === 0) return 'must not be empty';
  return undefined;
}

const reasonSchema = checkedString(reasonProblem);

const auditEntrySchema = z
  .strictObject({
    action: z.enum(RegistryAction),
    version: versionSchema,
    stage: z.enum(RegistryStage).optional(),
    path: archiveSchema.optional(),
    reason: reasonSchema.optional(),
    forced: z.literal(true).optional(),
    actor: z.string().min(1, { message: 'must not be empty' }).max(320),
    time: z.iso.datetime({ message: 'must be a UTC time such as "2026-01-31T12:00:00Z"' }),
  })
  .superRefine((entry, ctx) => {
    const forbid = (key: 'stage' | 'path' | 'forced', why: string) => {
      if (entry[key] !== undefined) ctx.addIssue({ code: 'custom', params: SENTENCE, path: [key], message: `is not allowed on a ${entry.action} entry; ${why}` });
    };
    const require = (key: 'stage' | 'path' | 'reason') => {
      if (entry[key] === undefined) ctx.addIssue({ code: 'custom', params: SENTENCE, path: [key], message: `is required on a ${entry.action} entry` });
    };
    if (entry.action === RegistryAction.REGISTER) {
      require('path');
      forbid('stage', 'registering does not promote');
      forbid('forced', 'only a promotion to production can be forced');
    } else {
      require('stage');
      require('reason');
      forbid('path', 'the path is recorded when the version is registered');
    }
  });

const registeredVersionSchema = z.strictObject({
  path: archiveSchema,
});

const registeredModelSchema = z
  .strictObject({
    stages: z
      .strictObject({
        staging: versionSchema.optional(),
        production: versionSchema.optional(),
      })
      .default({}),
    versions: z.record(versionSchema, registeredVersionSchema),
    history: z.array(auditEntrySchema),
  })
  .superRefine((model, ctx) => checkHistory(model, ctx));

/** The registry file's schema: strict objects throughout, plus the cross-checks between stages, versions and history. */
export const registrySchema = z
  .strictObject({
    models: z.record(modelNameSchema, registeredModelSchema),
  })
  .superRefine((registry, ctx) => {
    const seen = new Map<string, string>();
    for (const name of Object.keys(registry.models)) {
      const other = seen.get(toResourceName(name));
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', params: SENTENCE, path: ['models', name], message: `has the same Kubernetes name as model "${other}" ("_" and "-" count as the same)` });
      }
      seen.set(toResourceName(name), name);
    }
  });

/** A validated registry. */
export type ModelRegistry = z.output<typeof registrySchema>;
/** One model's entry in the registry. */
export type RegisteredModel = ModelRegistry['models'][string];
/** One line of a model's audit trail. */
export type AuditEntry = RegisteredModel['history'][number];

/** The stages must be exactly what the history says, so no change can bypass the audit trail. */
function checkHistory(model: z.output<typeof registeredModelSchema>, ctx: z.RefinementCtx): void {
  const registered = new Map<string, number>();
  const staged = new Set<string>();
  const lastPromotion = new Map<RegistryStage, string>();
  model.history.forEach((entry, index) => {
    const at = ['history', index];
    if (entry.action === RegistryAction.REGISTER) {
      const known = model.versions[entry.version];
      if (registered.has(entry.version)) {
        ctx.addIssue({ code: 'custom', params: SENTENCE, path: [...at, 'version'], message: `registers ${entry.version} again; history[${registered.get(entry.version)}] registered it already` });
      } else if (known === undefined) {
        ctx.addIssue({ code: 'custom', params: SENTENCE, path: [...at, 'version'], message: `registers ${entry.version}, which is missing from versions` });
      } else if (entry.path !== undefined && known.path !== entry.path) {
        ctx.addIssue({ code: 'custom', params: SENTENCE, path: [...at, 'path'], message: `registered "${entry.path}", but versions.${entry.version}.path is "${known.path}"; a version's archive never changes` });
      }
      if (!registered.has(entry.version)) registered.set(entry.version, index);
      return;
    }
    if (entry.stage === undefined) return; // reported by the entry's own schema
    if (!registered.has(entry.version)) {
      ctx.addIssue({ code: 'custom', params: SENTENCE, path: [...at, 'version'], message: `promotes ${entry.version} before any entry registers it` });
    }
    if (entry.stage === RegistryStage.PRODUCTION && !staged.has(entry.version) && entry.forced !== true) {
      ctx.addIssue({ code: 'custom', params: SENTENCE, path: at, message: `promotes ${entry.version} to production before it was promoted to staging, without "forced: true"` });
    }
    if (entry.stage === RegistryStage.STAGING) staged.add(entry.version);
    lastPromotion.set(entry.stage, entry.version);
  });
  for (const version of Object.keys(model.versions)) {
    if (!registered.has(version)) {
      ctx.addIssue({ code: 'custom', params: SENTENCE, path: ['versions', version], message: 'has no register entry in history; register versions with "model-serving model register"' });
    }
  }
  for (const stage of STAGE_ORDER) {
    const pointer = model.stages[stage];
    const expected = lastPromotion.get(stage);
    if (pointer === expected) continue;
    const message = expected === undefined
      ? `is ${pointer}, but no history entry promotes a version to ${stage}`
      : pointer === undefined
        ? `is missing; history last promoted ${expected} to ${stage}`
        : `is ${pointer}, but history last promoted ${expected} to ${stage}; stages change only through "model-serving model promote"`;
    ctx.addIssue({ code: 'custom', params: SENTENCE, path: ['stages', ...(pointer === undefined ? [] : [stage])], message });
  }
}

// ---- errors ----

/** One problem in a registry file, located by field path (e.g. `models.intent_classifier.stages.production`) and, where known, line and column. */
export type RegistryProblem = YamlSourceProblem;

/** The options of a registry change that a rule refuses. */
export type RegistryOption = 'model' | 'version' | 'path' | 'reason';

/** A registry rule was broken, or a registry file cannot be used. Nothing was changed. */
export class RegistryError extends Error {
  /** Every problem found in the file, when the file itself is the problem. */
  public readonly problems: readonly RegistryProblem[];

  /** The registry field a broken rule is about, so that a command can name its line. */
  public readonly at?: readonly (string | number)[];

  /** A broken rule, e.g. promoting a version that was never registered; `at` is the field it is about. */
  constructor(message: string, problems: readonly RegistryProblem[] = [], at?: readonly (string | number)[]) {
    super(message);
    this.name = 'RegistryError';
    this.problems = problems;
    this.at = at;
  }

  /** A registry file that does not parse or does not validate. */
  public static invalidFile(file: string, problems: readonly RegistryProblem[]): RegistryError {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  ${p.line === undefined ? `${file}: ` : `${file}:${p.line}:${p.column}: `}${p.path ? `${p.path}: ` : ''}${p.message}`);
    return new RegistryError(`${file} is not a valid model registry (${count}):\n${lines.join('\n')}`, problems);
  }
}

/** A value of a registry change breaks its rule; `option` says which, so a command can name its own flag. */
export class RegistryOptionError extends RegistryError {
  constructor(public readonly option: RegistryOption, public readonly value: string, public readonly problem: string) {
    super(`${OPTION_LABELS[option]} ${JSON.stringify(value)}: ${problem}`);
    this.name = 'RegistryOptionError';
  }
}

const OPTION_LABELS: Record<RegistryOption, string> = { model: 'model name', version: 'version', path: 'archive path', reason: 'reason' };

// ---- reading and writing ----

/** An empty registry, what a missing registry file means. */
export function emptyRegistry(): ModelRegistry {
  return { models: {} };
}

/** A registry as read from disk, with the exact text, so a write can tell whether someone else changed the file meanwhile. */
export interface RegistryFile {
  readonly file: string;
  readonly registry: ModelRegistry;
  /** The file's text; `undefined` when the file does not exist yet. */
  readonly text?: string;
  /** The line and column of a field, for messages that point into the file. */
  readonly locate?: YamlLocator;
}

/** Reads and validates a registry file. A missing file is an empty registry. Throws {@link RegistryError}. */
export function readRegistryFile(file: string): RegistryFile {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file, registry: emptyRegistry() };
    throw RegistryError.invalidFile(file, [{ path: '', message: `cannot be read: ${(error as Error).message}` }]);
  }
  const decoded = readYamlFileText(file, stat, 'registry', MAX_REGISTRY_FILE_BYTES, `a registry may be at most ${MAX_REGISTRY_FILE_BYTES} bytes`);
  if (decoded.problem) throw RegistryError.invalidFile(file, [decoded.problem]);
  return { file, text: decoded.text, ...parseRegistrySource(decoded.text, file) };
}

/** Reads and validates a registry file; see {@link readRegistryFile}. */
export function loadRegistry(file: string): ModelRegistry {
  return readRegistryFile(file).registry;
}

/** Parses and validates registry YAML. `file` only labels error messages. Throws {@link RegistryError}. */
export function parseRegistry(text: string, file = '<registry>'): ModelRegistry {
  return parseRegistrySource(text, file).registry;
}

/** {@link parseRegistry}, keeping the field locations for messages. */
export function parseRegistrySource(text: string, file = '<registry>'): { registry: ModelRegistry; locate: YamlLocator } {
  const read = readYamlDocument(text, { kind: 'registry', empty: 'is empty; a registry holds at least "models: {}" (restore it from git if it was truncated)' });
  if (read.problems) throw RegistryError.invalidFile(file, read.problems);
  const { doc, lineCounter, value: input } = read.source;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw RegistryError.invalidFile(file, [{ path: '', line: 1, column: 1, message: `must be a YAML mapping with a "models" key; got ${describe(input)}` }]);
  }
  const result = registrySchema.safeParse(input);
  if (result.success) return { registry: result.data, locate: (where) => locate(doc, lineCounter, where) };
  const problems = oncePerMistake(result.error.issues.flatMap((issue) => toProblems(issue, doc, lineCounter, input)));
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || a.path.localeCompare(b.path));
  throw RegistryError.invalidFile(file, problems);
}

const HEADER = [
  '# The model registry: every registered version of each model, the version each stage deploys,',
  '# and the audit trail of every change. Change it only with "model-serving model register" and',
  '# "model-serving model promote"; a hand edit that bypasses the history makes every command refuse the file.',
].join('\n');

/** The registry as the YAML text {@link writeRegistryFile} writes: models and versions sorted, history in order. */
export function serializeRegistry(registry: ModelRegistry): string {
  const models: Record<string, unknown> = {};
  for (const name of Object.keys(registry.models).sort()) {
    const model = registry.models[name];
    const stages: Record<string, string> = {};
    for (const stage of STAGE_ORDER) if (model.stages[stage] !== undefined) stages[stage] = model.stages[stage] as string;
    const versions: Record<string, unknown> = {};
    for (const version of Object.keys(model.versions).sort(compareVersions)) versions[version] = { path: model.versions[version].path };
    models[name] = {
      stages,
      versions,
      // A fixed key order reads the same in every diff.
      history: model.history.map((e) => ({
        action: e.action,
        version: e.version,
        ...(e.stage !== undefined ? { stage: e.stage } : {}),
        ...(e.path !== undefined ? { path: e.path } : {}),
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
        ...(e.forced !== undefined ? { forced: e.forced } : {}),
        actor: e.actor,
        time: e.time,
      })),
    };
  }
  return `${HEADER}\n${stringify({ models }, { lineWidth: 0 })}`;
}

/** Options of {@link writeRegistryFile}. */
export interface WriteRegistryOptions {
  /**
   * The file's text when it was read (`undefined`: it did not exist). If the file changed since,
   * the write is refused instead of silently dropping the other change.
   * @default - no check
   */
  readonly expectedText?: string | null;
}

/**
 * Writes a registry atomically: the text goes to a temporary file in the same folder, is flushed
 * to disk, and is renamed over the registry, so a reader or a crash sees the old file or the new
 * one, never a torn one. The registry is validated first; an invalid one is never written.
 */
export function writeRegistryFile(file: string, registry: ModelRegistry, options: WriteRegistryOptions = {}): void {
  const text = serializeRegistry(registry);
  // Refuse to write what the next read would refuse.
  parseRegistry(text, file);
  if (options.expectedText !== undefined) {
    let current: string | null = null;
    try {
      current = fs.readFileSync(file, 'utf-8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (current !== options.expectedText) {
      throw new RegistryError(`${file} changed while this command ran; nothing was written. Run the command again`);
    }
  }
  writeFileAtomic(file, text);
}

/** Replaces `file` with `text` through a flushed temporary file and a rename in the same folder. */
export function writeFileAtomic(file: string, text: string): void {
  const dir = path.dirname(path.resolve(file));
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  let fd: number | undefined;
  let created = false;
  try {
    // "wx": never follow or reuse whatever a crashed run left at this name.
    fs.rmSync(temp, { force: true });
    fd = fs.openSync(temp, 'wx', 0o644);
    created = true;
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, file);
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd);
    if (created) fs.rmSync(temp, { force: true });
    throw error;
  }
  // Make the rename itself durable; not every platform can open a folder, which is then fine to skip.
  try {
    const dirFd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch {
    // Best effort only.
  }
}

// ---- the rules ----

/** Who made a change and when; the CLI fills it from git and the clock. */
export interface ChangeAuthor {
  /** Recorded as the entry's `actor`, e.g. "Jane Doe <jane@example.com>". */
  readonly actor: string;
  /** Recorded as the entry's `time`, in UTC, to the second. */
  readonly time: Date;
}

/** Options of {@link registerVersion}. */
export interface RegisterVersionOptions extends ChangeAuthor {
  /** The model name, following the fleet file's rule. */
  readonly model: string;
  /** A semantic version such as "1.0.0". */
  readonly version: string;
  /** Where the archive lives: `s3://<bucket>/<key>.mar` or `pvc://<claim>/<path>.mar`. */
  readonly path: string;
  /** Why it was registered. @default - no reason recorded */
  readonly reason?: string;
}

/** Options of {@link promoteVersion}. */
export interface PromoteVersionOptions extends ChangeAuthor {
  readonly model: string;
  readonly version: string;
  /** The stage to point at the version. */
  readonly stage: `${RegistryStage}`;
  /** Why; required for every promotion. */
  readonly reason: string;
  /**
   * Promote to production a version that was never promoted to staging. The entry records
   * `forced: true`. Only for production.
   * @default false
   */
  readonly force?: boolean;
}

/** The outcome of a rule-checked change. */
export interface RegistryChange {
  /** The registry after the change; the input registry when nothing changed. */
  readonly registry: ModelRegistry;
  /** False when the change was already in place (an idempotent repeat). */
  readonly changed: boolean;
  /** What happened, in one sentence for the user. */
  readonly message: string;
}

/**
 * Registers a version and its archive location, appending a `register` entry. Registering the
 * same version at the same path again changes nothing; at another path it is an error, because a
 * deployed version must always mean the same bytes.
 */
export function registerVersion(registry: ModelRegistry, options: RegisterVersionOptions): RegistryChange {
  checkField('model', options.model, modelNameProblem);
  checkField('version', options.version, modelVersionProblem);
  checkField('path', options.path, modelArchiveProblem);
  if (options.reason !== undefined) checkField('reason', options.reason, reasonProblem);
  const existing = registry.models[options.model];
  const known = existing?.versions[options.version];
  if (known !== undefined) {
    if (known.path === options.path) {
      return { registry, changed: false, message: `${options.model} ${options.version} is already registered at ${known.path}; nothing changed` };
    }
    throw new RegistryError(
      `${options.model} ${options.version} is already registered at ${known.path}; a version's archive never changes, so register ${options.path} as a new version`,
      [], ['models', options.model, 'versions', options.version],
    );
  }
  if (existing === undefined) {
    const clash = Object.keys(registry.models).find((name) => toResourceName(name) === toResourceName(options.model));
    if (clash !== undefined) {
      throw new RegistryError(`model name "${options.model}" clashes with registered model "${clash}": "_" and "-" give the same Kubernetes name`, [], ['models', clash]);
    }
  }
  const next = structuredClone(registry);
  const model = next.models[options.model] ?? (next.models[options.model] = { stages: {}, versions: {}, history: [] });
  model.versions[options.version] = { path: options.path };
  model.history.push({
    action: RegistryAction.REGISTER,
    version: options.version,
    path: options.path,
    ...(options.reason !== undefined ? { reason: options.reason.trim() } : {}),
    actor: checkActor(options.actor),
    time: formatTime(options.time),
  });
  return { registry: next, changed: true, message: `registered ${options.model} ${options.version} at ${options.path}` };
}

/**
 * Points a stage at a registered version, appending a `promote` entry. Production takes only
 * versions that were promoted to staging before, unless `force` is set.
 */
export function promoteVersion(registry: ModelRegistry, options: PromoteVersionOptions): RegistryChange {
  checkField('model', options.model, modelNameProblem);
  checkField('version', options.version, modelVersionProblem);
  const stage = STAGE_ORDER.find((s) => s === options.stage);
  if (stage === undefined) {
    throw new RegistryError(`stage "${options.stage}" is not a stage; expected one of: ${STAGE_ORDER.join(', ')}`);
  }
  if (options.reason === undefined) throw new RegistryError('a promotion needs a reason');
  checkField('reason', options.reason, reasonProblem);
  const model = registry.models[options.model];
  if (model === undefined) {
    const known = Object.keys(registry.models).sort();
    throw new RegistryError(
      `model "${options.model}" is not registered${known.length > 0 ? ` (registered models: ${known.join(', ')})` : ''}; register a version first: model-serving model register --name ${options.model} --version ${options.version} --path <.mar location>`,
      [], ['models'],
    );
  }
  if (model.versions[options.version] === undefined) {
    const known = Object.keys(model.versions).sort(compareVersions);
    throw new RegistryError(
      `${options.model} ${options.version} is not registered (registered versions: ${known.join(', ')}); register it before promoting it`,
      [], ['models', options.model, 'versions'],
    );
  }
  if (options.force && stage !== RegistryStage.PRODUCTION) {
    throw new RegistryError('force applies only to a promotion to production, which may then skip staging');
  }
  if (model.stages[stage] === options.version) {
    return { registry, changed: false, message: `${options.model} ${options.version} is already the ${stage} version; nothing changed` };
  }
  const wasStaged = model.history.some((e) => e.action === RegistryAction.PROMOTE && e.stage === RegistryStage.STAGING && e.version === options.version);
  const forced = stage === RegistryStage.PRODUCTION && !wasStaged;
  if (forced && !options.force) {
    const current = model.stages.staging;
    throw new RegistryError(
      `${options.model} ${options.version} was never promoted to staging${current ? ` (staging runs ${current})` : ''}; promote it to staging first, or force it to production with a reason`,
      [], ['models', options.model, 'stages'],
    );
  }
  const next = structuredClone(registry);
  next.models[options.model].stages[stage] = options.version;
  next.models[options.model].history.push({
    action: RegistryAction.PROMOTE,
    version: options.version,
    stage,
    reason: options.reason.trim(),
    ...(forced ? { forced: true as const } : {}),
    actor: checkActor(options.actor),
    time: formatTime(options.time),
  });
  const previous = model.stages[stage];
  return {
    registry: next,
    changed: true,
    message: `promoted ${options.model} ${options.version} to ${stage}${previous ? ` (was ${previous})` : ''}${forced ? ', skipping staging (forced)' : ''}`,
  };
}

/** A version a stage deploys. */
export interface StageRelease {
  readonly model: string;
  readonly version: string;
  /** The archive location, as registered. */
  readonly path: string;
  readonly stage: RegistryStage;
}

/**
 * Which version of `model` the stage deploys, and its archive; `undefined` if the model is not
 * registered or nothing was promoted to the stage yet. This is how an environment with
 * `stage: production` learns its version.
 */
export function versionForStage(registry: ModelRegistry, model: string, stage: `${RegistryStage}`): StageRelease | undefined {
  const entry = registry.models[model];
  const resolved = STAGE_ORDER.find((s) => s === stage);
  const version = resolved === undefined ? undefined : entry?.stages[resolved];
  if (entry === undefined || resolved === undefined || version === undefined) return undefined;
  return { model, version, path: entry.versions[version].path, stage: resolved };
}

/** Semantic version precedence (build metadata ignored), for sorting: negative when `a` comes first. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, ...pre] = v.split('+')[0].split('-');
    return { core: core.split('.').map(Number), pre: pre.length > 0 ? pre.join('-').split('.') : [] };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return x.core[i] - y.core[i];
  // A pre-release comes before its release.
  if (x.pre.length === 0 && y.pre.length === 0) return a.localeCompare(b);
  if (x.pre.length === 0) return 1;
  if (y.pre.length === 0) return -1;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const [p, q] = [x.pre[i], y.pre[i]];
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (pn && qn && Number(p) !== Number(q)) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return x.pre.length - y.pre.length || a.localeCompare(b);
}

/** `2026-01-31T12:00:00Z`: UTC, to the second, as the audit trail records times. */
export function formatTime(time: Date): string {
  if (Number.isNaN(time.getTime())) throw new RegistryError('the change time is not a valid date');
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Who is making a change: git's `user.name` and `user.email` as seen from `cwd` (so a
 * repository's own config applies), else `$USER`, else the login name.
 */
export function resolveActor(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  const git = (key: string): string => {
    const result = spawnSync('git', ['config', '--get', key], { cwd, env, encoding: 'utf-8' });
    return result.status === 0 ? result.stdout.trim() : '';
  };
  const name = git('user.name');
  const email = git('user.email');
  if (name && email) return `${name} <${email}>`;
  if (name || email) return name || email;
  if (env.USER) return env.USER;
  try {
    return os.userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

function checkActor(actor: string): string {
  const clean = actor.trim();
  if (clean.length === 0 || clean.length > 320 || /[\r\n]/.test(clean)) {
    throw new RegistryError(`actor ${JSON.stringify(actor)} must be one line of at most 320 characters; set git config user.name and user.email`);
  }
  return clean;
}

function checkField(option: RegistryOption, value: string, problemOf: (value: string) => string | undefined): void {
  const problem = problemOf(value);
  if (problem !== undefined) throw new RegistryOptionError(option, value, problem);
}

// ---- locating problems, after lib/fleet/load-fleet.ts ----

function toProblems(issue: core.$ZodIssue, doc: Document, lineCounter: LineCounter, root: unknown): (RegistryProblem & { meant?: string })[] {
  const where = issue.path as (string | number)[];
  if (issue.code === 'unrecognized_keys') {
    const allowed = schemaKeysAt(registrySchema, where);
    return issue.keys.map((key) => unknownKeyProblem(doc, lineCounter, where, key, allowed));
  }
  if (issue.code === 'invalid_key') {
    // A bad record key (a model name or a version): point at the key itself.
    const key = String(where[where.length - 1]);
    const reason = issue.issues.map((inner) => inner.message).join('; ');
    return [{ path: formatPath(where), ...locate(doc, lineCounter, where.slice(0, -1), key), message: `got key "${key}"; ${reason}` }];
  }
  const value = valueAt(root, where);
  let message: string;
  if (issue.code === 'custom' && (issue.params as { sentence?: boolean } | undefined)?.sentence) message = issue.message;
  else if (value === undefined) message = issue.code === 'invalid_type' ? 'is required' : issue.message;
  else if (issue.code === 'invalid_type') message = `got ${describe(value)}; expected ${issue.expected === 'record' ? 'a mapping' : `a ${issue.expected}`}`;
  else if (issue.code === 'invalid_value') message = `got ${describe(value)}; expected one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  else message = `got ${describe(value)}; ${issue.message}`;
  return [{ path: formatPath(where), ...locate(doc, lineCounter, where), message }];
}

