/**
 * Where TypeScript code stands at its end: inside a bracket, string
 * template or comment, or after a token that must be continued (`=`, `,`,
 * an operator), or after one that may be (`10`, `x`, `)`: `10\n  % 3` is
 * one expression), or at a statement's end. The cell parser asks this before
 * it takes a `%` line for a line magic. A small scanner, not a parser:
 * strings end at their line's end and regular expression literals are not
 * recognised, which can only make a line magic after such a line read as
 * TypeScript (tslab then reports it). Pure.
 */
export type CodeEnd = 'open' | 'continues' | 'may-continue' | 'complete';

const CONTINUING = new Set([...'=+-*/%&|^!~?:<>,.([{']);

export function codeEnd(code: string): CodeEnd {
  const stack: string[] = []; // ( [ { ` and '${' for a substitution inside a template
  let last = '';
  let i = 0;
  while (i < code.length) {
    const c = code[i]!;
    const top = stack[stack.length - 1];
    if (top === '`') {
      if (c === '\\') i += 2;
      else if (c === '`') { stack.pop(); last = c; i++; }
      else if (c === '$' && code[i + 1] === '{') { stack.push('${'); i += 2; }
      else i++;
      continue;
    }
    if (c === '/' && code[i + 1] === '/') {
      const nl = code.indexOf('\n', i);
      i = nl < 0 ? code.length : nl;
      continue;
    }
    if (c === '/' && code[i + 1] === '*') {
      const close = code.indexOf('*/', i + 2);
      if (close < 0) return 'open';
      i = close + 2;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < code.length && code[j] !== c && code[j] !== '\n') j += code[j] === '\\' ? 2 : 1;
      last = c;
      i = j + 1;
      continue;
    }
    if (c === '`' || c === '(' || c === '[' || c === '{') stack.push(c);
    else if (c === ')' || c === ']' || c === '}') stack.pop();
    if (!/\s/.test(c)) last = c;
    i++;
  }
  if (stack.length > 0) return 'open';
  if (last === '' || last === ';' || last === '}') return 'complete';
  return CONTINUING.has(last) ? 'continues' : 'may-continue';
}
