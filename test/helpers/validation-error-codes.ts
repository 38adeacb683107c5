import path from 'node:path';
import { API, type Checker, type Program, type Symbol as TsSymbol, SymbolFlags } from 'typescript/unstable/sync';
import * as ts from 'typescript/unstable/ast';

/**
 * Finds every `ValidationError` and `UnscopedValidationError` code a source tree can throw, with the TypeScript 7 compiler API
 * (tsgo, through its synchronous API), and every code the tests name.
 *
 * A code is the first argument of `new ValidationError(...)` (or `new UnscopedValidationError(...)`,
 * the same for factories outside any construct). It is a literal
 * (`'GatewayFrontend.NoHosts'`) or a template whose holes are parameters of the enclosing
 * function (`` `GatewayRoute.${code}` `` inside a `fail(code, message)` helper); a parameter's
 * values are the arguments of every call of that function, found by the checker's
 * find-all-references, through callbacks that forward them (`(code, m) => this.fail(code, m)`
 * handed to another function, whose own parameter is then called). Anything else is not guessed:
 * the collector throws {@link UnresolvedCodeError} naming the file and line, so a new way of
 * writing codes makes the coverage test fail instead of silently skipping them.
 */

/** One code and where it is thrown. */
export interface CodeSite {
  readonly code: string;
  /** Relative to the project root, with forward slashes. */
  readonly file: string;
  /** 1-based: the line of the literal that names the code, e.g. a `fail('Code', ...)` call. */
  readonly line: number;
}

/** A code expression, or a use of a helper that throws one, that the collector cannot follow. */
export class UnresolvedCodeError extends Error {
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'UnresolvedCodeError';
  }
}

export interface CollectOptions {
  /** The project root, holding `tsconfig`. */
  readonly root: string;
  /** @default 'tsconfig.json' */
  readonly tsconfig?: string;
  /** Where codes are defined, relative to root. @default 'lib' */
  readonly sourceDir?: string;
  /** The file declaring `class ValidationError` (and `UnscopedValidationError`, if any), relative to root. @default 'lib/core/validation-error.ts' */
  readonly errorClassFile?: string;
  /** Where tests live, relative to root. @default 'test' */
  readonly testDir?: string;
  /** Test files whose literals do not count as assertions (e.g. the collector's own fixtures), relative to root. @default [] */
  readonly excludeTests?: readonly string[];
}

export interface CollectedCodes {
  /** Every throw site's code, sorted by code, then file and line. */
  readonly sites: readonly CodeSite[];
  /** The class names each source file declares, keyed like {@link CodeSite.file}. */
  readonly classesByFile: ReadonlyMap<string, readonly string[]>;
  /**
   * Every string a test file writes as a literal (strings and template pieces), except the
   * names of `describe`, `it` and `test` blocks: what a test can compare an error with.
   */
  readonly testLiterals: readonly string[];
}

type Node = ts.Node;
/** A string an expression can be, and the literal it comes from. */
interface Value { readonly text: string; readonly at: Node }
type FunctionLike = ts.FunctionDeclaration | ts.MethodDeclaration | ts.ArrowFunction | ts.FunctionExpression | ts.ConstructorDeclaration;

function isFunctionLike(node: Node): node is FunctionLike {
  return ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isConstructorDeclaration(node);
}

function walk(node: Node, visit: (node: Node) => void): void {
  visit(node);
  node.forEachChild((child) => {
    walk(child, visit);
    return undefined;
  });
}

/** Runs the collector on one project; the tsgo process ends before it returns. */
export function collectValidationErrorCodes(options: CollectOptions): CollectedCodes {
  const root = path.resolve(options.root);
  const api = new API({ cwd: root });
  try {
    const snapshot = api.updateSnapshot({ openProject: path.join(root, options.tsconfig ?? 'tsconfig.json') });
    const project = snapshot.getProjects()[0];
    if (project === undefined) throw new Error(`no TypeScript project at ${root}`);
    return new Collector(root, project.program, project.checker, options).collect();
  } finally {
    api.close();
  }
}

class Collector {
  private readonly sourceDir: string;
  private readonly testDir: string;
  /** Parameters whose values are being computed: a helper that calls itself must not loop. */
  private readonly inProgress = new Set<string>();

  constructor(private readonly root: string, private readonly program: Program, private readonly checker: Checker, private readonly options: CollectOptions) {
    this.sourceDir = path.join(root, options.sourceDir ?? 'lib') + path.sep;
    this.testDir = path.join(root, options.testDir ?? 'test') + path.sep;
  }

  public collect(): CollectedCodes {
    const files = this.program.getSourceFileNames().map((f) => path.resolve(f));
    const sources = files.filter((f) => f.startsWith(this.sourceDir)).map((f) => this.sourceFile(f));
    if (sources.length === 0) throw new UnresolvedCodeError(this.options.sourceDir ?? 'lib', 'the project has no source files here');
    const errorClasses = this.errorClassSymbolIds();

    const sites: CodeSite[] = [];
    const classesByFile = new Map<string, string[]>();
    for (const sourceFile of sources) {
      const constructions: ts.NewExpression[] = [];
      const bases: Node[] = [];
      const classes: string[] = [];
      walk(sourceFile, (node) => {
        if (ts.isNewExpression(node)) constructions.push(node);
        if (ts.isClassDeclaration(node) && node.name) classes.push(node.name.text);
        if (ts.isHeritageClause(node)) bases.push(...node.types.map((t) => t.expression));
      });
      classesByFile.set(this.relative(sourceFile.fileName), classes);
      const isErrorClass = (nodes: Node[]): boolean[] => (nodes.length === 0 ? [] : this.checker.getSymbolAtLocation(nodes).map((symbol) => symbol !== undefined && errorClasses.has(this.target(symbol).id)));
      isErrorClass(bases).forEach((subclass, i) => {
        if (subclass) throw new UnresolvedCodeError(this.where(bases[i]), 'a subclass of ValidationError; its codes cannot be followed');
      });
      const errors = isErrorClass(constructions.map((n) => n.expression));
      constructions.forEach((construction, i) => {
        if (!errors[i]) return;
        const codeArg = construction.arguments?.[0];
        if (codeArg === undefined) throw new UnresolvedCodeError(this.where(construction), 'new ValidationError without a code');
        for (const { text, at } of this.valuesOf(codeArg)) sites.push({ code: text, file: this.relative(at.getSourceFile().fileName), ...this.lineOf(at) });
      });
    }
    if (sites.length === 0) throw new UnresolvedCodeError(this.options.sourceDir ?? 'lib', 'found no ValidationError code at all; the collector is looking in the wrong place');

    const excluded = new Set((this.options.excludeTests ?? []).map((f) => path.join(this.root, f)));
    const testLiterals = files.filter((f) => f.startsWith(this.testDir) && !excluded.has(f)).flatMap((f) => literalsOf(this.sourceFile(f)));
    const unique = new Map(sites.map((s) => [`${s.code} ${s.file}:${s.line}`, s]));
    return {
      sites: [...unique.values()].sort((a, b) => a.code.localeCompare(b.code) || a.file.localeCompare(b.file) || a.line - b.line),
      classesByFile,
      testLiterals,
    };
  }

  private sourceFile(file: string): ts.SourceFile {
    const sourceFile = this.program.getSourceFile(file);
    if (sourceFile === undefined) throw new Error(`TypeScript has no source file ${file}`);
    return sourceFile;
  }

  /** The classes whose constructions carry a code: ValidationError, and UnscopedValidationError where declared. */
  private errorClassSymbolIds(): Set<number> {
    const file = this.options.errorClassFile ?? 'lib/core/validation-error.ts';
    const sourceFile = this.sourceFile(path.join(this.root, file));
    const ids = new Set<number>();
    for (const name of ERROR_CLASSES) {
      const declaration = sourceFile.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === name);
      if (declaration?.name === undefined) {
        if (name === 'ValidationError') throw new UnresolvedCodeError(file, 'declares no class ValidationError');
        continue;
      }
      const symbol = this.checker.getSymbolAtLocation(declaration.name);
      if (symbol === undefined) throw new UnresolvedCodeError(file, `the checker has no symbol for ${name}`);
      ids.add(symbol.id);
    }
    return ids;
  }

  /** Follows import aliases to the declared symbol. */
  private target(symbol: TsSymbol): TsSymbol {
    return (symbol.flags & SymbolFlags.Alias) !== 0 ? this.checker.getAliasedSymbol(symbol) : symbol;
  }

  /**
   * Every string `expression` can be, each with the literal that decided it (the argument of a
   * `fail('Code', ...)` call rather than the helper's template), or an UnresolvedCodeError.
   */
  private valuesOf(expression: Node): Value[] {
    if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) return [{ text: expression.text, at: expression }];
    if (ts.isParenthesizedExpression(expression)) return this.valuesOf(expression.expression);
    if (ts.isConditionalExpression(expression)) return [...this.valuesOf(expression.whenTrue), ...this.valuesOf(expression.whenFalse)];
    if (ts.isTemplateExpression(expression)) {
      let values: Value[] = [{ text: expression.head.text, at: expression }];
      for (const span of expression.templateSpans) {
        const holes = this.valuesOf(span.expression);
        values = values.flatMap((prefix) => holes.map((hole) => ({ text: `${prefix.text}${hole.text}${span.literal.text}`, at: hole.at })));
      }
      return values;
    }
    if (ts.isIdentifier(expression)) {
      const symbol = this.checker.getSymbolAtLocation(expression);
      const declaration = symbol && this.target(symbol).valueDeclaration?.resolve();
      if (declaration && ts.isParameterDeclaration(declaration)) return this.parameterValues(declaration);
      if (declaration && ts.isVariableDeclaration(declaration) && declaration.initializer && (declaration.parent.flags & ts.NodeFlags.Const) !== 0) {
        return this.valuesOf(declaration.initializer);
      }
    }
    throw new UnresolvedCodeError(this.where(expression), `cannot tell which codes \`${expression.getText(expression.getSourceFile())}\` can be`);
  }

  /** The values of a parameter: the matching argument of every call of its function. */
  private parameterValues(parameter: ts.ParameterDeclaration): Value[] {
    const fn = parameter.parent;
    if (!isFunctionLike(fn) || parameter.dotDotDotToken) throw new UnresolvedCodeError(this.where(parameter), 'a code parameter must be a plain parameter of a function');
    const key = this.key(parameter);
    if (this.inProgress.has(key)) return [];
    this.inProgress.add(key);
    try {
      const index = fn.parameters.indexOf(parameter);
      return this.callsOf(fn).flatMap((call) => {
        const argument = call.arguments[index];
        if (argument !== undefined) return this.valuesOf(argument);
        if (parameter.initializer) return this.valuesOf(parameter.initializer);
        throw new UnresolvedCodeError(this.where(call), 'calls a code helper without its code');
      });
    } finally {
      this.inProgress.delete(key);
    }
  }

  /** Every call of `fn` in the source tree, including calls through the parameter it is handed to. */
  private callsOf(fn: FunctionLike): ts.CallExpression[] {
    return this.callsOfName(this.nameOf(fn));
  }

  /** The identifier that calls of `fn` refer to: its name, its variable, or the parameter it is passed as. */
  private nameOf(fn: FunctionLike): Node {
    if ((ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn)) && fn.name) return fn.name;
    let node: Node = fn;
    while (ts.isParenthesizedExpression(node.parent)) node = node.parent;
    const parent = node.parent;
    if ((ts.isVariableDeclaration(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertyAssignment(parent)) && ts.isIdentifier(parent.name)) return parent.name;
    if (ts.isCallExpression(parent) && parent.arguments.includes(node as ts.Expression)) {
      return this.calleeParameter(parent, parent.arguments.indexOf(node as ts.Expression)).name;
    }
    throw new UnresolvedCodeError(this.where(fn), 'a code helper that is neither named, assigned nor passed to a function');
  }

  private callsOfName(name: Node): ts.CallExpression[] {
    const declaration = this.key(name);
    const references = this.checker.getReferencedSymbolsForNode(name, name.getStart(name.getSourceFile()))
      .flatMap((entry) => entry.references)
      .map((handle) => handle.resolve())
      .filter((node): node is Node => node !== undefined && this.key(node) !== declaration && path.resolve(node.getSourceFile().fileName).startsWith(this.sourceDir));
    return references.flatMap((reference) => {
      if (ts.isImportSpecifier(reference.parent) || ts.isExportSpecifier(reference.parent)) return [];
      const used = ts.isPropertyAccessExpression(reference.parent) && reference.parent.name === reference ? reference.parent : reference;
      const parent = used.parent;
      if (ts.isCallExpression(parent) && parent.expression === used) return [parent];
      // Handed on as a callback: its calls are the calls of the parameter that receives it.
      if (ts.isCallExpression(parent) && parent.arguments.includes(used as ts.Expression)) {
        return this.callsOfName(this.calleeParameter(parent, parent.arguments.indexOf(used as ts.Expression)).name);
      }
      throw new UnresolvedCodeError(this.where(reference), `a code helper used other than by a call: \`${parent.getText(parent.getSourceFile())}\``);
    });
  }

  /** The parameter of the function `call` calls that receives argument `index`. */
  private calleeParameter(call: ts.CallExpression, index: number): ts.ParameterDeclaration {
    const callee = ts.isPropertyAccessExpression(call.expression) ? call.expression.name : call.expression;
    const symbol = this.checker.getSymbolAtLocation(callee);
    let declaration = symbol && this.target(symbol).valueDeclaration?.resolve();
    if (declaration && ts.isVariableDeclaration(declaration) && declaration.initializer) declaration = declaration.initializer;
    const parameter = declaration && isFunctionLike(declaration) ? declaration.parameters[index] : undefined;
    if (parameter === undefined || parameter.dotDotDotToken || !ts.isIdentifier(parameter.name)) {
      throw new UnresolvedCodeError(this.where(call), 'a code helper handed to a function whose parameter cannot be followed');
    }
    return parameter;
  }

  private key(node: Node): string {
    return `${path.resolve(node.getSourceFile().fileName)}:${node.getStart(node.getSourceFile())}`;
  }

  private relative(file: string): string {
    return path.relative(this.root, path.resolve(file)).split(path.sep).join('/');
  }

  private lineOf(node: Node): { line: number } {
    const sourceFile = node.getSourceFile();
    return { line: sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line + 1 };
  }

  private where(node: Node): string {
    return `${this.relative(node.getSourceFile().fileName)}:${this.lineOf(node).line}`;
  }
}

/** The error classes whose first constructor argument is a code. */
const ERROR_CLASSES = ['ValidationError', 'UnscopedValidationError'];

const BLOCK_NAMES = new Set(['describe', 'it', 'test']);

/** Whether `literal` is the name of a describe/it/test block (also `it.each(...)('name', ...)`). */
function isBlockName(literal: Node): boolean {
  const call = literal.parent;
  if (!ts.isCallExpression(call) || call.arguments[0] !== literal) return false;
  let callee: Node = call.expression;
  for (;;) {
    if (ts.isCallExpression(callee)) callee = callee.expression;
    else if (ts.isPropertyAccessExpression(callee)) callee = callee.expression;
    else break;
  }
  return ts.isIdentifier(callee) && BLOCK_NAMES.has(callee.text);
}

function literalsOf(sourceFile: ts.SourceFile): string[] {
  const literals: string[] = [];
  walk(sourceFile, (node) => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && !isBlockName(node)) literals.push(node.text);
    else if (ts.isTemplateExpression(node) && !isBlockName(node)) literals.push(node.head.text, ...node.templateSpans.map((s) => s.literal.text));
  });
  return literals;
}

/** Whether `text` names `code` as a whole: not a prefix of a longer code. */
export function mentionsCode(text: string, code: string): boolean {
  const escaped = code.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![A-Za-z0-9_.])${escaped}(?![A-Za-z0-9_])`).test(text);
}
