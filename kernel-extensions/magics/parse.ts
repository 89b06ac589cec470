/**
 * Splits a cell into what the kernel runs: TypeScript chunks (for tslab) and
 * magic calls. Pure, so every rule is unit-tested.
 *
 * - A cell whose first line starts with `%%` is one cell magic: its first
 *   line names it and gives its arguments, the rest is its body.
 * - Otherwise a line whose first non-blank character is `%` (not `%%`) is a
 *   line magic, run in order between the TypeScript chunks around it, unless
 *   it continues the TypeScript before it: `const m = 10\n  % 3;` is modulo.
 *   Inside a bracket, template or comment, after an operator, or without a
 *   name right after the `%`, the line is TypeScript. After a token that may
 *   end an expression (`10`, `x`, `)`), only a known magic's name makes it a
 *   magic; at a statement's start (cell start, after `;` or `}`) any name
 *   does, so a typo gets "no such magic" instead of a TypeScript error.
 */
import { shellWords } from '../../src/shell.js';
import { codeEnd } from './code-end.js';

export interface CodeSegment {
  kind: 'code';
  code: string;
  /** 0-based line of the segment's first line in the cell. */
  line: number;
}

export interface MagicSegment {
  kind: 'line' | 'cell';
  name: string;
  /** Arguments split like a shell would (quotes group words). */
  args: string[];
  /** The argument text as written, for magics that take free text. */
  argText: string;
  /** Cell magics only: the lines after the first. */
  body: string;
  /** `%name?` asks for help instead of running. */
  help: boolean;
  line: number;
}

export type Segment = CodeSegment | MagicSegment;

/** `isMagic` says whether a name is a magic of the kernel (the registry's); without it no name is known. */
export function parseCell(cell: string, isMagic: (name: string) => boolean = () => false): Segment[] {
  const lines = cell.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first >= 0 && lines[first]!.trimStart().startsWith('%%')) {
    const head = parseMagicLine(lines[first]!.trimStart().slice(2));
    return [{ kind: 'cell', ...head, body: lines.slice(first + 1).join('\n'), line: first }];
  }
  const segments: Segment[] = [];
  let code: string[] = [];
  let codeStart = 0;
  const flush = () => {
    if (code.some((l) => l.trim() !== '')) segments.push({ kind: 'code', code: code.join('\n'), line: codeStart });
    code = [];
  };
  lines.forEach((text, index) => {
    const trimmed = text.trimStart();
    if (isLineMagic(trimmed, code.join('\n'), isMagic)) {
      flush();
      segments.push({ kind: 'line', ...parseMagicLine(trimmed.slice(1)), body: '', line: index });
      codeStart = index + 1;
    } else {
      if (code.length === 0) codeStart = index;
      code.push(text);
    }
  });
  flush();
  return segments;
}

function isLineMagic(trimmed: string, codeBefore: string, isMagic: (name: string) => boolean): boolean {
  const name = /^%([A-Za-z_][\w-]*)/.exec(trimmed)?.[1];
  if (name === undefined) return false; // `% 3`, `%%`, not a % line
  switch (codeEnd(codeBefore)) {
    case 'complete': return true;
    case 'may-continue': return isMagic(name);
    default: return false;
  }
}

function parseMagicLine(text: string): { name: string; args: string[]; argText: string; help: boolean } {
  const match = /^([A-Za-z_][\w-]*)(\?{1,2})?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return { name: text.trim(), args: [], argText: '', help: false };
  const argText = (match[3] ?? '').trim();
  return { name: match[1]!, args: shellWords(argText), argText, help: Boolean(match[2]) };
}

/**
 * The body with blank lines in front, so that a parser's line numbers are
 * the cell's line numbers (what the user sees beside the cell).
 */
export function bodyAtCellLines(call: Pick<MagicSegment, 'body' | 'line'>): string {
  return '\n'.repeat(call.line + 1) + call.body;
}

/** Pulls `-o name` / `--out name` style options off an argument list. */
export function takeOption(args: string[], names: string[]): { value: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (names.includes(args[i]!)) value = args[++i];
    else rest.push(args[i]!);
  }
  return { value, rest };
}
