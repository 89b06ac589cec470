/** Mine: lazy, versioned parsing over the raw line table, run summaries and data-frame interop. */
export { ensureParsed, parserQuery } from './engine.js';
export { ParserRegistry, defaultRegistry } from './registry.js';
export { userParser, defineParser, type UserParserSpec } from './user-parser.js';
export { runSummary, type SummaryOptions } from './summary.js';
export { runValues, runValuesFrom, testOf, type RunValue, type RunValues, type GuestValue, type ExcludedRun, type RunAggregate, type RunValuesOptions } from './run-values.js';
export { metricKind, type MetricKind } from './metric-kind.js';
export { compare, type CompareOptions, type CompareRow, type Comparison, type CompareBy, type CompareTest } from './compare.js';
export { toArquero, toDanfo, queryColumns, parsedToArquero } from './interop.js';
export { exportParquet, type ExportedFile } from './export.js';
export { programOf, programWords } from './program.js';
export type { ParserDefinition, ParseReport, ColumnDoc } from './types.js';
