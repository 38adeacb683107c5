import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import * as path from 'node:path';
import Ajv, { _, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvPackage from 'ajv/package.json';
import equal from 'ajv/dist/runtime/equal';
import ucs2length from 'ajv/dist/runtime/ucs2length';
import uri from 'ajv/dist/runtime/uri';
import validationError from 'ajv/dist/runtime/validation_error';
import standaloneCode from 'ajv/dist/standalone';
import { isMap, isScalar, isSeq, parseAllDocuments, type Document } from 'yaml';
import {
  CelRuleSet,
  CelSummaryCollector,
  applyStructuralDefaults,
  pruneNonNullableNullsWithoutDefaults,
  type CelObjectReport,
  type CelRuleInfo,
  type CelSummary,
} from './cel-rules';
import { apiServerProblems } from './api-server-rules';

/** One problem found in a manifest. */
export interface ManifestIssue {
  /** The file the object came from, when it was read from one. */
  file?: string;
  /** The object's `kind`, or `''` when the document has none. */
  kind: string;
  /** The object's `metadata.name`, or `''` when it has none. */
  name: string;
  /** The object's `metadata.namespace`, when set. */
  namespace?: string;
  /** JSON pointer to the offending value, e.g. `/spec/template/spec/containers/0/imagePullPolicyy`; `''` is the whole document. */
  path: string;
  /** What is wrong, naming the offending key or value. */
  message: string;
}

/** Result of {@link ManifestValidator.validateDirectory}. */
export interface DirectoryValidationResult {
  /** Number of YAML files read (kustomization files excluded). */
  files: number;
  /** Number of Kubernetes objects found (empty documents and Kustomizations excluded). */
  objects: number;
  /** Number of objects that have at least one issue. */
  invalid: number;
  issues: ManifestIssue[];
  /** What the CRDs' x-kubernetes-validations (CEL) rules did. */
  cel: CelSummary;
}

/** Options for {@link ManifestValidator.load}. */
export interface ManifestValidatorOptions {
  /** Folder holding `k8s.json` and the CRD schema files. Defaults to the repository's `imports/schemas`. */
  schemaDir?: string;
  /**
   * Also run the kubernetes-models validator for core kinds. It knows enums and formats (e.g. quantities,
   * imagePullPolicy values) that the 1.28 OpenAPI definitions do not declare. Defaults to true.
   */
  kubernetesModels?: boolean;
  /**
   * Where each kind's compiled validator is kept between runs (Ajv standalone code), so that only the first
   * run after a schema, Ajv or option change pays for compiling it; `false` compiles in memory only. A
   * cache folder serves one schema folder: it keeps only the validators of that folder's current schemas.
   * Defaults to the repository's `.build/validators` (gitignored) for the default schema folder, else `false`.
   */
  cacheDir?: string | false;
}

/**
 * Set by the esbuild bundle of `bin/run-ts.mjs` to the package root, relative to the bundle: a
 * bundle has one `__dirname` for every module it holds.
 */
declare const MODEL_SERVING_BUNDLE_ROOT: string | undefined;

/**
 * Where `npm run import` writes the schemas, found relative to this module and never by
 * searching: `imports/schemas` two folders above it, in the sources (`lib/validation`) and in
 * the built package (`build/lib/validation`, schemas copied to `build/imports/schemas`) alike.
 * An installed copy therefore reads its own schemas, never those of the project it sits in.
 */
export const DEFAULT_SCHEMA_DIR =
  typeof MODEL_SERVING_BUNDLE_ROOT === 'string'
    ? path.resolve(__dirname, MODEL_SERVING_BUNDLE_ROOT, 'imports', 'schemas')
    : path.resolve(__dirname, '..', '..', 'imports', 'schemas');

/** Where compiled validators are kept by default (see {@link ManifestValidatorOptions.cacheDir}). */
// Beside the schemas' package root: the repository's (gitignored) .build, or the installed package's own build folder.
export const DEFAULT_VALIDATOR_CACHE_DIR = path.resolve(DEFAULT_SCHEMA_DIR, '..', '..', '.build', 'validators');

type Schema = { [keyword: string]: unknown };

interface CoreSchemaFile {
  source: string;
  definitions: Record<string, Schema>;
}

interface CrdSchemaFile {
  source: string;
  kinds: { group: string; kind: string; version: string; scope: string; schema: Schema }[];
}

type SchemaEntry =
  | { origin: 'core'; group: string; version: string; kind: string; definition: string }
  | { origin: 'crd'; group: string; version: string; kind: string; schema: Schema; rawSchema: Schema };

interface ObjectIdentity {
  kind: string;
  name: string;
  namespace?: string;
}

const CORE_SCHEMA_ID = 'k8s.json';
const OBJECT_META_REF = `${CORE_SCHEMA_ID}#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`;

/** kustomize's own config file is not a cluster object, so it has no schema and is never validated. */
const KUSTOMIZATION_API_VERSION = 'kustomize.config.k8s.io/v1beta1';
const KUSTOMIZATION_KIND = 'Kustomization';
const KUSTOMIZATION_FILE_NAMES = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);

/**
 * The kubernetes-models validator is built from a newer API than 1.28, whose structure (fields, types,
 * required lists) may differ; only its value checks are trusted, and only where the 1.28 schema found nothing.
 */
const MODEL_LAYER_KEYWORDS = new Set([
  'enum',
  'const',
  'format',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
]);

/**
 * Schema errors after which the API server does not evaluate CEL rules (strategy.go hasBlockingErr: type,
 * required, enum, too long, too many; a format error is a type error there).
 */
const CEL_BLOCKING_KEYWORDS = new Set(['type', 'required', 'enum', 'maxLength', 'maxItems', 'maxProperties', 'format']);

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Go's time.RFC3339 layout, which is what the API server parses date-time fields with.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Formats the Kubernetes and CRD schemas use, checked the way the API server would. */
const KNOWN_FORMATS = {
  int32: { type: 'number' as const, validate: (n: number) => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX },
  int64: { type: 'number' as const, validate: (n: number) => Number.isInteger(n) },
  double: { type: 'number' as const, validate: (n: number) => Number.isFinite(n) },
  float: { type: 'number' as const, validate: (n: number) => Number.isFinite(n) },
  byte: { type: 'string' as const, validate: (s: string) => BASE64.test(s) },
  'date-time': { type: 'string' as const, validate: isRfc3339 },
  ipv4: { type: 'string' as const, validate: (s: string) => isIPv4(s) },
  ipv6: { type: 'string' as const, validate: (s: string) => isIPv6(s) },
};

/**
 * Compiles a Go RE2 `pattern` as a JavaScript RegExp. RE2 inline flags (`(?i)`), `\A`/`\z` anchors and
 * `(?P<name>` groups have no JavaScript spelling and are translated; a flag group applies to the whole
 * expression, which can only make the check more permissive, never reject what Go accepts.
 */
const goRegExp = Object.assign(
  (pattern: string, flags: string): RegExp => {
    let extraFlags = '';
    const source = pattern
      .replace(/\(\?([imsU]+)\)/g, (_group, inline: string) => {
        if (inline.includes('i')) extraFlags += 'i';
        if (inline.includes('s')) extraFlags += 's';
        if (inline.includes('m')) extraFlags += 'm';
        return '';
      })
      .replace(/\\A/g, '^')
      .replace(/\\z/g, '$')
      .replace(/\(\?P</g, '(?<');
    return new RegExp(source, [...new Set(flags + extraFlags)].join(''));
  },
  // How a cached validator's code reaches this function (see CachedValidators).
  { code: '__validatorHelpers.goRegExp' },
);

function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 60;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

function schemaKey(apiVersion: string, kind: string): string {
  return `${apiVersion}\u0000${kind}`;
}

function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function valueAtPointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let current: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isPlainObject(current)) current = current[token];
    else return undefined;
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `${typeof value} ${shown}`;
}

function quoteList(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/**
 * Applies the openapi2jsonschema / `kubeconform -strict` transform in place: an object schema that lists
 * `properties` rejects any other key, unless it is declared open-ended. Also rewrites the Kubernetes
 * int-or-string conventions into plain JSON Schema type unions, so errors read "must be integer or string"
 * instead of a cascade of failed `oneOf` branches.
 */
class StrictSchemaTransform {
  /** Every `format` value met, so unknown ones can be registered as permissive instead of being warned about. */
  readonly formats = new Set<string>();

  apply(node: unknown, insideCombinator = false): void {
    if (Array.isArray(node)) {
      for (const item of node) this.apply(item, insideCombinator);
      return;
    }
    if (!isPlainObject(node)) return;

    if (node['x-kubernetes-int-or-string'] === true || node.format === 'int-or-string') {
      delete node.anyOf;
      delete node.oneOf;
      if (node.format === 'int-or-string') delete node.format;
      node.type = ['integer', 'string'];
    }
    collapseTypeOnlyUnion(node, 'oneOf');
    collapseTypeOnlyUnion(node, 'anyOf');
    if (typeof node.format === 'string') this.formats.add(node.format);

    const properties = node.properties;
    if (isPlainObject(properties)) {
      if (node['x-kubernetes-embedded-resource'] === true) {
        // The API server accepts type metadata on embedded objects even when the CRD does not list it.
        properties.apiVersion ??= { type: 'string' };
        properties.kind ??= { type: 'string' };
        properties.metadata ??= { type: 'object' };
      }
      // Branches of anyOf/oneOf/allOf/not only add value constraints to the enclosing structural schema
      // (Kubernetes structural-schema rules), so closing them would wrongly reject the enclosing schema's fields.
      if (!insideCombinator && node.additionalProperties === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) {
        node.additionalProperties = false;
      }
      for (const child of Object.values(properties)) this.apply(child, insideCombinator);
    }
    if (isPlainObject(node.additionalProperties)) this.apply(node.additionalProperties, insideCombinator);
    if (node.items !== undefined) this.apply(node.items, insideCombinator);
    for (const combinator of ['allOf', 'anyOf', 'oneOf', 'not'] as const) {
      if (node[combinator] !== undefined) this.apply(node[combinator], true);
    }
  }
}

/** `oneOf: [{type: string}, {type: integer}]` is exactly `type: [string, integer]`, which gives one clear error. */
function collapseTypeOnlyUnion(node: Schema, combinator: 'oneOf' | 'anyOf'): void {
  const branches = node[combinator];
  if (!Array.isArray(branches) || branches.length === 0 || node.type !== undefined) return;
  const types: string[] = [];
  for (const branch of branches) {
    if (!isPlainObject(branch) || Object.keys(branch).length !== 1 || typeof branch.type !== 'string') return;
    types.push(branch.type);
  }
  // For oneOf the collapse is only equivalent when no value can match two branches; integer is also a number.
  if (combinator === 'oneOf' && types.includes('number') && types.includes('integer')) return;
  delete node[combinator];
  node.type = types;
}

/** CRDs declare `metadata` as a bare object; give it the real, strict ObjectMeta like core kinds have. */
function strictCrdRoot(schema: Schema): void {
  const properties = schema.properties;
  // A CRD without a structural schema accepts anything, as it does in kubeconform.
  if (!isPlainObject(properties)) return;
  properties.apiVersion ??= { type: 'string' };
  properties.kind ??= { type: 'string' };
  const metadata = properties.metadata;
  if (isPlainObject(metadata) && isPlainObject(metadata.properties)) {
    // Keep the CRD's own constraints (e.g. a name length limit) without closing metadata to its few listed fields.
    properties.metadata = { allOf: [{ $ref: OBJECT_META_REF }, metadata] };
  } else {
    properties.metadata = { $ref: OBJECT_META_REF };
  }
}

/** Ajv's options, but for the code options, which hold functions. */
const AJV_OPTIONS = {
  // The schemas carry x-kubernetes-* keywords and OpenAPI leftovers that Ajv's strict mode rejects.
  strict: false,
  allErrors: true,
  // Generated, trusted schemas: skipping meta-validation keeps start-up fast.
  validateSchema: false,
  // CRD patterns are Go RE2 expressions; escapes such as `\-` are legal there but not in unicode-mode JS.
  unicodeRegExp: false,
} as const;

/** What a cached validator's code refers to: Ajv's runtime, the formats and the RE2 translation. */
const VALIDATOR_HELPERS = { formats: KNOWN_FORMATS, goRegExp };
/** The modules of Ajv's runtime that generated code requires (`require("ajv/dist/runtime/equal").default`). */
const AJV_RUNTIME: Record<string, unknown> = {
  'ajv/dist/runtime/equal': { default: equal },
  'ajv/dist/runtime/ucs2length': { default: ucs2length },
  'ajv/dist/runtime/uri': { default: uri },
  'ajv/dist/runtime/validation_error': { default: validationError },
};

/**
 * Compiled validators on disk, one file per kind: Ajv's standalone code of exactly the validator Ajv
 * compiled, under a folder named by the hash of everything the code depends on (Ajv's version and
 * options, the formats, and every schema after the strict transform), so that a changed input never
 * meets an old validator. Compiling the Kubernetes and CRD schemas took about 2.5 s of every validate
 * and check run; loading their code takes milliseconds. A cache that cannot be read or written only
 * means compiling, as without one.
 */
class CachedValidators {
  private readonly dir: string;
  /** Whether the validators of earlier inputs are gone; one scan per instance is enough. */
  private pruned = false;

  constructor(
    private readonly root: string,
    private readonly inputsHash: string,
  ) {
    this.dir = path.join(root, inputsHash);
  }

  private file(name: string): string {
    return path.join(this.dir, `${name.replace(/[^A-Za-z0-9.-]/g, '_')}.cjs`);
  }

  load(name: string): ValidateFunction | undefined {
    let code: string;
    try {
      code = readFileSync(this.file(name), 'utf-8');
    } catch {
      return undefined;
    }
    try {
      const module = { exports: {} as unknown };
      const runtimeRequire = (id: string): unknown => {
        if (id in AJV_RUNTIME) return AJV_RUNTIME[id];
        throw new Error(`a cached validator requires ${id}`);
      };
      new Function('module', 'exports', 'require', '__validatorHelpers', code)(module, module.exports, runtimeRequire, VALIDATOR_HELPERS);
      return typeof module.exports === 'function' ? (module.exports as ValidateFunction) : undefined;
    } catch {
      // Unreadable or from an incompatible build: compiled again and replaced.
      return undefined;
    }
  }

  store(name: string, ajv: Ajv, validateFn: ValidateFunction): void {
    try {
      const code = standaloneCode(ajv, validateFn);
      mkdirSync(this.dir, { recursive: true });
      const target = this.file(name);
      const temp = `${target}.${process.pid}.tmp`;
      writeFileSync(temp, code);
      renameSync(temp, target);
      // Validators of earlier schemas or Ajv versions are never read again.
      if (!this.pruned) {
        this.pruned = true;
        for (const folder of readdirSync(this.root)) {
          if (folder !== this.inputsHash && /^[0-9a-f]{24}$/.test(folder)) rmSync(path.join(this.root, folder), { recursive: true, force: true });
        }
      }
    } catch {
      // A read-only or full disk: the next run compiles again.
    }
  }
}

interface ModelValidationError extends Error {
  errors?: Partial<ErrorObject>[];
}

type ModelConstructor = new (data: unknown) => { validate(): void };

/**
 * Strict, in-process equivalent of `kubeconform -strict` for Kubernetes 1.28 core kinds and the CRDs this
 * project imports: unknown fields anywhere (including `metadata`) and duplicate YAML keys are errors, as are
 * kinds without a schema.
 */
export class ManifestValidator {
  /**
   * Reads every schema in `options.schemaDir` (default {@link DEFAULT_SCHEMA_DIR}). Per-kind validators are
   * compiled on first use and cached.
   */
  static load(options: ManifestValidatorOptions = {}): ManifestValidator {
    const schemaDir = options.schemaDir ?? DEFAULT_SCHEMA_DIR;
    const cacheDir = options.cacheDir ?? (path.resolve(schemaDir) === path.resolve(DEFAULT_SCHEMA_DIR) ? DEFAULT_VALIDATOR_CACHE_DIR : false);
    return new ManifestValidator(schemaDir, options.kubernetesModels ?? true, cacheDir === false ? undefined : cacheDir);
  }

  private readonly ajv: Ajv;
  private readonly cache?: CachedValidators;
  private readonly entries = new Map<string, SchemaEntry>();
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly celRuleSets = new Map<string, CelRuleSet>();
  private readonly models = new Map<string, ModelConstructor | null>();
  private readonly requireModel = createRequire(__filename);

  private constructor(
    readonly schemaDir: string,
    private readonly useKubernetesModels: boolean,
    cacheDir: string | undefined,
  ) {
    const transform = new StrictSchemaTransform();
    const core = JSON.parse(readFileSync(path.join(schemaDir, 'k8s.json'), 'utf-8')) as CoreSchemaFile;
    for (const [definition, schema] of Object.entries(core.definitions)) {
      transform.apply(schema);
      const gvks = schema['x-kubernetes-group-version-kind'];
      if (!Array.isArray(gvks)) continue;
      for (const { group, version, kind } of gvks as { group: string; version: string; kind: string }[]) {
        this.entries.set(schemaKey(apiVersionOf(group, version), kind), { origin: 'core', group, version, kind, definition });
      }
    }

    // What every compiled validator depends on: the schemas as transformed, Ajv and its options.
    const inputs = cacheDir === undefined ? undefined : createHash('sha256').update(`${ajvPackage.version}\n${JSON.stringify(AJV_OPTIONS)}\n`);
    const crdFiles = readdirSync(schemaDir)
      .filter((file) => file.endsWith('.json') && file !== 'k8s.json')
      .sort();
    for (const file of crdFiles) {
      const crd = JSON.parse(readFileSync(path.join(schemaDir, file), 'utf-8')) as CrdSchemaFile;
      for (const { group, version, kind, schema } of crd.kinds) {
        // The schema as the CRD declares it, for defaulting and CEL rules, before the strict transform rewrites it.
        const rawSchema = structuredClone(schema);
        // Root first: its metadata wrapper must be in place before the transform closes object schemas.
        strictCrdRoot(schema);
        transform.apply(schema);
        this.entries.set(schemaKey(apiVersionOf(group, version), kind), { origin: 'crd', group, version, kind, schema, rawSchema });
        inputs?.update(`${file}\n${JSON.stringify(schema)}\n`);
      }
    }

    this.ajv = new Ajv({
      ...AJV_OPTIONS,
      // Compiled code is kept for the cache; formats and RE2 patterns are reached through the helpers there.
      code: { regExp: goRegExp, source: cacheDir !== undefined, formats: _`__validatorHelpers.formats` },
      formats: KNOWN_FORMATS,
    });
    const permissiveFormats = [...transform.formats].filter((format) => !(format in KNOWN_FORMATS)).sort();
    for (const format of permissiveFormats) this.ajv.addFormat(format, true);
    this.ajv.addSchema({ definitions: core.definitions }, CORE_SCHEMA_ID);
    if (inputs !== undefined && cacheDir !== undefined) {
      inputs.update(`${permissiveFormats.join(',')}\n${JSON.stringify(core.definitions)}`);
      this.cache = new CachedValidators(cacheDir, inputs.digest('hex').slice(0, 24));
    }
  }

  /** Whether a schema exists for this apiVersion and kind. */
  hasSchema(apiVersion: string, kind: string): boolean {
    return this.entries.has(schemaKey(apiVersion, kind));
  }

  /** Every `apiVersion kind` pair with a schema, sorted. */
  knownKinds(): string[] {
    return [...this.entries.values()].map((e) => `${apiVersionOf(e.group, e.version)} ${e.kind}`).sort();
  }

  /**
   * Validates one parsed object. A Kustomization yields no issues (callers skip it); any other
   * apiVersion/kind without a schema is an issue.
   */
  validate(obj: unknown, file?: string): ManifestIssue[] {
    return this.check(obj, file).issues;
  }

  /**
   * Every x-kubernetes-validations rule of every CRD version, compiled, with how it is handled (evaluated,
   * skipped as a transition rule, or unsupported), in schema file order.
   */
  celRules(): CelRuleInfo[] {
    const rules: CelRuleInfo[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.origin === 'crd') rules.push(...this.celRuleSetFor(key, entry).rules);
    }
    return rules;
  }

  private check(obj: unknown, file?: string): { issues: ManifestIssue[]; cel?: CelObjectReport | 'not-checked' } {
    const identity = identify(obj);
    const withFile = file === undefined ? {} : { file };
    const issue = (issuePath: string, message: string): ManifestIssue => ({ ...withFile, ...identity, path: issuePath, message });

    if (!isPlainObject(obj)) {
      return { issues: [issue('', `expected a Kubernetes object (a mapping), got ${describeValue(obj)}`)] };
    }
    const { apiVersion, kind } = obj;
    const missing: ManifestIssue[] = [];
    if (typeof apiVersion !== 'string' || apiVersion === '') missing.push(issue('', 'missing required field "apiVersion"'));
    if (typeof kind !== 'string' || kind === '') missing.push(issue('', 'missing required field "kind"'));
    if (missing.length > 0) return { issues: missing };
    if (isKustomization(obj)) return { issues: [] };

    const key = schemaKey(apiVersion as string, kind as string);
    const entry = this.entries.get(key);
    if (!entry) return { issues: [issue('', `no schema for ${apiVersion} ${kind}`)] };

    const validateFn = this.validatorFor(key, entry);
    const issues: ManifestIssue[] = [];
    const seen = new Set<string>();
    const add = (issuePath: string, message: string): void => {
      const id = `${issuePath}\u0000${message}`;
      if (seen.has(id)) return;
      seen.add(id);
      issues.push(issue(issuePath, message));
    };

    // A custom resource is validated as the API server stores it: with its schema's defaults filled in.
    const subject = entry.origin === 'crd' ? structuredClone(obj) : obj;
    if (entry.origin === 'crd') applyStructuralDefaults(subject, entry.rawSchema);
    let blocked = false;
    if (!validateFn(subject)) {
      for (const error of withoutBranchNoise(validateFn.errors ?? [])) {
        if (CEL_BLOCKING_KEYWORDS.has(error.keyword)) blocked = true;
        const { path: errorPath, message } = describeError(error, subject);
        add(errorPath, message);
      }
    }

    // Names, labels and annotations: what the API server checks beyond any schema.
    for (const problem of apiServerProblems(obj)) add(problem.path, problem.message);

    if (entry.origin === 'crd') {
      const rules = this.celRuleSetFor(key, entry);
      if (rules.isEmpty) return { issues };
      if (blocked && rules.runsOnCreate) {
        // The server does not run CEL rules on a value of the wrong shape (strategy.go hasBlockingErr).
        add('', 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation');
        return { issues, cel: 'not-checked' };
      }
      pruneNonNullableNullsWithoutDefaults(subject, entry.rawSchema);
      const report = rules.validate(subject);
      for (const celIssue of report.issues) add(celIssue.path, celIssue.message);
      return { issues, cel: report };
    }

    if (entry.origin === 'core' && this.useKubernetesModels) {
      const pathsWithIssues = new Set(issues.map((i) => i.path));
      for (const error of this.modelErrors(entry, obj)) {
        if (!error.keyword || !MODEL_LAYER_KEYWORDS.has(error.keyword)) continue;
        const described = describeError(error as ErrorObject, obj);
        if (!pathsWithIssues.has(described.path)) add(described.path, described.message);
      }
    }
    return { issues };
  }

  /**
   * Validates every document of a multi-document YAML string. Syntax errors and duplicate keys are issues;
   * empty documents and Kustomizations are skipped.
   */
  validateYamlText(text: string, file?: string): ManifestIssue[] {
    return this.checkYamlText(text, file, new CelSummaryCollector()).issues;
  }

  /**
   * Validates every `*.yaml` / `*.yml` file under `dir`, recursively and in sorted order, skipping
   * kustomization files. Issue `file`s are `dir` joined with the file's relative path.
   */
  validateDirectory(dir: string): DirectoryValidationResult {
    const result: Omit<DirectoryValidationResult, 'cel'> = { files: 0, objects: 0, invalid: 0, issues: [] };
    const cel = new CelSummaryCollector();
    for (const file of listManifestFiles(dir)) {
      const checked = this.checkYamlText(readFileSync(file, 'utf-8'), file, cel);
      result.files += 1;
      result.objects += checked.objects;
      result.invalid += checked.invalid;
      result.issues.push(...checked.issues);
    }
    return { ...result, cel: cel.summary() };
  }

  private checkYamlText(text: string, file: string | undefined, cel: CelSummaryCollector): { objects: number; invalid: number; issues: ManifestIssue[] } {
    const result = { objects: 0, invalid: 0, issues: [] as ManifestIssue[] };
    const withFile = file === undefined ? {} : { file };
    for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
      let value: unknown;
      let unconvertible: string | undefined;
      try {
        value = doc.toJS({ maxAliasCount: 1000 });
      } catch (error) {
        // An alias to no anchor, or aliases that expand beyond reason: not an empty document.
        unconvertible = (error as Error).message;
      }
      const identity = identify(value);
      const syntaxIssues: ManifestIssue[] = [];
      let unreadable = false;
      if (unconvertible !== undefined && doc.errors.length === 0) {
        unreadable = true;
        syntaxIssues.push({ ...withFile, ...identity, path: '', message: `invalid YAML: ${unconvertible}` });
      }
      for (const error of doc.errors) {
        if (error.code === 'DUPLICATE_KEY') {
          const duplicate = findKeyAt(doc, error.pos[0]);
          const where = error.linePos ? ` (line ${error.linePos[0].line}, column ${error.linePos[0].col})` : '';
          const message = `duplicate key ${JSON.stringify(duplicate?.key ?? '?')}${where}`;
          syntaxIssues.push({ ...withFile, ...identity, path: duplicate?.path ?? '', message });
        } else {
          unreadable = true;
          syntaxIssues.push({ ...withFile, ...identity, path: '', message: `invalid YAML: ${error.message.split('\n')[0]}` });
        }
      }

      const isEmpty = value === null || value === undefined;
      if (syntaxIssues.length === 0 && (isEmpty || isKustomization(value))) continue;
      result.objects += 1;
      // A document that failed to parse has no trustworthy content; a duplicate key only loses the earlier value.
      let issues = syntaxIssues;
      if (!unreadable && !isEmpty) {
        const checked = this.check(value, file);
        issues = [...syntaxIssues, ...checked.issues];
        if (checked.cel === 'not-checked') cel.addNotChecked();
        else if (checked.cel) cel.add(checked.cel);
      }
      if (issues.length > 0) result.invalid += 1;
      result.issues.push(...issues);
    }
    return result;
  }

  private validatorFor(key: string, entry: SchemaEntry): ValidateFunction {
    let validateFn = this.compiled.get(key);
    if (!validateFn) {
      const name = `${apiVersionOf(entry.group, entry.version)}_${entry.kind}`;
      validateFn = this.cache?.load(name);
      if (!validateFn) {
        validateFn = this.compile(entry);
        this.cache?.store(name, this.ajv, validateFn);
      }
      this.compiled.set(key, validateFn);
    }
    return validateFn;
  }

  private compile(entry: SchemaEntry): ValidateFunction {
    if (entry.origin === 'crd') return this.ajv.compile(entry.schema);
    const validateFn = this.ajv.getSchema(`${CORE_SCHEMA_ID}#/definitions/${entry.definition}`);
    if (!validateFn) throw new Error(`schema ${entry.definition} is missing from ${CORE_SCHEMA_ID}`);
    return validateFn;
  }

  private celRuleSetFor(key: string, entry: Extract<SchemaEntry, { origin: 'crd' }>): CelRuleSet {
    let rules = this.celRuleSets.get(key);
    if (!rules) {
      rules = new CelRuleSet(apiVersionOf(entry.group, entry.version), entry.kind, entry.rawSchema);
      this.celRuleSets.set(key, rules);
    }
    return rules;
  }

  private modelErrors(entry: Extract<SchemaEntry, { origin: 'core' }>, obj: Record<string, unknown>): Partial<ErrorObject>[] {
    const Model = this.modelFor(entry);
    if (!Model) return [];
    try {
      new Model(obj).validate();
      return [];
    } catch (error) {
      const errors = (error as ModelValidationError).errors;
      if (!Array.isArray(errors)) throw error;
      return errors;
    }
  }

  private modelFor(entry: Extract<SchemaEntry, { origin: 'core' }>): ModelConstructor | null {
    const modulePath = `kubernetes-models/${entry.group === '' ? '' : `${entry.group}/`}${entry.version}/${entry.kind}`;
    if (!this.models.has(modulePath)) {
      let Model: ModelConstructor | null = null;
      try {
        const loaded = this.requireModel(modulePath) as Record<string, unknown>;
        if (typeof loaded[entry.kind] === 'function') Model = loaded[entry.kind] as ModelConstructor;
      } catch (error) {
        // Kinds dropped from newer Kubernetes releases have no model; the 1.28 schema still covers them.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error;
      }
      this.models.set(modulePath, Model);
    }
    return this.models.get(modulePath) ?? null;
  }
}

function isKustomization(value: unknown): boolean {
  return isPlainObject(value) && value.apiVersion === KUSTOMIZATION_API_VERSION && value.kind === KUSTOMIZATION_KIND;
}

function identify(value: unknown): ObjectIdentity {
  if (!isPlainObject(value)) return { kind: '', name: '' };
  const metadata = isPlainObject(value.metadata) ? value.metadata : {};
  const identity: ObjectIdentity = {
    kind: typeof value.kind === 'string' ? value.kind : '',
    name: typeof metadata.name === 'string' ? metadata.name : '',
  };
  if (typeof metadata.namespace === 'string') identity.namespace = metadata.namespace;
  return identity;
}

/**
 * With allErrors, a failed anyOf/oneOf also reports why each branch failed; those branch errors are noise
 * next to the combinator's own error, so they are dropped.
 */
function withoutBranchNoise(errors: ErrorObject[]): ErrorObject[] {
  const combinators = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  if (combinators.length === 0) return errors;
  return errors.filter(
    (e) => !combinators.some((c) => c !== e && e.schemaPath.startsWith(`${c.schemaPath}/`) && e.instancePath.startsWith(c.instancePath)),
  );
}

function describeError(error: ErrorObject, root: unknown): { path: string; message: string } {
  const instancePath = error.instancePath ?? '';
  const params = (error.params ?? {}) as Record<string, unknown>;
  const value = valueAtPointer(root, instancePath);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      return { path: `${instancePath}/${escapePointerToken(key)}`, message: `unknown field ${JSON.stringify(key)}` };
    }
    case 'required':
      return { path: instancePath, message: `missing required field ${JSON.stringify(String(params.missingProperty))}` };
    case 'type': {
      const types = Array.isArray(params.type) ? params.type : String(params.type).split(',');
      return { path: instancePath, message: `must be ${types.join(' or ')}, got ${describeValue(value)}` };
    }
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : [];
      return { path: instancePath, message: `must be one of ${quoteList(allowed)}, got ${describeValue(value)}` };
    }
    case 'const':
      return { path: instancePath, message: `must be ${JSON.stringify(params.allowedValue)}, got ${describeValue(value)}` };
    case 'format':
      return { path: instancePath, message: `must be a valid ${String(params.format)}, got ${describeValue(value)}` };
    case 'pattern':
      return { path: instancePath, message: `must match pattern ${String(params.pattern)}, got ${describeValue(value)}` };
    case 'oneOf':
      return {
        path: instancePath,
        message: Array.isArray(params.passingSchemas)
          ? 'matches more than one of the mutually exclusive alternatives'
          : 'does not match any of the allowed alternatives',
      };
    case 'anyOf':
      return { path: instancePath, message: 'does not match any of the allowed alternatives' };
    default:
      return { path: instancePath, message: error.message ?? `fails the "${error.keyword}" check` };
  }
}

/** Finds the map key that starts at `offset` and returns it with its JSON pointer. */
function findKeyAt(doc: Document, offset: number): { key: string; path: string } | undefined {
  const walk = (node: unknown, pointer: string): { key: string; path: string } | undefined => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyText = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const keyPointer = `${pointer}/${escapePointerToken(keyText)}`;
        if (isScalar(pair.key) && pair.key.range?.[0] === offset) return { key: keyText, path: keyPointer };
        const found = walk(pair.value, keyPointer);
        if (found) return found;
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) {
        const found = walk(item, `${pointer}/${index}`);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(doc.contents, '');
}

function listManifestFiles(dir: string): string[] {
  const files: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listManifestFiles(full));
    else if (entry.isFile() && /\.ya?ml$/.test(entry.name) && !KUSTOMIZATION_FILE_NAMES.has(entry.name)) files.push(full);
  }
  return files;
}

/**
 * Renders an issue on one line:
 * `dist/staging/Deployment.intent-classifier.k8s.yaml: Deployment/intent-classifier: /spec/...: unknown field "x"`.
 */
export function formatIssue(issue: ManifestIssue): string {
  const parts: string[] = [];
  if (issue.file) parts.push(issue.file);
  if (issue.kind || issue.name) parts.push(`${issue.kind || '(no kind)'}/${issue.name || '(no name)'}`);
  if (issue.path) parts.push(issue.path);
  parts.push(issue.message);
  return parts.join(': ');
}

let sharedValidator: ManifestValidator | undefined;

/** The validator for the repository's own schemas, loaded once per process. */
export function defaultValidator(): ManifestValidator {
  sharedValidator ??= ManifestValidator.load();
  return sharedValidator;
}

/** {@link ManifestValidator.validateYamlText} with the repository's schemas. */
export function validateYamlText(text: string, file?: string): ManifestIssue[] {
  return defaultValidator().validateYamlText(text, file);
}

/** {@link ManifestValidator.validateDirectory} with the repository's schemas. */
export function validateDirectory(dir: string): DirectoryValidationResult {
  return defaultValidator().validateDirectory(dir);
}
