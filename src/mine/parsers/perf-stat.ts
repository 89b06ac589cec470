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
  version: '3',
  description: 'perf stat -x, CSV (with or without -I; per-CPU/per-thread prefixes)',
  programs: ['perf'],
  matchesCommand: (words) => words[1] === 'stat',
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
      CASE WHEN has_interval THEN ${num('trim(f[1])')} END AS interval_s,
      CASE WHEN p >= 1 THEN trim(f[i + 1]) END AS prefix,
      CASE WHEN p = 2 THEN try_cast(f[i + 2] AS BIGINT) END AS cpus,
      ${num('f[k + 1]')} AS value,
      nullif(f[k + 2], '') AS unit,
      nullif(f[k + 3], '') AS event,
      try_cast(f[k + 4] AS BIGINT) AS run_time,
      ${num('f[k + 5]')} AS run_pct,
      ${num('f[k + 6]')} AS metric_value,
      nullif(f[k + 7], '') AS metric_unit,
      f[k + 1] <> '<not supported>' AS supported,
      f[k + 1] <> '<not counted>' AS counted,
      (f[k + 3] IS NULL OR f[k + 3] = ''
        OR (${num('f[k + 1]')} IS NULL AND f[k + 1] NOT IN ('<not supported>', '<not counted>'))
        OR (has_interval AND ${num('trim(f[1])')} IS NULL)) AS parse_error
    FROM (
      SELECT *, i + p AS k FROM (
        -- Fields before the value: the interval (-I), then 0, 1 (-A: CPU0; --per-thread: comm-tid)
        -- or 2 (--per-core/--per-socket: S0-D0-C0 and the number of CPUs aggregated) prefix fields.
        SELECT *, least(greatest(n - i - 7, 0), 2) AS p FROM (
          SELECT *, CASE WHEN has_interval THEN 1 ELSE 0 END AS i FROM (
            SELECT *, n >= 8 AND f[1] LIKE '%.%' AND try_cast(f[1] AS DOUBLE) IS NOT NULL AS has_interval FROM (
              SELECT process_id, seq, ts AS line_ts, text, string_split(text, ',') AS f, len(string_split(text, ',')) AS n
              FROM ${src}
              WHERE text LIKE '%,%' AND text NOT LIKE '#%'
            ) WHERE n >= 6 OR regexp_matches(text, '^\\s*[0-9]+\\.[0-9]{6,},')
          )
        )
      )
    )`,
};
