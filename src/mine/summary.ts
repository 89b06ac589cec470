/**
 * The run summary: one row per workload process with its batch, run, policy,
 * params, rep, host and guest, its own throughput figures, and the figures of
 * the monitors that ran beside it (same batch, same run, same host) averaged
 * over the workload's own time window [started_at, ended_at] (line arrival
 * times). Metric columns are named `<parser>_<figure>` (e.g. `iozone_write_kbps`,
 * `vmstat_cs`, `perf_context_switches`); monitors that ran inside the workload's
 * guest get a `guest_` prefix so they never mix with the host's.
 * Figures keep full precision: `dd_rate_bps` is bytes / seconds, and
 * `duration_s` is taken from whole microseconds (two epoch doubles of today's
 * magnitude would differ by ~1e-7 s of rounding).
 */
import { cellOf } from '../output/duckdb-cells.js';
import type { ExpertStore, QueryResult } from '../store/types.js';
import { rows } from './db.js';
import { withMineLock } from './lock.js';
import { ensureParsed } from './engine.js';
import { defaultRegistry, type ParserRegistry } from './registry.js';
import { ident, literal } from './sql.js';
import { DIRECTIONS as FIO_DIRECTIONS } from './parsers/fio.js';
import type { ParserDefinition } from './types.js';

/** The figures of each monitor parser the summary averages over a workload's window (named `<parser>_<figure>`). */
const MONITOR_FIGURES = {
  vmstat: ['r', 'b', 'free', 'bi', 'bo', 'in', 'cs', 'us', 'sy', 'id', 'wa', 'st'],
  mpstat: ['pct_usr', 'pct_sys', 'pct_iowait', 'pct_steal', 'pct_idle'],
  iostat: ['r_s', 'w_s', 'rkb_s', 'wkb_s', 'pct_util', 'pct_iowait'],
  sar: ['pct_user', 'pct_system', 'pct_iowait', 'pct_idle', 'cswch_s', 'tps'],
} as const;

const FIO_FIGURES = ['bw_kibps', 'iops'] as const;
const DD_METRIC = 'dd_rate_bps';

/** Per parser: SQL giving (process_id, metric, value) for a workload's own output. */
const WORKLOAD_METRICS: Record<string, string> = {
  iozone: `SELECT process_id, 'iozone_' || name AS metric, avg(value) AS value FROM (
      UNPIVOT (SELECT process_id, COLUMNS('_kbps$') FROM parsed.iozone WHERE NOT parse_error AND source <> 'report')
      ON COLUMNS(* EXCLUDE process_id) INTO NAME name VALUE value) GROUP BY ALL`,
  fio: `SELECT process_id, 'fio_' || ddir || '_' || name AS metric, sum(value) AS value FROM (
      UNPIVOT (SELECT process_id, ddir, ${FIO_FIGURES.join(', ')} FROM parsed.fio WHERE NOT parse_error)
      ON ${FIO_FIGURES.join(', ')} INTO NAME name VALUE value) GROUP BY ALL
    UNION ALL
    SELECT process_id, 'fio_' || ddir || '_clat_mean_us', avg(clat_mean_us) FROM parsed.fio WHERE NOT parse_error GROUP BY ALL`,
  dd: `SELECT process_id, ${literal(DD_METRIC)} AS metric, avg(rate_bps) AS value FROM parsed.dd WHERE NOT parse_error GROUP BY ALL`,
};

const figures = (parser: keyof typeof MONITOR_FIGURES) => MONITOR_FIGURES[parser].map(ident).join(', ');

/**
 * Per monitor parser: SQL giving (process_id, line_ts, metric, value), averaged later over each window.
 * Since-boot rows (vmstat's first row, iostat's first report, ...) are not samples of the window: left out.
 */
const MONITOR_SAMPLES: Record<string, string> = {
  vmstat: `SELECT process_id, line_ts, 'vmstat_' || name AS metric, value FROM (
      UNPIVOT (SELECT process_id, line_ts, ${figures('vmstat')} FROM parsed.vmstat WHERE NOT parse_error AND NOT since_boot)
      ON COLUMNS(* EXCLUDE (process_id, line_ts)) INTO NAME name VALUE value)`,
  'perf-stat': `SELECT process_id, line_ts, 'perf_' || regexp_replace(event, '[^A-Za-z0-9]+', '_', 'g') AS metric, value
      FROM parsed."perf-stat" WHERE NOT parse_error AND value IS NOT NULL`,
  mpstat: `SELECT process_id, line_ts, 'mpstat_' || name AS metric, value FROM (
      UNPIVOT (SELECT process_id, line_ts, ${figures('mpstat')} FROM parsed.mpstat WHERE NOT parse_error AND NOT average AND NOT since_boot AND cpu = 'all')
      ON COLUMNS(* EXCLUDE (process_id, line_ts)) INTO NAME name VALUE value)`,
  iostat: `SELECT process_id, line_ts, 'iostat_' || name AS metric, value FROM (
      UNPIVOT (SELECT process_id, line_ts, ${figures('iostat')} FROM parsed.iostat WHERE NOT parse_error AND NOT since_boot)
      ON COLUMNS(* EXCLUDE (process_id, line_ts)) INTO NAME name VALUE value)`,
  sar: `SELECT process_id, line_ts, 'sar_' || name AS metric, value FROM (
      UNPIVOT (SELECT process_id, line_ts, ${figures('sar')} FROM parsed.sar WHERE NOT parse_error AND NOT average AND NOT since_boot AND coalesce(cpu, 'all') = 'all')
      ON COLUMNS(* EXCLUDE (process_id, line_ts)) INTO NAME name VALUE value)`,
};

/** The columns every run summary has, whatever ran (`duration_s` is its one figure). */
export const SUMMARY_BASE_COLUMNS = ['batch_id', 'batch', 'run', 'label', 'policy', 'params', 'rep', 'host', 'guest', 'status', 'exit_code', 'started_at', 'ended_at', 'duration_s', 'process_id', 'warmup', 'attempt'] as const;

/**
 * The metric columns a process with this parser can give the run summary, known before anything ran (the same
 * lists the SQL above uses): `names` exactly, and `prefix` for names that come from the data (perf's event names).
 * A workload gives its own figures, a monitor its samples' (`guest_` in front for a monitor inside a guest).
 */
export function summaryMetricsOf(parser: ParserDefinition, role: 'workload' | 'monitor'): { names: string[]; prefix?: string } {
  if (role === 'workload') {
    switch (parser.name) {
      case 'dd':
        return { names: [DD_METRIC] };
      case 'iozone':
        return { names: parser.columns.filter((c) => /_kbps$/.test(c.name)).map((c) => `iozone_${c.name}`) };
      case 'fio':
        return { names: FIO_DIRECTIONS.flatMap((d) => [...FIO_FIGURES, 'clat_mean_us'].map((f) => `fio_${d}_${f}`)) };
      default:
        return { names: [] };
    }
  }
  if (parser.name === 'perf-stat') return { names: [], prefix: 'perf_' };
  const own = MONITOR_FIGURES[parser.name as keyof typeof MONITOR_FIGURES];
  return { names: own ? own.map((f) => `${parser.name}_${f}`) : [] };
}

export interface SummaryOptions {
  batchId?: number;
  registry?: ParserRegistry;
}

export async function runSummary(store: ExpertStore, options: SummaryOptions = {}): Promise<QueryResult> {
  return withMineLock(store.connection, async () => {
    const registry = options.registry ?? defaultRegistry();
    const connection = store.connection;
    const batchFilter = options.batchId === undefined ? 'true' : `p.batch_id = ${Math.trunc(options.batchId)}`;
    const processes = await rows(connection, `SELECT command, parser FROM process p WHERE ${batchFilter}`);
    const used = new Set<string>();
    for (const p of processes) {
      const parser = registry.parserFor({ command: String(p.command), parser: (p.parser as string | null) ?? null });
      if (parser && (parser.name in WORKLOAD_METRICS || parser.name in MONITOR_SAMPLES)) used.add(parser.name);
    }
    for (const name of used) await ensureParsed(store, name, { ...(options.batchId !== undefined ? { batchId: options.batchId } : {}), registry });

    const workloadParts = [...used].filter((n) => n in WORKLOAD_METRICS).map((n) => WORKLOAD_METRICS[n]!);
    const monitorParts = [...used].filter((n) => n in MONITOR_SAMPLES).map((n) => MONITOR_SAMPLES[n]!);
    const metricParts: string[] = [];
    if (workloadParts.length) metricParts.push(`SELECT * FROM (${workloadParts.join(' UNION ALL ')})`);
    if (monitorParts.length) {
      metricParts.push(`
        SELECT w.process_id, CASE WHEN m.vm IS NULL THEN s.metric ELSE 'guest_' || s.metric END AS metric, avg(s.value) AS value
        FROM process w
        -- Host monitors (no vm) of the workload's node; guest monitors only of the workload's own guest.
        JOIN process m ON m.batch_id = w.batch_id AND m.role = 'monitor' AND m.host = w.host
          AND (m.vm IS NULL OR m.vm IS NOT DISTINCT FROM w.vm)
          AND (m.run IS NOT DISTINCT FROM w.run OR m.run IS NULL OR w.run IS NULL)
        JOIN (${monitorParts.join(' UNION ALL ')}) s ON s.process_id = m.process_id
          AND s.line_ts >= w.started_at AND s.line_ts <= coalesce(w.ended_at, 'infinity'::TIMESTAMPTZ)
        WHERE w.role = 'workload'
        GROUP BY ALL`);
    }
    const base = `SELECT p.batch_id, b.name AS batch, p.run, p.label, p.policy, p.params, p.rep, p.host, p.vm AS guest,
        p.status, p.exit_code, p.started_at, p.ended_at, (epoch_us(p.ended_at) - epoch_us(p.started_at)) / 1e6 AS duration_s, p.process_id,
        p.warmup, p.attempt
      FROM process p JOIN batch b USING (batch_id) WHERE p.role = 'workload' AND ${batchFilter}`;
    let sql: string;
    if (metricParts.length === 0) {
      sql = `${base} ORDER BY p.batch_id, p.run, p.process_id`;
    } else {
      await connection.run(`CREATE OR REPLACE TEMP TABLE _mine_metrics AS ${metricParts.join(' UNION ALL ')}`);
      const names = (await rows(connection, `SELECT DISTINCT metric FROM _mine_metrics WHERE metric IS NOT NULL ORDER BY 1`)).map((r) => String(r.metric));
      const pivot = names.map((n) => `max(value) FILTER (WHERE metric = ${literal(n)}) AS ${ident(n)}`);
      sql = `SELECT w.* ${pivot.length ? ', ' + pivot.join(', ') : ''}
        FROM (${base}) w LEFT JOIN _mine_metrics x ON x.process_id = w.process_id
        GROUP BY ALL ORDER BY w.batch_id, w.run, w.process_id`;
    }
    const reader = await connection.runAndReadAll(sql);
    const types = reader.columnTypes();
    const result: QueryResult = {
      columns: reader.columnNames(),
      rows: reader.getRowsJS() as unknown[][],
      // For printing: each value by its DuckDB type (timestamps keep microseconds, params stay JSON).
      cells: () => reader.getRows().map((row) => row.map((value, i) => cellOf(value, types[i]!))),
    };
    await connection.run(`DROP TABLE IF EXISTS _mine_metrics`);
    return result;
  });
}
