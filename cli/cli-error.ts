import { FleetConfigError } from '../lib/fleet';
import { ServingImageError } from '../lib/image';
import { OutputFolderError } from '../lib/output';
import { UnscopedValidationError, ValidationError } from '../lib/core';
import { YamlEditError } from '../lib/repository';
import { RegistryError } from '../lib/registry';

/**
 * A failure the user can fix: bad arguments, a rule of the registry, a missing file. The CLI
 * prints its message without a stack trace and exits with `exitCode`.
 */
export class CliError extends Error {
  constructor(message: string, public readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** Whether `error` is one the user can fix from its message (as opposed to a bug). */
export function isUserError(error: unknown): error is Error {
  return error instanceof CliError || error instanceof FleetConfigError || error instanceof ValidationError || error instanceof UnscopedValidationError
    || error instanceof RegistryError || error instanceof OutputFolderError || error instanceof YamlEditError || error instanceof ServingImageError;
}

/** Runs `fn`; a user error it throws gains `note` (what was left alone) on its last line. */
export function refusing<T>(fn: () => T, note: string): T {
  try {
    return fn();
  } catch (error) {
    if (isUserError(error) && !(error instanceof CliError && error.message.endsWith(note))) {
      throw new CliError(`${error.message}\n${note}`, error instanceof CliError ? error.exitCode : 1);
    }
    throw error;
  }
}
