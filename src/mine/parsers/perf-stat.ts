/**
 * `perf stat -x,` CSV, with or without `-I` (first field: interval end in
 * seconds) and with or without a per-CPU / per-thread prefix field
 * (`-A`, `--per-thread`, `--per-socket`...). Fields after that:
 * value, unit, event, run time, run %, metric value, metric unit.
 * `<not supported>` / `<not counted>` values are not parse errors: the
 * value is NULL and `supported` / `counted` say why.
 */
import { num } from '../sql.js';
import type { ParserDefinition } from '../types.js';

export const perfStatParser: ParserDefinition = {
  name: 'perf-stat',
  version: '4',
  description: 'perf stat -x, CSV (with or without -I; per-CPU/per-thread prefixes)',
  programs: ['perf'],
  matchesCommand: (words) => words[1] === 'stat',
  lineLocal: true,
  columns: [
    { name: 'interval_s', type: 'DOUBLE', description: 'end of the interval in seconds since start (-I only)' },
    { name: 'prefix', type: 'VARCHAR', description: 'CPU / thread / core / socket the count belongs to (-A, --per-thread, --per-core, ...)' },
    { name: 'cpus', type: 'BIGINT', description: 'CPUs aggregated in the count (--per-core, --per-socket, --per-die)' },
    { name: 'value', type: 'DOUBLE' },
    { name: 'unit', type: 'VARCHAR' },
    { name: 'event', type: 'VARCHAR' },
    { name: 'run_time', type: 'BIGINT' },
    { name: 'run_pct', type: 'DOUBLE' },
    { name: 'metric_value', type: 'DOUBLE' },
    { name: 'metric_unit', type: 'VARCHAR' },
    { name: 'supported', type: 'BOOLEAN', description: 'false for <not supported>' },
    { name: 'counted', type: 'BOOLEAN', description: 'false for <not counted>' },
  ],
  sql: (src) => `
    SELECT process_id, seq, line_ts,
      CASE WHEN i = 1 THEN iv END AS interval_s,
      CASE WHEN p >= 1 THEN trim(f[i + 1]) END AS prefix,
      CASE WHEN p = 2 THEN try_cast(f[i + 2] AS BIGINT) END AS cpus,
      val AS value,
      nullif(f[k + 2], '') AS unit,
      ev AS event,
      try_cast(f[k + 4] AS BIGINT) AS run_time,
      ${num('f[k + 5]')} AS run_pct,
      ${num('f[k + 6]')} AS metric_value,
      nullif(f[k + 7], '') AS metric_unit,
      raw <> '<not supported>' AS supported,
      raw <> '<not counted>' AS counted,
      (ev IS NULL OR (val IS NULL AND raw NOT IN ('<not supported>', '<not counted>')) OR (i = 1 AND iv IS NULL)) AS parse_error
    FROM (
      SELECT *, f[k + 1] AS raw, ${num('f[k + 1]')} AS val, nullif(f[k + 3], '') AS ev FROM (
        SELECT *, i + least(greatest(n - i - 7, 0), 2) AS k, least(greatest(n - i - 7, 0), 2) AS p FROM (
          SELECT *, CASE WHEN n >= 8 AND contains(f[1], '.') AND iv IS NOT NULL THEN 1 ELSE 0 END AS i FROM (
            -- Fields before the value: the interval (-I), then 0, 1 (-A: CPU0; --per-thread: comm-tid) or
            -- 2 (--per-core/--per-socket: S0-D0-C0 and the number of CPUs aggregated) prefix fields.
            SELECT process_id, seq, line_ts, f, len(f) AS n, ${num('f[1]')} AS iv FROM (
              SELECT process_id, seq, ts AS line_ts, string_split(text, ',') AS f
              FROM ${src}
              -- Candidates: at least 5 commas, or a line cut short after its interval. Filtering on the
              -- text (not on the split) keeps DuckDB from splitting every line twice.
              WHERE text NOT LIKE '#%' AND (text LIKE '%,%,%,%,%,%' OR regexp_matches(text, '^\\s*[0-9]+\\.[0-9]{6,},'))
            )
          )
        )
      )
    )`,
};
