/**
 * Errors a user can act on. The CLI prints `message` alone (no stack) and
 * exits with `exitCode`; the kernel prints it as one line and fails the cell.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'UserError';
    this.exitCode = options.exitCode ?? 2;
  }
}

/** A position in a config file, 1-based like editors show it. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** A config error always says file:line:column and what was expected there. */
export class ConfigError extends UserError {
  readonly position: SourcePosition;
  constructor(position: SourcePosition, problem: string) {
    super(`${position.file}:${position.line}:${position.column}: ${problem}`, { exitCode: 2 });
    this.name = 'ConfigError';
    this.position = position;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/**
 * Work that must write (a parse to cache) was asked of a store opened
 * read-only. The CLI's read verbs catch it and reopen the store for writing.
 */
export class ReadOnlyStoreError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'ReadOnlyStoreError';
  }
}
