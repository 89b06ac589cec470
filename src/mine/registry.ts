/**
 * The parsers Mine knows: the built-in tool parsers plus any a user defines
 * at run time (see `user-parser.ts`). Picking a parser for a process is pure.
 */
import { suggestion } from '../closest.js';
import { UserError } from '../errors.js';
import { programWords } from './program.js';
import type { ParserDefinition } from './types.js';
import { builtinParsers } from './parsers/index.js';

export interface ProcessIdentity {
  command: string;
  parser: string | null;
}

export class ParserRegistry {
  private readonly parsers = new Map<string, ParserDefinition>();

  constructor(parsers: readonly ParserDefinition[] = builtinParsers()) {
    for (const parser of parsers) this.register(parser);
  }

  register(parser: ParserDefinition): void {
    if (!/^[a-z][a-z0-9_-]*$/.test(parser.name)) {
      throw new UserError(`parser name '${parser.name}': use lower-case letters, digits, '_' or '-', starting with a letter`);
    }
    if (parser.name.startsWith('_')) throw new UserError(`parser name '${parser.name}' is reserved`);
    this.parsers.set(parser.name, parser);
  }

  get(name: string): ParserDefinition {
    const parser = this.parsers.get(name);
    if (!parser) throw new UserError(`no parser named '${name}'${suggestion(name, [...this.parsers.keys()].sort())}`);
    return parser;
  }

  has(name: string): boolean {
    return this.parsers.has(name);
  }

  list(): ParserDefinition[] {
    return [...this.parsers.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The parser a process asks for: its `parser` column, else the one claiming its program. */
  parserFor(process: ProcessIdentity): ParserDefinition | undefined {
    if (process.parser) return this.parsers.get(process.parser);
    const words = programWords(process.command);
    if (words.length === 0) return undefined;
    return this.list().find((p) => p.programs.includes(words[0]!) && (p.matchesCommand?.(words) ?? true));
  }

  /** Does `parser` claim this process? */
  claims(parser: ParserDefinition, process: ProcessIdentity): boolean {
    return this.parserFor(process)?.name === parser.name;
  }
}

let shared: ParserRegistry | undefined;
/** The process-wide registry (built-ins, plus user parsers registered in this session). */
export function defaultRegistry(): ParserRegistry {
  shared ??= new ParserRegistry();
  return shared;
}
