/**
 * POSIX shell quoting. Every value that reaches a remote or local shell goes
 * through `quote`, so names and parameters with quotes, `$(...)`, backticks,
 * `;`, newlines or non-ASCII run literally.
 */
export function quote(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one shell command line, each argument quoted. */
export function commandLine(argv: readonly string[]): string {
  return argv.map(quote).join(' ');
}
