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
