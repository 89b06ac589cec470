/**
 * Printing rows in `--format table|csv|json`, streamed: CSV and JSON rows are
 * written as they come (a million-row query never sits in memory as text),
 * a table sizes its columns from the first rows and fits the terminal.
 * Every verb that prints data goes through here, so every entry point gets the
 * same formats, the same types and the same care for pipes.
 */
import { UserError } from '../errors.js';
import { cellFromJs, ExactNumber, type Cell } from './cell.js';
import { csvHeader, csvRow } from './csv.js';
import { jsonRow } from './json.js';
import { stdout, type Sink } from './sink.js';
import { planTable, ruleLine, tableLine, type TableLayout } from './table.js';
import { tableText } from './table-text.js';

export type OutputFormat = 'table' | 'csv' | 'json';

export type CellChunks = AsyncIterable<Cell[][]> | Iterable<Cell[][]>;

export interface PrintOptions {
  /** `--columns`: only these, in this order (every format). */
  columns?: readonly string[];
  /** Table only: these first, in this order; the rest follow and are the first left out when the terminal is narrow. */
  tableOrder?: readonly string[];
  /** Table only: the terminal width (default: the terminal's, or $COLUMNS). */
  width?: number;
  /** Table only: a line printed under the row count (e.g. that rows were limited). */
  note?: string;
  sink?: Sink;
}

/** Rows a table sizes its columns from; later rows are elided to those widths. */
const TABLE_SAMPLE_ROWS = 5000;

export function terminalWidth(): number | undefined {
  if (process.stdout.isTTY && process.stdout.columns) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : undefined;
}

/** Prints plain JS rows (a verb's own results). Returns the number of rows. */
export function printRows(columns: readonly string[], rows: readonly (readonly unknown[])[], format: OutputFormat, options: PrintOptions = {}): Promise<number> {
  return printCells(columns, [rows.map((row) => row.map(cellFromJs))], format, options);
}

export async function printCells(columns: readonly string[], chunks: CellChunks, format: OutputFormat, options: PrintOptions = {}): Promise<number> {
  const printer = new RowPrinter(columns, format, options);
  for await (const chunk of chunks) {
    await printer.push(chunk);
    if (printer.closed) break;
  }
  return printer.end();
}

/**
 * The push form of printCells, for producers that call back (a DuckDB scan):
 * `push` each chunk of rows as it comes, then `end`. CSV and JSON rows go out
 * at once; a table holds its first rows until it knows its column widths.
 */
export class RowPrinter {
  private readonly sink: Sink;
  private readonly pick: number[];
  private readonly names: string[];
  private readonly identity: boolean;
  private count = 0;
  private sample: Cell[][] | undefined;
  private layout: TableLayout | undefined;

  constructor(
    columns: readonly string[],
    private readonly format: OutputFormat,
    private readonly options: PrintOptions = {},
  ) {
    this.sink = options.sink ?? stdout();
    this.pick = columnOrder(columns, options, format);
    this.names = this.pick.map((i) => columns[i]!);
    this.identity = this.pick.length === columns.length && this.pick.every((v, i) => v === i);
    if (format === 'table') this.sample = [];
  }

  /** True once the reader went away: producers may stop. */
  get closed(): boolean {
    return this.sink.closed;
  }

  async push(rows: readonly Cell[][]): Promise<void> {
    const picked = this.identity ? rows : rows.map((row) => this.pick.map((i) => row[i] ?? null));
    if (!this.started) await this.start();
    for (const row of picked) {
      if (this.sample) {
        this.sample.push(row);
        if (this.sample.length >= TABLE_SAMPLE_ROWS) await this.releaseSample();
      } else {
        await this.sink.write(this.line(row));
      }
      this.count++;
    }
  }

  async end(): Promise<number> {
    if (!this.started) await this.start();
    if (this.sample) await this.releaseSample();
    if (this.format === 'json') await this.sink.write(this.count === 0 ? ']\n' : '\n]\n');
    if (this.format === 'table') await this.sink.write(tableFooter(this.count, this.names, this.layout!, this.options.note, this.width));
    await this.sink.flush();
    return this.count;
  }

  private started = false;

  private get width(): number | undefined {
    return this.options.width ?? terminalWidth();
  }

  private async start(): Promise<void> {
    this.started = true;
    if (this.format === 'csv') await this.sink.write(csvHeader(this.names));
    if (this.format === 'json') await this.sink.write('[');
  }

  private line(row: readonly Cell[]): string {
    switch (this.format) {
      case 'csv':
        return csvRow(row);
      case 'json':
        return (this.count === 0 ? '\n' : ',\n') + jsonRow(this.names, row);
      case 'table':
        return tableLine(row.map(tableText), this.layout!) + '\n';
    }
  }

  private async releaseSample(): Promise<void> {
    const sample = this.sample!;
    this.sample = undefined;
    const texts = sample.map((row) => row.map(tableText));
    this.layout = planTable(this.names, texts, {
      width: this.width,
      rightAligned: this.names.map((_, i) => numericColumn(sample, i)),
    });
    await this.sink.write(tableLine(this.names, this.layout) + '\n' + ruleLine(this.layout) + '\n');
    for (const row of texts) await this.sink.write(tableLine(row, this.layout) + '\n');
  }
}

function columnOrder(columns: readonly string[], options: PrintOptions, format: OutputFormat): number[] {
  if (options.columns && options.columns.length > 0) {
    return options.columns.map((name) => {
      const i = columns.indexOf(name);
      if (i < 0) throw new UserError(`--columns: no column '${name}'; the columns are: ${columns.join(', ')}`);
      return i;
    });
  }
  const all = columns.map((_, i) => i);
  if (format !== 'table' || !options.tableOrder) return all;
  const first = options.tableOrder.map((c) => columns.indexOf(c)).filter((i) => i >= 0);
  return [...first, ...all.filter((i) => !first.includes(i))];
}

function numericColumn(sample: readonly Cell[][], i: number): boolean {
  let seen = false;
  for (const row of sample) {
    const v = row[i];
    if (v === null || v === undefined) continue;
    if (typeof v !== 'number' && !(v instanceof ExactNumber)) return false;
    seen = true;
  }
  return seen;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function tableFooter(count: number, names: readonly string[], layout: TableLayout, note: string | undefined, width?: number): string {
  const lines = [`(${plural(count, 'row')})`];
  if (layout.dropped.length > 0) {
    lines.push(`(not shown for the terminal's width: ${layout.dropped.map((i) => names[i]).join(', ')}; pick with --columns, or use --format csv|json)`);
  }
  if (note) lines.push(note);
  return lines.flatMap((line) => wrap(line, width)).join('\n') + '\n';
}

/** A note broken at spaces so no line is wider than the terminal. */
function wrap(text: string, width: number | undefined): string[] {
  if (width === undefined || text.length <= width) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = ` ${word}`;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** A table as one string (the kernel's text output, tests): the same layout as printed tables. */
export function tableString(columns: readonly string[], rows: readonly Cell[][], width?: number): string {
  const texts = rows.map((row) => row.map(tableText));
  const layout = planTable(columns, texts, { width, rightAligned: columns.map((_, i) => numericColumn(rows, i)) });
  return [tableLine(columns, layout), ruleLine(layout), ...texts.map((r) => tableLine(r, layout))].join('\n') + '\n' + tableFooter(rows.length, columns, layout, undefined, width);
}
