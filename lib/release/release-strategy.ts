import { Duration } from 'cdk8s';

/** How a new model version replaces the running one. */
export enum ReleaseType {
  /** Deployment rolling update: a new pod ready before an old one goes. */
  ROLLING = 'rolling',
  /** Argo Rollouts canary: traffic shifts in weighted steps, each gated by analysis. */
  CANARY = 'canary',
  /** Argo Rollouts blue-green: a full preview, analysed, then switched over at once. */
  BLUE_GREEN = 'blue-green',
}

/** Options of {@link ReleaseStrategy.canary}. */
export interface CanaryOptions {
  /** Traffic weights in percent, strictly increasing, each from 1 to 99. @default [10, 25, 50] */
  readonly weights?: number[];
  /** Wait after each weight change before its analysis, to gather traffic. @default Duration.minutes(2) */
  readonly pause?: Duration;
}

/** Options of {@link ReleaseStrategy.blueGreen}. */
export interface BlueGreenOptions {
  /** Promote the preview without a human once its analysis passed. @default false */
  readonly autoPromotionEnabled?: boolean;
  /** How long the previous version keeps running after promotion, for an instant rollback. @default Duration.minutes(10) */
  readonly scaleDownDelay?: Duration;
}

/** A release strategy: rolling, canary or blue-green. */
export class ReleaseStrategy {
  /** A zero-downtime Deployment rolling update (maxSurge 1, maxUnavailable 0). */
  public static rolling(): ReleaseStrategy {
    return new ReleaseStrategy(ReleaseType.ROLLING, undefined, undefined);
  }

  /** An Argo Rollouts canary with analysis at every step. */
  public static canary(options: CanaryOptions = {}): ReleaseStrategy {
    const weights = options.weights ?? [10, 25, 50];
    if (weights.length === 0) throw new Error('canary weights must list at least one step');
    weights.forEach((w, i) => {
      if (!Number.isInteger(w) || w < 1 || w > 99) throw new Error(`canary weight ${w} is impossible: each step must be an integer from 1 to 99 (100 is the promotion itself)`);
      if (i > 0 && w <= weights[i - 1]) throw new Error(`canary weights must increase: ${weights[i - 1]} is followed by ${w}`);
    });
    const pause = options.pause ?? Duration.minutes(2);
    wholeSeconds('canary pause', pause);
    return new ReleaseStrategy(ReleaseType.CANARY, { weights: [...weights], pause }, undefined);
  }

  /** An Argo Rollouts blue-green release with pre-promotion analysis. */
  public static blueGreen(options: BlueGreenOptions = {}): ReleaseStrategy {
    const scaleDownDelay = options.scaleDownDelay ?? Duration.minutes(10);
    wholeSeconds('blue-green scaleDownDelay', scaleDownDelay);
    return new ReleaseStrategy(ReleaseType.BLUE_GREEN, undefined, { autoPromotionEnabled: options.autoPromotionEnabled ?? false, scaleDownDelay });
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
  if (!Number.isInteger(seconds)) throw new Error(`${what} (${seconds}s) must be whole seconds`);
}
