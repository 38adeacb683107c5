import { Construct } from 'constructs';

/**
 * An invalid construct prop, reported at construction.
 *
 * The message carries a stable code and the construct path, after aws-cdk-lib's
 * `ValidationError`, so a failing synth points at the exact model and environment.
 */
export class ValidationError extends Error {
  public readonly code: string;
  /** The message without the code and the construct path, for tools that name their own inputs. */
  public readonly detail: string;

  constructor(code: string, message: string, scope: Construct) {
    super(`[${code}] ${scope.node.path}: ${message}`);
    this.name = 'ValidationError';
    this.code = code;
    this.detail = message;
  }
}

/**
 * An invalid argument of a factory or other code outside any construct (`ReleaseStrategy.canary`,
 * `ModelArchive.fromUri`, `GpuMetrics.dcgm`), with a stable code like {@link ValidationError}'s.
 *
 * Why a class of its own, after aws-cdk-lib's `UnscopedValidationError`: a factory has no
 * construct whose path the message could name, yet tools (the CLI, a test) must still tell a
 * refused input from a bug, and a code says which rule refused it.
 */
export class UnscopedValidationError extends Error {
  public readonly code: string;
  /** The message without the code. */
  public readonly detail: string;

  constructor(code: string, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'UnscopedValidationError';
    this.code = code;
    this.detail = message;
  }
}
