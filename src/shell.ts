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

/**
 * Splits a command line into words the way a shell would (single and double
 * quotes group, backslash escapes; no expansion). With `firstCommand`, stops
 * at the first `;`, `|` or `&`: only the first simple command is wanted.
 */
export function shellWords(text: string, options: { firstCommand?: boolean } = {}): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === quoted) quoted = null;
      else if (c === '\\' && quoted === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quoted = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (options.firstCommand && (c === ';' || c === '|' || c === '&')) {
      break;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
