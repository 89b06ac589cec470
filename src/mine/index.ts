/** Mine: lazy, versioned parsing over the raw line table, run summaries and data-frame interop. */
export { ensureParsed, parserQuery } from './engine.js';
export { ParserRegistry, defaultRegistry } from './registry.js';
export { userParser, defineParser, type UserParserSpec } from './user-parser.js';
export { runSummary, type SummaryOptions } from './summary.js';
export { toArquero, toDanfo, queryColumns, parsedToArquero } from './interop.js';
export { exportParquet, type ExportedFile } from './export.js';
export { programOf, programWords } from './program.js';
export type { ParserDefinition, ParseReport, ColumnDoc } from './types.js';
