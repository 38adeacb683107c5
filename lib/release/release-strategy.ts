import { Duration } from 'cdk8s';
import { UnscopedValidationError } from '../core';

/** How a new model version replaces the running one. */
export enum ReleaseType {
  /** Deployment rolling update: a new pod ready before an old one goes. */
  ROLLING = 'rolling',
  /** Argo Rollouts canary: traffic shifts in weighted steps, each gated by analysis. */
  CANARY = 'canary',
  /** Argo Rollouts blue-green: a full preview, analysed, then switched over at once. */
  BLUE_GREEN = 'blue-green',
}

/** What {@link ReleaseStrategy.canary} uses for an option left out; the fleet file leaves them out too. */
export const CANARY_DEFAULTS = {
  weights: [10, 25, 50],
  pause: Duration.minutes(2),
} as const;

/** What {@link ReleaseStrategy.blueGreen} uses for an option left out; the fleet file leaves them out too. */
export const BLUE_GREEN_DEFAULTS = {
  autoPromotionEnabled: false,
  scaleDownDelay: Duration.minutes(10),
} as const;

/** Options of {@link ReleaseStrategy.canary}. */
export interface CanaryOptions {
  /** Traffic weights in percent, strictly increasing, each from 1 to 99 (see {@link canaryWeightsProblem}). @default CANARY_DEFAULTS.weights ([10, 25, 50]) */
  readonly weights?: number[];
  /** Wait after each weight change before its analysis, to gather traffic. @default CANARY_DEFAULTS.pause (2 min) */
  readonly pause?: Duration;
}

/** Options of {@link ReleaseStrategy.blueGreen}. */
export interface BlueGreenOptions {
  /** Promote the preview without a human once its analysis passed. @default BLUE_GREEN_DEFAULTS.autoPromotionEnabled (false) */
  readonly autoPromotionEnabled?: boolean;
  /** How long the previous version keeps running after promotion, for an instant rollback. @default BLUE_GREEN_DEFAULTS.scaleDownDelay (10 min) */
  readonly scaleDownDelay?: Duration;
}

/**
 * Why `weight` cannot be one canary step, or `undefined`: the percent of traffic the step sends
 * to the canary, 1 to 99, since 100 is the promotion itself. Completes "got <weight>; ...".
 */
export function canaryStepProblem(weight: number): string | undefined {
  if (Number.isInteger(weight) && weight >= 1 && weight <= 99) return undefined;
  return 'must be an integer from 1 to 99, the percent of traffic a step sends to the canary (100 is the promotion itself)';
}

/**
 * Why `weights` cannot be a canary's steps, or `undefined`: at least one step, each a
 * {@link canaryStepProblem valid step}, each above the one before. The fleet file reports it at
 * strategy.canary.weights and {@link ReleaseStrategy.canary} throws it. Completes "got <weights>; ...".
 */
export function canaryWeightsProblem(weights: readonly number[]): string | undefined {
  if (weights.length === 0) return 'must list at least one step';
  const impossible = weights.find((w) => canaryStepProblem(w) !== undefined);
  if (impossible !== undefined) return `must each be an integer from 1 to 99 (100 is the promotion itself); ${impossible} is not`;
  const down = weights.findIndex((w, i) => i > 0 && w <= weights[i - 1]);
  if (down !== -1) return `must increase step by step; ${weights[down - 1]} is followed by ${weights[down]}`;
  return undefined;
}

/**
 * A release strategy: rolling, canary or blue-green.
 *
 * Its factories refuse bad options with an {@link UnscopedValidationError}: there is no
 * construct yet whose path a ValidationError could name. The fleet file reports the same rules
 * at their lines.
 */
export class ReleaseStrategy {
  /** A zero-downtime Deployment rolling update (maxSurge 1, maxUnavailable 0). */
  public static rolling(): ReleaseStrategy {
    return new ReleaseStrategy(ReleaseType.ROLLING, undefined, undefined);
  }

  /** An Argo Rollouts canary with analysis at every step. */
  public static canary(options: CanaryOptions = {}): ReleaseStrategy {
    const weights = options.weights ?? CANARY_DEFAULTS.weights;
    const problem = canaryWeightsProblem(weights);
    if (problem) throw new UnscopedValidationError('ReleaseStrategy.InvalidCanaryWeights', `canary weights [${weights.join(', ')}] ${problem}`);
    const pause = options.pause ?? CANARY_DEFAULTS.pause;
    wholeSeconds('canary pause', pause);
    return new ReleaseStrategy(ReleaseType.CANARY, { weights: [...weights], pause }, undefined);
  }

  /** An Argo Rollouts blue-green release with pre-promotion analysis. */
  public static blueGreen(options: BlueGreenOptions = {}): ReleaseStrategy {
    const scaleDownDelay = options.scaleDownDelay ?? BLUE_GREEN_DEFAULTS.scaleDownDelay;
    wholeSeconds('blue-green scaleDownDelay', scaleDownDelay);
    return new ReleaseStrategy(ReleaseType.BLUE_GREEN, undefined, { autoPromotionEnabled: options.autoPromotionEnabled ?? BLUE_GREEN_DEFAULTS.autoPromotionEnabled, scaleDownDelay });
  }

  private constructor(
    public readonly type: ReleaseType,
    /** @internal */
    public readonly canaryOptions: Required<CanaryOptions> | undefined,
    /** @internal */
    public readonly blueGreenOptions: Required<BlueGreenOptions> | undefined,
  ) {}

  /** Whether the strategy needs an Argo Rollout instead of a Deployment. */
  public get needsRollout(): boolean {
    return this.type !== ReleaseType.ROLLING;
  }
}

/** The Rollout writes pauses and delays in whole seconds; refuse a fraction here, not at render. */
function wholeSeconds(what: string, duration: Duration): void {
  const seconds = duration.toSeconds({ integral: false });
  if (!Number.isInteger(seconds)) throw new UnscopedValidationError('ReleaseStrategy.FractionalSeconds', `${what} (${seconds}s) must be whole seconds`);
}
