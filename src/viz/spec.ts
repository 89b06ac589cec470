/**
 * Chart specs: a small YAML/JSON description of one chart (where its data
 * comes from, which columns go where, what kind of chart) that the CLI
 * (`expert plot`), the kernel (`%%plot`) and the wizard share.
 *
 *   title: Write throughput against cache misses
 *   data: {runs: true, batch: latest}     # or {parser: vmstat, batch: 3} or {sql: "SELECT ..."}
 *   x: cache_misses
 *   y: write_kbps
 *   color: policy
 *   kind: scatter                          # scatter | box | violin | line | heatmap
 *   fit: each                              # each | all | none
 *   since_boot: true                       # keep monitors' since-boot rows (left out by default)
 *
 * Parsing and validation are pure; reading the data is in `spec-data.ts`.
 */
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';

export const CHART_KINDS = ['scatter', 'box', 'violin', 'line', 'heatmap'] as const;
export type ChartKind = (typeof CHART_KINDS)[number];

export interface ChartData {
  /** Mine's per-run summary table of the batch (one row per workload run). */
  runs?: boolean;
  /** A parser's table (`parsed.<parser>`) joined with its process columns. */
  parser?: string;
  /** Any SQL over the store. */
  sql?: string;
  /** Batch id, name, or `latest` (default: latest) for `runs` and `parser`. */
  batch?: number | string;
}

export interface ChartSpec {
  title?: string;
  data: ChartData;
  kind: ChartKind;
  x?: string;
  y?: string | string[];
  z?: string;
  color?: string;
  facet?: string;
  fit?: 'each' | 'all' | 'none';
  agg?: 'mean' | 'sum' | 'max' | 'min' | 'count';
  /** Line charts: shade each workload's window (default true when the data has a batch). */
  windows?: boolean;
  /** Keep rows marked `since_boot` (a monitor's averages since boot, e.g. vmstat's first row); default false. */
  sinceBoot?: boolean;
  hover?: string[];
  height?: number;
}

const TOP_KEYS = ['title', 'data', 'kind', 'x', 'y', 'z', 'color', 'colour', 'facet', 'fit', 'agg', 'windows', 'since_boot', 'hover', 'height'];
const DATA_KEYS = ['runs', 'parser', 'sql', 'batch'];

/** Parses and validates a chart spec; errors say file:line:column and what was expected. */
export function parseChartSpec(text: string, file = '<chart spec>'): ChartSpec {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { file, line, column: col };
  };
  if (doc.errors.length) {
    const error = doc.errors[0]!;
    throw new ConfigError(at(error.pos[0]), `not valid YAML: ${error.message.split('\n')[0]}`);
  }
  if (!isMap(doc.contents)) throw new ConfigError(at(0), 'expected a mapping with at least data, kind, x and y');
  const nodeAt = (path: (string | number)[]) => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return at(node?.range?.[0]);
  };
  const keyAt = (parent: string[], key: string) => {
    const map = parent.length ? doc.getIn(parent, true) : doc.contents;
    if (isMap(map)) for (const pair of map.items) if (isScalar(pair.key) && pair.key.value === key) return at(pair.key.range?.[0]);
    return at(0);
  };
  const raw = doc.toJS() as Record<string, unknown>;

  for (const key of Object.keys(raw)) {
    if (!TOP_KEYS.includes(key)) throw new ConfigError(keyAt([], key), `unknown key '${key}'; expected one of ${TOP_KEYS.filter((k) => k !== 'colour').join(', ')}`);
  }
  const str = (key: string, path: string[] = [key]): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(nodeAt(path), `'${key}' must be a column name (text)`);
    return v;
  };

  // data
  const dataRaw = raw.data;
  if (dataRaw === undefined) throw new ConfigError(at(0), "missing 'data': expected {runs: true}, {parser: NAME} or {sql: QUERY}");
  if (typeof dataRaw !== 'object' || dataRaw === null || Array.isArray(dataRaw)) throw new ConfigError(nodeAt(['data']), "'data' must be a mapping: {runs: true}, {parser: NAME} or {sql: QUERY}");
  const d = dataRaw as Record<string, unknown>;
  for (const key of Object.keys(d)) if (!DATA_KEYS.includes(key)) throw new ConfigError(keyAt(['data'], key), `unknown key 'data.${key}'; expected one of ${DATA_KEYS.join(', ')}`);
  const sources = (['runs', 'parser', 'sql'] as const).filter((k) => d[k] !== undefined && d[k] !== false);
  if (sources.length !== 1) throw new ConfigError(nodeAt(['data']), `'data' needs exactly one of runs, parser or sql (got ${sources.length ? sources.join(', ') : 'none'})`);
  const data: ChartData = {};
  if (d.runs !== undefined) {
    if (d.runs !== true) throw new ConfigError(nodeAt(['data', 'runs']), "'data.runs' must be true");
    data.runs = true;
  }
  if (d.parser !== undefined) {
    if (typeof d.parser !== 'string' || !/^[A-Za-z_][\w-]*$/.test(d.parser)) throw new ConfigError(nodeAt(['data', 'parser']), "'data.parser' must be a parser name such as vmstat or iozone");
    if (d.parser === 'summary' || d.parser === 'runs') throw new ConfigError(nodeAt(['data', 'parser']), `'${d.parser}' is not a parser: for Mine's per-run summary write data: {runs: true}`);
    data.parser = d.parser;
  }
  if (d.sql !== undefined) {
    if (typeof d.sql !== 'string' || d.sql.trim() === '') throw new ConfigError(nodeAt(['data', 'sql']), "'data.sql' must be a query (text)");
    data.sql = d.sql;
  }
  if (d.batch !== undefined) {
    if (typeof d.batch !== 'number' && typeof d.batch !== 'string') throw new ConfigError(nodeAt(['data', 'batch']), "'data.batch' must be a batch id, a batch name or 'latest'");
    data.batch = d.batch;
  }

  // kind
  const kind = (raw.kind ?? 'scatter') as ChartKind;
  if (!CHART_KINDS.includes(kind)) throw new ConfigError(nodeAt(['kind']), `'kind' must be one of ${CHART_KINDS.join(', ')}, got '${String(raw.kind)}'`);

  const spec: ChartSpec = { data, kind };
  const title = raw.title;
  if (title !== undefined && title !== null) spec.title = String(title);
  spec.x = str('x');
  spec.z = str('z');
  if (raw.color !== undefined && raw.colour !== undefined) throw new ConfigError(keyAt([], 'colour'), "give 'color' or 'colour', not both");
  spec.color = raw.color !== undefined ? str('color') : str('colour');
  spec.facet = str('facet');
  const y = raw.y;
  if (Array.isArray(y)) {
    if (kind !== 'line') throw new ConfigError(nodeAt(['y']), "a list of y columns is only for kind: line");
    y.forEach((v, i) => {
      if (typeof v !== 'string') throw new ConfigError(nodeAt(['y', i]), "'y' entries must be column names");
    });
    spec.y = y as string[];
  } else spec.y = str('y');

  if (raw.fit !== undefined) {
    // `ols` reads naturally ("fit: ols"): the least-squares line per colour group.
    const fit = raw.fit === true || raw.fit === 'ols' ? 'each' : raw.fit === false ? 'none' : raw.fit;
    if (fit !== 'each' && fit !== 'all' && fit !== 'none') throw new ConfigError(nodeAt(['fit']), "'fit' must be each (or ols), all, none, true or false");
    if (kind !== 'scatter' && fit !== 'none') throw new ConfigError(nodeAt(['fit']), "'fit' is only for kind: scatter");
    spec.fit = fit;
  }
  if (raw.agg !== undefined) {
    if (!['mean', 'sum', 'max', 'min', 'count'].includes(String(raw.agg))) throw new ConfigError(nodeAt(['agg']), "'agg' must be mean, sum, max, min or count");
    spec.agg = raw.agg as ChartSpec['agg'];
  }
  if (raw.windows !== undefined) {
    if (typeof raw.windows !== 'boolean') throw new ConfigError(nodeAt(['windows']), "'windows' must be true or false");
    spec.windows = raw.windows;
  }
  if (raw.since_boot !== undefined) {
    if (typeof raw.since_boot !== 'boolean') throw new ConfigError(nodeAt(['since_boot']), "'since_boot' must be true (keep the since-boot rows) or false");
    spec.sinceBoot = raw.since_boot;
  }
  if (raw.hover !== undefined) {
    if (!Array.isArray(raw.hover) || raw.hover.some((h) => typeof h !== 'string')) throw new ConfigError(nodeAt(['hover']), "'hover' must be a list of column names");
    spec.hover = raw.hover as string[];
  }
  if (raw.height !== undefined) {
    if (typeof raw.height !== 'number' || raw.height < 100) throw new ConfigError(nodeAt(['height']), "'height' must be a number of pixels (at least 100)");
    spec.height = raw.height;
  }

  // what each kind needs
  const need = (key: 'x' | 'y' | 'z', why: string) => {
    if (!spec[key]) throw new ConfigError(at(0), `kind: ${kind} needs '${key}' (${why})`);
  };
  if (kind === 'scatter' || kind === 'line' || kind === 'heatmap') need('x', 'the column on the x axis');
  need('y', kind === 'heatmap' ? 'the row column' : 'the column on the y axis');
  if (kind === 'heatmap') need('z', 'the value column shown as colour');
  return spec;
}

/** The spec as YAML text (what the wizard writes). */
export function chartSpecYaml(spec: ChartSpec): string {
  const lines: string[] = [];
  const put = (key: string, value: unknown) => {
    if (value !== undefined) lines.push(`${key}: ${yamlScalar(value)}`);
  };
  put('title', spec.title);
  const data = Object.entries(spec.data)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${yamlScalar(v)}`)
    .join(', ');
  lines.push(`data: {${data}}`);
  put('kind', spec.kind);
  put('x', spec.x);
  put('y', spec.y);
  put('z', spec.z);
  put('color', spec.color);
  put('facet', spec.facet);
  put('fit', spec.fit);
  put('agg', spec.agg);
  put('windows', spec.windows);
  put('since_boot', spec.sinceBoot);
  put('hover', spec.hover);
  put('height', spec.height);
  return lines.join('\n') + '\n';
}

/** Plain YAML for simple names (`kind: scatter`), JSON (valid YAML) for anything else. */
function yamlScalar(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(yamlScalar).join(', ')}]`;
  if (typeof value === 'string' && /^[A-Za-z_][\w.-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|y|n|~)$/i.test(value)) return value;
  return JSON.stringify(value);
}
