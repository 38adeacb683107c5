import jsep from 'jsep';

/**
 * How Argo Rollouts v1.9 judges an AnalysisTemplate metric, for tests that must check what a
 * condition DOES, not how it reads. Conditions are parsed with jsep (the expr language's
 * operators and calls are a subset of its grammar) and evaluated with the expr language's
 * semantics as Argo Rollouts runs them:
 *
 * - utils/evaluate/evaluate.go EvalCondition: the environment is `result` (the Prometheus
 *   provider's vector as a list of floats: metricproviders/prometheus/prometheus.go
 *   processResponse gives [] for an empty vector), `isNaN`, `isInf`, `asInt`, `asFloat`; a
 *   runtime error (e.g. `result[0]` on []) or a non-bool result is an error;
 * - EvaluateResult: both conditions set: failure wins, neither true is Inconclusive;
 * - analysis/analysis.go assessMetricStatus and assessMetricFailureInconclusiveOrError:
 *   Failed when failed > failureLimit, Inconclusive when inconclusive > inconclusiveLimit, Error
 *   when consecutive errors > consecutiveErrorLimit (default 4), Successful once count is reached;
 * - utils/analysis/helpers.go: a run's phase is its worst metric's (Successful < Inconclusive <
 *   Error < Failed); rollout/analysis.go aborts on Error or Failed and pauses on Inconclusive.
 *
 * Anything outside that subset throws, so a condition cannot pass a test by being misread.
 */

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

type Value = number | boolean | number[];

class ExprRuntimeError extends Error {}

function evaluate(node: jsep.Expression, env: { result: number[] }): Value {
  switch (node.type) {
    case 'Literal': {
      const value = (node as jsep.Literal).value;
      if (typeof value !== 'number' && typeof value !== 'boolean') throw new Error(`unsupported literal ${String(value)}`);
      return value;
    }
    case 'Identifier': {
      const name = (node as jsep.Identifier).name;
      if (name === 'result') return env.result;
      if (name === 'true' || name === 'false') return name === 'true';
      throw new Error(`unknown identifier ${name}`);
    }
    case 'MemberExpression': {
      const member = node as jsep.MemberExpression;
      if (!member.computed) throw new Error('unsupported member access');
      const list = evaluate(member.object, env);
      const index = evaluate(member.property, env);
      if (!Array.isArray(list) || typeof index !== 'number') throw new ExprRuntimeError('cannot index');
      // expr: "runtime error: index out of range" on a missing element.
      if (!Number.isInteger(index) || index < 0 || index >= list.length) throw new ExprRuntimeError(`index out of range: ${index} (array length is ${list.length})`);
      return list[index];
    }
    case 'CallExpression': {
      const call = node as jsep.CallExpression;
      const callee = (call.callee as jsep.Identifier).name;
      const args = call.arguments.map((a) => evaluate(a, env));
      if (args.length !== 1) throw new Error(`${callee} takes one argument`);
      const [arg] = args;
      switch (callee) {
        case 'len':
          if (!Array.isArray(arg)) throw new ExprRuntimeError('invalid argument for len');
          return arg.length;
        case 'isNaN':
          if (typeof arg !== 'number') throw new ExprRuntimeError('isNaN needs a float');
          return Number.isNaN(arg);
        case 'isInf':
          if (typeof arg !== 'number') throw new ExprRuntimeError('isInf needs a float');
          return arg === Infinity || arg === -Infinity;
        default:
          throw new Error(`unsupported function ${callee}`);
      }
    }
    case 'UnaryExpression': {
      const unary = node as jsep.UnaryExpression;
      const arg = evaluate(unary.argument, env);
      if (unary.operator === '!') {
        if (typeof arg !== 'boolean') throw new ExprRuntimeError('! needs a bool');
        return !arg;
      }
      if (unary.operator === '-' && typeof arg === 'number') return -arg;
      throw new Error(`unsupported unary ${unary.operator}`);
    }
    case 'BinaryExpression': {
      const binary = node as jsep.BinaryExpression;
      if (binary.operator === '&&' || binary.operator === '||') {
        const left = evaluate(binary.left, env);
        if (typeof left !== 'boolean') throw new ExprRuntimeError(`${binary.operator} needs bools`);
        // expr short-circuits: the right side is not evaluated when the left decides.
        if (binary.operator === '&&' ? !left : left) return left;
        const right = evaluate(binary.right, env);
        if (typeof right !== 'boolean') throw new ExprRuntimeError(`${binary.operator} needs bools`);
        return right;
      }
      const left = evaluate(binary.left, env);
      const right = evaluate(binary.right, env);
      if (typeof left !== 'number' || typeof right !== 'number') throw new ExprRuntimeError(`${binary.operator} needs numbers`);
      // IEEE 754, as Go: every comparison with NaN is false except !=.
      switch (binary.operator) {
        case '<': return left < right;
        case '<=': return left <= right;
        case '>': return left > right;
        case '>=': return left >= right;
        case '==': return left === right;
        case '!=': return left !== right;
        default: throw new Error(`unsupported operator ${binary.operator}`);
      }
    }
    default:
      throw new Error(`unsupported syntax ${node.type}`);
  }
}

/** Evaluates a condition on a result; a runtime error comes back as `'error'`. */
export function evalCondition(condition: string, result: number[]): boolean | 'error' {
  const ast = jsep(condition);
  try {
    const value = evaluate(ast, { result });
    if (typeof value !== 'boolean') return 'error';
    return value;
  } catch (error) {
    if (error instanceof ExprRuntimeError) return 'error';
    throw error;
  }
}

export interface AnalysisMetric {
  readonly name: string;
  readonly successCondition?: string;
  readonly failureCondition?: string;
  readonly count?: number;
  readonly failureLimit?: number;
  readonly inconclusiveLimit?: number;
  readonly consecutiveErrorLimit?: number;
}

/** One measurement's phase for `result` (evaluate.go EvaluateResult). */
export function measurementPhase(metric: AnalysisMetric, result: number[]): MeasurementPhase {
  let success = false;
  let failure = false;
  if (metric.successCondition) {
    const v = evalCondition(metric.successCondition, result);
    if (v === 'error') return 'Error';
    success = v;
  }
  if (metric.failureCondition) {
    const v = evalCondition(metric.failureCondition, result);
    if (v === 'error') return 'Error';
    failure = v;
  }
  if (!metric.successCondition && !metric.failureCondition) return 'Successful';
  if (metric.successCondition && !metric.failureCondition) failure = !success;
  if (!metric.successCondition && metric.failureCondition) success = !failure;
  if (failure) return 'Failed';
  if (!success) return 'Inconclusive';
  return 'Successful';
}

export type MetricPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error' | 'Running';

/**
 * The metric's phase after the measurements taken so far, in order (analysis.go
 * assessMetricStatus): the first measurement at which it completes decides.
 */
export function metricPhase(metric: AnalysisMetric, measurements: readonly MeasurementPhase[]): { phase: MetricPhase; after: number } {
  const failureLimit = metric.failureLimit ?? 0;
  const inconclusiveLimit = metric.inconclusiveLimit ?? 0;
  const errorLimit = metric.consecutiveErrorLimit ?? 4;
  let failed = 0;
  let inconclusive = 0;
  let consecutiveErrors = 0;
  let count = 0;
  for (const [i, phase] of measurements.entries()) {
    if (phase === 'Error') consecutiveErrors++;
    else {
      count++;
      consecutiveErrors = 0;
      if (phase === 'Failed') failed++;
      if (phase === 'Inconclusive') inconclusive++;
    }
    let verdict: MetricPhase | undefined;
    if (failureLimit >= 0 && failed > failureLimit) verdict = 'Failed';
    if (inconclusive > inconclusiveLimit) verdict = 'Inconclusive';
    if (consecutiveErrors > errorLimit) verdict = 'Error';
    if (verdict) return { phase: verdict, after: i + 1 };
    if (metric.count !== undefined && count >= metric.count) return { phase: 'Successful', after: i + 1 };
  }
  return { phase: 'Running', after: measurements.length };
}

const ORDER: MetricPhase[] = ['Successful', 'Running', 'Inconclusive', 'Error', 'Failed'];

/**
 * An analysis run over steady data: every measurement of a metric sees the same result. Returns
 * the run's phase (the worst metric's) and what the Rollout does with it.
 */
export function steadyRun(metrics: readonly AnalysisMetric[], resultOf: (metric: AnalysisMetric) => number[]): { phase: MetricPhase; rollout: 'promotes' | 'aborts' | 'pauses' | 'waits' } {
  let worst: MetricPhase = 'Successful';
  for (const metric of metrics) {
    const phase = measurementPhase(metric, resultOf(metric));
    // Enough measurements to end any metric: count, or the error limit plus one.
    const n = Math.max(metric.count ?? 1, (metric.consecutiveErrorLimit ?? 4) + 1);
    const { phase: final } = metricPhase(metric, Array.from({ length: n }, () => phase));
    if (ORDER.indexOf(final) > ORDER.indexOf(worst)) worst = final;
  }
  const rollout = worst === 'Successful' ? 'promotes' : worst === 'Inconclusive' ? 'pauses' : worst === 'Running' ? 'waits' : 'aborts';
  return { phase: worst, rollout };
}
