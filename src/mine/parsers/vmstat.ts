/**
 * vmstat (procps): `vmstat [-n] [-t] [-w] delay`. Fields are found by
 * splitting on blanks (wide mode and large numbers break fixed columns); the
 * optional `gu` column (procps 4) is told apart by the field count, the `-t`
 * timestamp by its shape. The first data row of a process reports averages
 * since boot, not the interval: it is flagged `since_boot` (not with `-y`,
 * which leaves that row out).
 */
import { markSinceBootSql, sinceBootRows } from '../since-boot.js';
import type { ParserDefinition } from '../types.js';

const FIELDS = ['r', 'b', 'swpd', 'free', 'buff', 'cache', 'si', 'so', 'bi', 'bo', 'in', 'cs', 'us', 'sy', 'id', 'wa', 'st'] as const;

export const vmstatParser: ParserDefinition = {
  name: 'vmstat',
  version: '5',
  description: 'vmstat rows (with or without -t, -w); first since-boot row flagged',
  programs: ['vmstat'],
  columns: [
    { name: 'ts', type: 'TIMESTAMP', description: 'time vmstat printed (-t only; in the zone named in its header)' },
    ...FIELDS.map((name) => ({ name, type: 'BIGINT' })),
    { name: 'gu', type: 'BIGINT', description: 'guest time (procps 4 wide output)' },
    { name: 'since_boot', type: 'BOOLEAN', description: 'first row (unless -y): averages since boot, not an interval' },
  ],
  sinceBoot: sinceBootRows,
  lineLocal: true,
  // Split on single blanks and drop the empty strings (cheaper in DuckDB than a regex split or an
  // RE2 pass with captures); the field count tells `gu` and the `-t` stamp apart. Header lines are
  // told by cheap tests on the text (no per-line trim). A row that does not parse is all NULLs.
  sql: (src) => `
    SELECT process_id, seq, line_ts,
      CASE WHEN NOT parse_error THEN ts END AS ts,
      ${FIELDS.map((n) => `CASE WHEN NOT parse_error THEN "${n}" END AS "${n}"`).join(', ')},
      CASE WHEN NOT parse_error THEN gu END AS gu, false AS since_boot, parse_error
    FROM (
      SELECT *, (k NOT IN (17, 18) OR ${FIELDS.map((n) => `"${n}" IS NULL`).join(' OR ')} OR (k = 18 AND gu IS NULL)) AS parse_error
      FROM (
        SELECT process_id, seq, line_ts, k,
          CASE WHEN k < n THEN try_strptime(f[n - 1] || ' ' || f[n], '%Y-%m-%d %H:%M:%S') END AS ts,
          ${FIELDS.map((name, i) => `try_cast(f[${i + 1}] AS BIGINT) AS "${name}"`).join(',\n          ')},
          CASE WHEN k = 18 THEN try_cast(f[18] AS BIGINT) END AS gu
        FROM (
          SELECT *, CASE WHEN n >= 19 AND contains(f[n], ':') THEN n - 2 ELSE n END AS k FROM (
            SELECT process_id, seq, line_ts, f, len(f) AS n FROM (
              SELECT process_id, seq, ts AS line_ts, list_filter(string_split(text, ' '), x -> x <> '') AS f
              FROM ${src}
              WHERE text <> '' AND NOT contains(text, 'procs')
                AND NOT (text LIKE 'r %' OR text LIKE ' r %' OR text LIKE '  r %' OR text LIKE '   r %' OR text LIKE '    r %')
            )
          )
        )
      )
    )`,
  postInsert: (table) => [
    markSinceBootSql(table, `SELECT process_id, min(seq) FROM ${table}
      WHERE process_id IN (SELECT process_id FROM _mine_todo) AND NOT parse_error GROUP BY process_id`),
  ],
};
