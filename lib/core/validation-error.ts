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
