/** The built-in tool parsers (column names in DESIGN.md's Parsers section). */
import type { ParserDefinition } from '../types.js';
import { ddParser } from './dd.js';
import { fioParser } from './fio.js';
import { iozoneParser } from './iozone.js';
import { perfStatParser } from './perf-stat.js';
import { iostatParser, mpstatParser, pidstatParser, sadfParser, sarParser } from './sysstat-tools.js';
import { vmstatParser } from './vmstat.js';

export function builtinParsers(): ParserDefinition[] {
  return [vmstatParser, perfStatParser, iozoneParser, fioParser, ddParser, sarParser, sadfParser, iostatParser, mpstatParser, pidstatParser];
}
