import { celList, isCelError, parse, plan, type CelInput, type CelValue } from '@bufbuild/cel';
import { create } from '@bufbuild/protobuf';
import { TimestampSchema } from '@bufbuild/protobuf/wkt';
import { CEL_TYPE_IDENTIFIERS, escapeCelPropertyName, hasCelOverload, kubernetesCelEnv } from './kubernetes-cel-library';

/*
 * x-kubernetes-validations (CEL) rules, evaluated the way the API server does for custom resources
 * (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go):
 *   - the object is first pruned of nulls the schema does not allow and defaulted from the schema's `default`s
 *     (schema/defaulting), as it is when the server decodes a request;
 *   - each rule runs at its schema location with `self` bound to the value there, for every value the location
 *     matches (list items, map values); a location whose value is absent or null is not evaluated;
 *   - values are typed by the schema (k8s.io/apiserver/pkg/cel/common/values.go): integers are CEL ints, numbers
 *     doubles, `date-time` strings timestamps, `byte` strings bytes; objects expose only their declared
 *     properties, under their escaped names (`namespace` is `__namespace__`), and a null property is absent; at a
 *     resource root `metadata` holds only `name` and `generateName`;
 *   - a false result is reported with the rule's `message` (or `messageExpression`, or "failed rule: <rule>"), at
 *     the rule's location or its `fieldPath`, with its `reason`; an evaluation error rejects the value too.
 * Transition rules (those that read `oldSelf`) only run on updates; there is no stored object here, so they are
 * listed as skipped. A rule this evaluator cannot run is listed and reported as unsupported, never passed.
 * Not modelled: the CEL cost budget (the pinned rules were accepted by the API server's cost estimator), and the
 * order-insensitive equality of `x-kubernetes-list-type: set`/`map` lists (lists compare element by element).
 */

type Schema = { [keyword: string]: unknown };

/** One entry of an `x-kubernetes-validations` list. */
export interface CelValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: string;
  optionalOldSelf?: boolean;
}

/** How a rule is handled: evaluated, skipped as a transition rule, or reported as unsupported. */
export type CelRuleStatus = 'evaluated' | 'transition' | 'unsupported';

/** One rule of one CRD version, where it sits and how it is handled. */
export interface CelRuleInfo {
  apiVersion: string;
  kind: string;
  /** Schema location as a field path: `.spec.rules[*].matches[*].path`; `''` is the resource root. */
  location: string;
  rule: CelValidationRule;
  status: CelRuleStatus;
  /** For `unsupported`: what this evaluator cannot do. */
  unsupported?: string;
}

/** A rule that was met (its location had a value) but not evaluated, and how many values it applied to. */
export interface CelRuleUse {
  info: CelRuleInfo;
  count: number;
}

/** One problem a rule found: a JSON pointer into the object and the message. */
export interface CelIssue {
  path: string;
  message: string;
}

/** What evaluating the rules of one object did. */
export interface CelObjectReport {
  issues: CelIssue[];
  /** Rule evaluations: one per rule per value its location matched. */
  evaluations: number;
  /** Evaluations that rejected the value (false, or an evaluation error). */
  failures: number;
  /** Distinct rules evaluated. */
  evaluated: CelRuleInfo[];
  transitionSkipped: CelRuleUse[];
  unsupported: CelRuleUse[];
}

type Program = (bindings: { self: CelInput }) => CelValue | Error;

interface CompiledExpression {
  program?: Program;
  usesOldSelf: boolean;
  /** Why the expression cannot be evaluated here. */
  unsupported?: string;
}

interface BoundRule {
  info: CelRuleInfo;
  program?: Program;
  messageProgram?: Program;
  /** JSON pointer tokens of `fieldPath`, relative to the rule's location. */
  fieldPathTokens: string[];
}

interface RuleNode {
  rules: BoundRule[];
  properties: Map<string, RuleNode>;
  items?: RuleNode;
  additionalProperties?: RuleNode;
}

/** Upstream limit on an evaluated messageExpression (celconfig.MaxEvaluatedMessageExpressionSizeBytes). */
const MAX_MESSAGE_EXPRESSION_BYTES = 5 * 1024;

/** Compiled expressions by source text: the same rule text in several versions or kinds is compiled once. */
const compiledExpressions = new Map<string, CompiledExpression>();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function schemaOf(value: unknown): Schema | undefined {
  return isPlainObject(value) ? value : undefined;
}

function typeOf(schema: Schema): string | undefined {
  return typeof schema.type === 'string' ? schema.type : undefined;
}

function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

// ---------------------------------------------------------------------------------------------------------
// Compiling

type Expr = ReturnType<typeof parse>['expr'];

/**
 * Parses an expression and checks, without types, that everything it calls and names exists here: every
 * function with its arity and receiver, and every free identifier (`self`, `oldSelf`, type names).
 */
export function compileCelExpression(source: string): CompiledExpression {
  const cached = compiledExpressions.get(source);
  if (cached) return cached;
  let compiled: CompiledExpression;
  let parsed: ReturnType<typeof parse> | undefined;
  try {
    parsed = parse(source);
  } catch (error) {
    compiled = { usesOldSelf: false, unsupported: `does not parse: ${(error as Error).message}` };
  }
  if (parsed) {
    const problems = new Set<string>();
    const usesOldSelf = checkExpression(parsed.expr, new Set(), problems);
    if (problems.size > 0) {
      compiled = { usesOldSelf, unsupported: [...problems].join('; ') };
    } else {
      const program = plan(kubernetesCelEnv(), parsed) as unknown as Program;
      compiled = { usesOldSelf, program };
    }
  }
  compiledExpressions.set(source, compiled!);
  return compiled!;
}

/** Walks the parsed expression; returns whether it reads `oldSelf`, and adds what is not supported to `problems`. */
function checkExpression(expr: Expr | undefined, scope: Set<string>, problems: Set<string>): boolean {
  if (!expr) return false;
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'constExpr':
      return false;
    case 'identExpr': {
      const name = kind.value.name;
      if (scope.has(name) || name === 'self') return false;
      if (name === 'oldSelf') return true;
      if (!CEL_TYPE_IDENTIFIERS.has(name)) problems.add(`undeclared reference to "${name}"`);
      return false;
    }
    case 'selectExpr':
      return checkExpression(kind.value.operand, scope, problems);
    case 'callExpr': {
      const call = kind.value;
      const method = call.target !== undefined;
      if (!hasCelOverload(call.function, call.args.length, method)) {
        problems.add(`unknown function ${method ? '<receiver>.' : ''}${call.function}(${call.args.length} argument${call.args.length === 1 ? '' : 's'})`);
      }
      let usesOldSelf = checkExpression(call.target, scope, problems);
      for (const arg of call.args) usesOldSelf = checkExpression(arg, scope, problems) || usesOldSelf;
      return usesOldSelf;
    }
    case 'listExpr': {
      let usesOldSelf = false;
      for (const element of kind.value.elements) usesOldSelf = checkExpression(element, scope, problems) || usesOldSelf;
      if (kind.value.optionalIndices.length > 0) problems.add('optional list elements');
      return usesOldSelf;
    }
    case 'structExpr': {
      if (kind.value.messageName !== '') problems.add(`message construction "${kind.value.messageName}{...}"`);
      let usesOldSelf = false;
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === 'mapKey') usesOldSelf = checkExpression(entry.keyKind.value, scope, problems) || usesOldSelf;
        usesOldSelf = checkExpression(entry.value, scope, problems) || usesOldSelf;
        if (entry.optionalEntry) problems.add('optional map entries');
      }
      return usesOldSelf;
    }
    case 'comprehensionExpr': {
      const c = kind.value;
      let usesOldSelf = checkExpression(c.iterRange, scope, problems);
      usesOldSelf = checkExpression(c.accuInit, scope, problems) || usesOldSelf;
      const loopScope = new Set([...scope, c.accuVar, c.iterVar, ...(c.iterVar2 ? [c.iterVar2] : [])]);
      usesOldSelf = checkExpression(c.loopCondition, loopScope, problems) || usesOldSelf;
      usesOldSelf = checkExpression(c.loopStep, loopScope, problems) || usesOldSelf;
      usesOldSelf = checkExpression(c.result, new Set([...scope, c.accuVar]), problems) || usesOldSelf;
      return usesOldSelf;
    }
    default:
      problems.add(`unsupported expression ${String(kind.case)}`);
      return false;
  }
}

/** Formats whose Kubernetes CEL conversion (duration via strfmt.ParseDuration, date) is not implemented here. */
const UNCONVERTED_FORMATS = new Set(['duration', 'date']);

/** The first location under `schema` holding values of a format this evaluator does not convert. */
function unconvertedFormatIn(schema: Schema, location: string, seen = new Set<Schema>()): string | undefined {
  if (seen.has(schema)) return undefined;
  seen.add(schema);
  if (typeOf(schema) === 'string' && typeof schema.format === 'string' && UNCONVERTED_FORMATS.has(schema.format)) {
    return `values at "${location || '.'}" have format "${schema.format}", whose CEL conversion is not implemented`;
  }
  const properties = schemaOf(schema.properties);
  for (const [name, child] of Object.entries(properties ?? {})) {
    const childSchema = schemaOf(child);
    const found = childSchema && unconvertedFormatIn(childSchema, `${location}.${name}`, seen);
    if (found) return found;
  }
  for (const [child, suffix] of [
    [schemaOf(schema.items), '[*]'],
    [schemaOf(schema.additionalProperties), '[*]'],
  ] as const) {
    const found = child && unconvertedFormatIn(child, `${location}${suffix}`, seen);
    if (found) return found;
  }
  return undefined;
}

/**
 * `fieldPath` as pointer tokens (Kubernetes ValidFieldPath): `.name` and `['name']` steps through declared
 * properties and map keys, relative to the rule's location.
 */
function fieldPathTokens(fieldPath: string, schema: Schema): string[] | string {
  const tokens: string[] = [];
  let node: Schema | undefined = schema;
  const step = /^(?:\.([^.[\]]+)|\['((?:[^'\\]|\\.)*)'\])/;
  let rest = fieldPath;
  while (rest.length > 0) {
    const m = step.exec(rest);
    if (!m || !node) return `fieldPath "${fieldPath}" is not a valid field path`;
    const name = m[1] ?? m[2].replace(/\\(.)/g, '$1');
    const properties = schemaOf(node.properties);
    if (properties) {
      if (!(name in properties)) return `fieldPath "${fieldPath}" does not refer to a valid field`;
      node = schemaOf(properties[name]);
    } else if (schemaOf(node.additionalProperties)) {
      node = schemaOf(node.additionalProperties);
    } else {
      return `fieldPath "${fieldPath}" does not refer to a valid field`;
    }
    tokens.push(name);
    rest = rest.slice(m[0].length);
  }
  return tokens;
}

function bindRule(rule: CelValidationRule, schema: Schema, info: Omit<CelRuleInfo, 'rule' | 'status'>): BoundRule {
  const bound = (status: CelRuleStatus, unsupported?: string, extra: Partial<BoundRule> = {}): BoundRule => ({
    info: { ...info, rule, status, ...(unsupported === undefined ? {} : { unsupported }) },
    fieldPathTokens: [],
    ...extra,
  });
  if (typeof rule.rule !== 'string') return bound('unsupported', 'the rule has no expression');
  const compiled = compileCelExpression(rule.rule);
  if (compiled.unsupported) return bound('unsupported', compiled.unsupported);
  if (compiled.usesOldSelf) {
    // With optionalOldSelf the server runs the rule on create too, with oldSelf = optional.none().
    if (rule.optionalOldSelf) return bound('unsupported', 'optionalOldSelf rules run on create with an empty optional oldSelf, which is not modelled');
    return bound('transition');
  }
  const format = unconvertedFormatIn(schema, info.location);
  if (format) return bound('unsupported', format);
  let messageProgram: Program | undefined;
  if (typeof rule.messageExpression === 'string') {
    const message = compileCelExpression(rule.messageExpression);
    if (message.unsupported) return bound('unsupported', `messageExpression ${message.unsupported}`);
    if (message.usesOldSelf) return bound('unsupported', 'messageExpression reads oldSelf');
    messageProgram = message.program;
  }
  let tokens: string[] = [];
  if (typeof rule.fieldPath === 'string' && rule.fieldPath !== '') {
    const resolved = fieldPathTokens(rule.fieldPath, schema);
    if (typeof resolved === 'string') return bound('unsupported', resolved);
    tokens = resolved;
  }
  return bound('evaluated', undefined, { program: compiled.program, messageProgram, fieldPathTokens: tokens });
}

// ---------------------------------------------------------------------------------------------------------
// The rule tree

/**
 * The `x-kubernetes-validations` rules of one CRD version's schema, compiled once, in a tree that follows the
 * schema's structure (properties, items, additionalProperties) and holds only branches that lead to rules.
 */
export class CelRuleSet {
  /** Every rule of the schema, in schema order, with how it is handled. */
  readonly rules: CelRuleInfo[] = [];
  private readonly root: RuleNode | undefined;

  constructor(
    readonly apiVersion: string,
    readonly kind: string,
    private readonly schema: Schema,
  ) {
    this.root = this.build(schema, '');
  }

  /** Whether the schema carries any rule. */
  get isEmpty(): boolean {
    return this.root === undefined;
  }

  /** Whether any rule would run on a new object (anything but transition rules). */
  get runsOnCreate(): boolean {
    return this.rules.some((r) => r.status !== 'transition');
  }

  private build(schema: Schema, location: string): RuleNode | undefined {
    const node: RuleNode = { rules: [], properties: new Map() };
    const at = { apiVersion: this.apiVersion, kind: this.kind, location };
    for (const rule of rulesOf(schema)) node.rules.push(bindRule(rule, schema, at));
    // The server evaluates rules on the structural spine only; rules nested in combinators are listed as unsupported.
    for (const combinator of ['allOf', 'anyOf', 'oneOf', 'not'] as const) {
      for (const nested of nestedRules(schema[combinator])) {
        node.rules.push({
          info: { ...at, rule: nested, status: 'unsupported', unsupported: `the rule is inside ${combinator}` },
          fieldPathTokens: [],
        });
      }
    }
    this.rules.push(...node.rules.map((r) => r.info));
    for (const [name, child] of Object.entries(schemaOf(schema.properties) ?? {})) {
      const childSchema = schemaOf(child);
      const built = childSchema && this.build(childSchema, `${location}.${name}`);
      if (built) node.properties.set(name, built);
    }
    const items = schemaOf(schema.items);
    if (items) node.items = this.build(items, `${location}[*]`);
    const additional = schemaOf(schema.additionalProperties);
    if (additional) node.additionalProperties = this.build(additional, `${location}[*]`);
    const empty = node.rules.length === 0 && node.properties.size === 0 && !node.items && !node.additionalProperties;
    return empty ? undefined : node;
  }

  /**
   * Evaluates every rule against `obj`, which must already be prepared as the server prepares it
   * ({@link prepareForValidation}).
   */
  validate(obj: unknown): CelObjectReport {
    const report: CelObjectReport = { issues: [], evaluations: 0, failures: 0, evaluated: [], transitionSkipped: [], unsupported: [] };
    if (!this.root) return report;
    const evaluated = new Set<CelRuleInfo>();
    const skipped = new Map<CelRuleInfo, number>();
    const unsupported = new Map<CelRuleInfo, number>();
    const converter = new CelValueConverter();

    const visit = (node: RuleNode, schema: Schema, value: unknown, pointer: string, resourceRoot: boolean): void => {
      // Only non-null values are validated: rules on an absent or null field do not run.
      if (value === undefined || value === null) return;
      for (const rule of node.rules) {
        const { info } = rule;
        if (info.status === 'transition') {
          skipped.set(info, (skipped.get(info) ?? 0) + 1);
          continue;
        }
        if (info.status === 'unsupported' || !rule.program) {
          unsupported.set(info, (unsupported.get(info) ?? 0) + 1);
          report.issues.push({ path: pointer, message: `UNSUPPORTED x-kubernetes-validations rule (${info.unsupported}): ${info.rule.rule}` });
          continue;
        }
        evaluated.add(info);
        report.evaluations += 1;
        const issue = evaluateRule(rule, converter, value, schema, pointer, resourceRoot);
        if (issue) {
          report.failures += 1;
          report.issues.push(issue);
        }
      }
      if (Array.isArray(value)) {
        const items = schemaOf(schema.items);
        if (node.items && items) value.forEach((item, i) => visit(node.items!, items, item, `${pointer}/${i}`, items['x-kubernetes-embedded-resource'] === true));
        return;
      }
      if (!isPlainObject(value)) return;
      const properties = schemaOf(schema.properties) ?? {};
      const additional = schemaOf(schema.additionalProperties);
      for (const [key, child] of Object.entries(value)) {
        const childNode = node.properties.get(key);
        const childSchema = schemaOf(properties[key]);
        const childPointer = `${pointer}/${escapePointerToken(key)}`;
        if (childNode && childSchema) {
          visit(childNode, childSchema, child, childPointer, childSchema['x-kubernetes-embedded-resource'] === true);
        } else if (!(key in properties) && node.additionalProperties && additional) {
          visit(node.additionalProperties, additional, child, childPointer, additional['x-kubernetes-embedded-resource'] === true);
        }
      }
    };
    visit(this.root, this.schema, obj, '', true);

    report.evaluated = [...evaluated];
    report.transitionSkipped = [...skipped].map(([info, count]) => ({ info, count }));
    report.unsupported = [...unsupported].map(([info, count]) => ({ info, count }));
    return report;
  }
}

function rulesOf(schema: Schema): CelValidationRule[] {
  const rules = schema['x-kubernetes-validations'];
  return Array.isArray(rules) ? rules.filter(isPlainObject).map((r) => r as unknown as CelValidationRule) : [];
}

/** Every rule anywhere under a combinator's branches. */
function nestedRules(node: unknown): CelValidationRule[] {
  if (Array.isArray(node)) return node.flatMap(nestedRules);
  if (!isPlainObject(node)) return [];
  return [...rulesOf(node), ...Object.entries(node).filter(([k]) => k !== 'x-kubernetes-validations').flatMap(([, v]) => nestedRules(v))];
}

/** The detail the server reports for a failed rule (ruleMessageOrDefault). */
function ruleMessage(rule: CelValidationRule): string {
  const message = rule.message?.trim();
  return message ? message : `failed rule: ${rule.rule.trim()}`;
}

/** How the server words a rule's error for its `reason` (fieldErrorForReason and field.Error's type strings). */
function withReason(reason: string | undefined, detail: string): string {
  switch (reason) {
    case 'FieldValueForbidden':
      return `Forbidden: ${detail}`;
    case 'FieldValueRequired':
      return `Required value: ${detail}`;
    case 'FieldValueDuplicate':
      return `Duplicate value: ${detail}`;
    default:
      return detail;
  }
}

function evaluateRule(
  rule: BoundRule,
  converter: CelValueConverter,
  value: unknown,
  schema: Schema,
  pointer: string,
  resourceRoot: boolean,
): CelIssue | undefined {
  const source = rule.info.rule;
  let self: CelInput;
  try {
    self = converter.convert(value, schema, resourceRoot);
  } catch (error) {
    return { path: pointer, message: `${(error as Error).message} evaluating rule: ${ruleErrorString(source)}` };
  }
  let result: CelValue | Error;
  try {
    result = rule.program!({ self });
  } catch (error) {
    result = error instanceof Error ? error : new Error(String(error));
  }
  if (isCelError(result) || result instanceof Error) {
    return { path: pointer, message: `${result.message} evaluating rule: ${ruleErrorString(source)}` };
  }
  if (result === true) return undefined;
  if (typeof result !== 'boolean') {
    return { path: pointer, message: `rule did not evaluate to a bool evaluating rule: ${ruleErrorString(source)}` };
  }
  let detail: string | undefined;
  if (rule.messageProgram) detail = evaluateMessageExpression(rule.messageProgram, self);
  detail ??= ruleMessage(source);
  const path = pointer + rule.fieldPathTokens.map((t) => `/${escapePointerToken(t)}`).join('');
  return { path, message: withReason(source.reason, detail) };
}

function ruleErrorString(rule: CelValidationRule): string {
  return rule.message?.trim() || rule.rule.trim();
}

/** A messageExpression's result, or undefined when the server would fall back to `message` (evalMessageExpression). */
function evaluateMessageExpression(program: Program, self: CelInput): string | undefined {
  let result: unknown;
  try {
    result = program({ self });
  } catch {
    return undefined;
  }
  if (typeof result !== 'string') return undefined;
  const trimmed = result.trim();
  if (trimmed === '' || trimmed.includes('\n') || Buffer.byteLength(trimmed) > MAX_MESSAGE_EXPRESSION_BYTES) return undefined;
  return trimmed;
}

// ---------------------------------------------------------------------------------------------------------
// Values

// Go's time.RFC3339 layout as strfmt.ParseDateTime accepts it, with up to nanosecond fractions.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function timestampOf(text: string): CelInput {
  const m = RFC3339.exec(text);
  if (!m) throw new Error(`Invalid date-time formatted string ${text}`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const offsetMinutes = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  const utcSeconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000 - offsetMinutes * 60;
  const nanos = m[7] ? Number(m[7].padEnd(9, '0')) : 0;
  return create(TimestampSchema, { seconds: BigInt(utcSeconds), nanos }) as unknown as CelInput;
}

/** The value of a resource root's `metadata` as CEL sees it (model.WithTypeAndObjectMeta): name and generateName only. */
const RESOURCE_ROOT_METADATA: Schema = {
  type: 'object',
  properties: { name: { type: 'string' }, generateName: { type: 'string' } },
};

/**
 * Converts JSON values to CEL values the way the API server types them by schema (UnstructuredToVal),
 * caching each converted object or list for the rules that run on it and on its ancestors.
 */
class CelValueConverter {
  // Keyed by value and schema: YAML aliases can put one object at two places of different schemas.
  private readonly cache = new WeakMap<object, Map<Schema | undefined, CelInput>>();

  convert(value: unknown, schema: Schema | undefined, resourceRoot = false): CelInput {
    if (value === null || value === undefined) return null;
    if (typeof value !== 'object') return this.convertUncached(value, schema, resourceRoot);
    let bySchema = this.cache.get(value);
    if (!bySchema) {
      bySchema = new Map();
      this.cache.set(value, bySchema);
    }
    let converted = bySchema.get(schema);
    if (converted === undefined) {
      converted = this.convertUncached(value, schema, resourceRoot);
      bySchema.set(schema, converted);
    }
    return converted;
  }

  private convertUncached(value: unknown, schema: Schema | undefined, resourceRoot: boolean): CelInput {
    if (!schema) return untyped(value);
    if (schema['x-kubernetes-int-or-string'] === true) {
      if (typeof value === 'string') return value;
      if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
      throw new Error('invalid data, expected XIntOrString value to be either a string or integer');
    }
    const type = typeOf(schema);
    switch (type) {
      case 'object':
        return this.convertObject(value, schema, resourceRoot);
      case 'array': {
        if (!Array.isArray(value)) throw new Error('invalid data, expected an array for the provided schema with type=array');
        const items = schemaOf(schema.items);
        return celList(value.map((item) => this.convert(item, items, items?.['x-kubernetes-embedded-resource'] === true)));
      }
      case 'string':
        if (typeof value !== 'string') throw new Error(`invalid data, expected string, got ${typeof value}`);
        if (schema.format === 'date-time') return timestampOf(value);
        if (schema.format === 'byte') return new Uint8Array(Buffer.from(value, 'base64'));
        return value;
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`invalid data, expected int, got ${typeof value}`);
        return BigInt(value);
      case 'number':
        if (typeof value !== 'number') throw new Error(`invalid data, expected float, got ${typeof value}`);
        return value;
      case 'boolean':
        if (typeof value !== 'boolean') throw new Error(`invalid data, expected bool, got ${typeof value}`);
        return value;
      default:
        // No type: x-kubernetes-preserve-unknown-fields data, kept as it is.
        return untyped(value);
    }
  }

  private convertObject(value: unknown, schema: Schema, resourceRoot: boolean): CelInput {
    if (!isPlainObject(value)) throw new Error('invalid data, expected a map for the provided schema with type=object');
    const properties = schemaOf(schema.properties);
    const embedded = schema['x-kubernetes-embedded-resource'] === true;
    if (properties || embedded) {
      const declared: Record<string, unknown> = { ...(properties ?? {}) };
      if (resourceRoot || embedded) {
        declared.apiVersion = { type: 'string' };
        declared.kind = { type: 'string' };
        declared.metadata = RESOURCE_ROOT_METADATA;
      }
      const map = new Map<string, CelInput>();
      for (const [key, child] of Object.entries(value)) {
        // Undeclared fields are invisible to CEL, and a null property reads as absent.
        if (!(key in declared) || child === null) continue;
        const name = escapeCelPropertyName(key);
        if (name === undefined) continue;
        const childSchema = schemaOf(declared[key]);
        map.set(name, this.convert(child, childSchema, childSchema?.['x-kubernetes-embedded-resource'] === true));
      }
      return map;
    }
    const additional = schemaOf(schema.additionalProperties);
    if (additional) {
      const map = new Map<string, CelInput>();
      for (const [key, child] of Object.entries(value)) map.set(key, this.convert(child, additional, additional['x-kubernetes-embedded-resource'] === true));
      return map;
    }
    // An object with x-kubernetes-preserve-unknown-fields and no declared fields exposes none of them.
    return new Map<string, CelInput>();
  }
}

/** Data without a schema: JSON as CEL, whole numbers as ints. */
function untyped(value: unknown): CelInput {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return celList(value.map(untyped));
  if (isPlainObject(value)) return new Map(Object.entries(value).map(([k, v]) => [k, untyped(v)]));
  throw new Error(`invalid data, unexpected ${typeof value}`);
}

// ---------------------------------------------------------------------------------------------------------
// Preparing the object as the server does before validation

/** The schema that describes `key` of an object: its property, or the additionalProperties schema. */
function schemaForField(key: string, schema: Schema | undefined): Schema | undefined {
  if (!schema) return undefined;
  const properties = schemaOf(schema.properties);
  if (properties && key in properties) return schemaOf(properties[key]);
  return schemaOf(schema.additionalProperties);
}

function isNonNullableNull(value: unknown, schema: Schema | undefined): boolean {
  return value === null && schema !== undefined && schema.nullable !== true;
}

/**
 * Fills in the schema's defaults in place (apiextensions-apiserver schema/defaulting Default): a missing field, or
 * a null where the schema does not allow null, gets a copy of its default; then every field, list item and map
 * value is defaulted in turn, defaults included.
 */
export function applyStructuralDefaults(value: unknown, schema: Schema | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    const items = schemaOf(schema.items);
    for (let i = 0; i < value.length; i++) {
      if (isNonNullableNull(value[i], items) && items?.default !== undefined) value[i] = structuredClone(items.default);
      applyStructuralDefaults(value[i], items);
    }
    return;
  }
  if (!isPlainObject(value)) return;
  const properties = schemaOf(schema.properties) ?? {};
  for (const [key, property] of Object.entries(properties)) {
    const propertySchema = schemaOf(property);
    if (propertySchema?.default === undefined) continue;
    if (!(key in value) || isNonNullableNull(value[key], propertySchema)) value[key] = structuredClone(propertySchema.default);
  }
  const additional = schemaOf(schema.additionalProperties);
  for (const key of Object.keys(value)) {
    if (key in properties) {
      applyStructuralDefaults(value[key], schemaOf(properties[key]));
    } else if (additional) {
      if (isNonNullableNull(value[key], additional) && additional.default !== undefined) value[key] = structuredClone(additional.default);
      applyStructuralDefaults(value[key], additional);
    }
  }
}

/**
 * Removes, in place, nulls that the schema does not allow and has no default for
 * (schema/defaulting PruneNonNullableNullsWithoutDefaults): the server drops them before validation.
 */
export function pruneNonNullableNullsWithoutDefaults(value: unknown, schema: Schema | undefined): void {
  if (Array.isArray(value)) {
    const items = schema && schemaOf(schema.items);
    for (const item of value) pruneNonNullableNullsWithoutDefaults(item, items);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const key of Object.keys(value)) {
    const fieldSchema = schemaForField(key, schema);
    if (isNonNullableNull(value[key], fieldSchema) && fieldSchema?.default === undefined) delete value[key];
    else pruneNonNullableNullsWithoutDefaults(value[key], fieldSchema);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Summaries

/** What the rules did over many objects. */
export interface CelSummary {
  /** Objects of kinds whose schema carries rules. */
  objects: number;
  /** Rule evaluations: one per rule per value its location matched. */
  evaluations: number;
  /** Evaluations that rejected the value. */
  failures: number;
  /** Distinct rules evaluated at least once. */
  evaluatedRules: CelRuleInfo[];
  /** Transition rules met and skipped, with the number of values each applied to. */
  transitionSkipped: CelRuleUse[];
  /** Unsupported rules met, with the number of values each applied to; each use is also an issue. */
  unsupported: CelRuleUse[];
  /** Objects whose rules were not evaluated because a type, required, enum, size or format error blocks them. */
  notChecked: number;
}

/** Adds up {@link CelObjectReport}s into a {@link CelSummary}. */
export class CelSummaryCollector {
  private objects = 0;
  private evaluations = 0;
  private failures = 0;
  private notChecked = 0;
  private readonly evaluated = new Set<CelRuleInfo>();
  private readonly skipped = new Map<CelRuleInfo, number>();
  private readonly unsupported = new Map<CelRuleInfo, number>();

  add(report: CelObjectReport): void {
    this.objects += 1;
    this.evaluations += report.evaluations;
    this.failures += report.failures;
    for (const info of report.evaluated) this.evaluated.add(info);
    for (const { info, count } of report.transitionSkipped) this.skipped.set(info, (this.skipped.get(info) ?? 0) + count);
    for (const { info, count } of report.unsupported) this.unsupported.set(info, (this.unsupported.get(info) ?? 0) + count);
  }

  /** An object of a kind with rules whose rules were blocked by schema errors. */
  addNotChecked(): void {
    this.objects += 1;
    this.notChecked += 1;
  }

  summary(): CelSummary {
    return {
      objects: this.objects,
      evaluations: this.evaluations,
      failures: this.failures,
      evaluatedRules: [...this.evaluated],
      transitionSkipped: [...this.skipped].map(([info, count]) => ({ info, count })),
      unsupported: [...this.unsupported].map(([info, count]) => ({ info, count })),
      notChecked: this.notChecked,
    };
  }
}

/** One line naming a rule: `gateway.networking.k8s.io/v1 HTTPRoute .spec.rules[*]: <rule>`; the resource root is `(root)`. */
export function describeCelRule(info: CelRuleInfo): string {
  return `${info.apiVersion} ${info.kind} ${info.location || '(root)'}: ${info.rule.rule}`;
}
