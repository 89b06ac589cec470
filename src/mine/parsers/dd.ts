/**
 * dd's summary line (on stderr):
 * `16777216 bytes (17 MB, 16 MiB) copied, 0.0198151 s, 847 MB/s`.
 * dd rounds the rate it prints to 2-3 significant digits ("1.2 GB/s"), so
 * repetitions that differ by a few percent print the same rate. `rate_bps`
 * is therefore bytes / seconds (dd's own figures, printed in full);
 * `rate_printed_bps` is the rate as printed, in bytes per second (dd's units
 * are decimal: kB = 1000). The `records in/out` lines fill `records_in`/`records_out`.
 */
import { num } from '../sql.js';
import type { ParserDefinition } from '../types.js';

const UNITS: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

export const ddParser: ParserDefinition = {
  name: 'dd',
  version: '2',
  description: "dd's transfer summary (bytes, seconds, rate from them, rate as printed)",
  programs: ['dd'],
  columns: [
    { name: 'bytes', type: 'BIGINT' },
    { name: 'seconds', type: 'DOUBLE' },
    { name: 'rate_bps', type: 'DOUBLE', description: 'bytes / seconds (full precision; NULL when dd printed 0 s)' },
    { name: 'rate_printed_bps', type: 'DOUBLE', description: 'rate as dd printed it (rounded), in bytes/s' },
    { name: 'records_in', type: 'VARCHAR', description: "e.g. '16+0' (full+partial)" },
    { name: 'records_out', type: 'VARCHAR' },
  ],
  sql: (src) => `
    SELECT process_id, seq, line_ts, bytes, seconds,
      CASE WHEN seconds > 0 THEN bytes / seconds END AS rate_bps,
      rate * CASE rate_unit ${Object.entries(UNITS).map(([u, f]) => `WHEN '${u}' THEN ${f}`).join(' ')} END AS rate_printed_bps,
      records_in, records_out,
      bytes IS NULL OR seconds IS NULL AS parse_error
    FROM (
      SELECT process_id, seq, ts AS line_ts,
        try_cast(regexp_extract(text, '^([0-9]+) bytes', 1) AS BIGINT) AS bytes,
        ${num("regexp_extract(text, 'copied, ([0-9.e+-]+) s', 1)")} AS seconds,
        ${num("regexp_extract(text, ', ([0-9.e+-]+) [A-Za-z]*B/s', 1)")} AS rate,
        regexp_extract(text, ' ([A-Za-z]*B)/s', 1) AS rate_unit,
        lag(CASE WHEN text LIKE '%records in' THEN regexp_extract(text, '^([0-9]+\\+[0-9]+)', 1) END, 2) OVER w AS records_in,
        lag(CASE WHEN text LIKE '%records out' THEN regexp_extract(text, '^([0-9]+\\+[0-9]+)', 1) END, 1) OVER w AS records_out,
        text LIKE '%copied%' AS is_summary
      FROM ${src}
      WHERE text LIKE '%copied%' OR text LIKE '%records in' OR text LIKE '%records out'
      WINDOW w AS (PARTITION BY process_id ORDER BY seq)
    ) WHERE is_summary`,
};
