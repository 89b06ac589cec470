/**
 * vmstat (procps): `vmstat [-n] [-t] [-w] delay`. Fields are found by
 * splitting on blanks (wide mode and large numbers break fixed columns); the
 * optional `gu` column (procps 4) is told apart by the field count, the `-t`
 * timestamp by its shape. The first data row of a process reports averages
 * since boot, not the interval: it is flagged `since_boot`.
 */
import { int, num } from '../sql.js';
import type { ParserDefinition } from '../types.js';

const FIELDS = ['r', 'b', 'swpd', 'free', 'buff', 'cache', 'si', 'so', 'bi', 'bo', 'in', 'cs', 'us', 'sy', 'id', 'wa', 'st'] as const;

export const vmstatParser: ParserDefinition = {
  name: 'vmstat',
  version: '1',
  description: 'vmstat rows (with or without -t, -w); first since-boot row flagged',
  programs: ['vmstat'],
  columns: [
    { name: 'ts', type: 'TIMESTAMP', description: 'time vmstat printed (-t only; in the zone named in its header)' },
    ...FIELDS.map((name) => ({ name, type: 'BIGINT' })),
    { name: 'gu', type: 'BIGINT', description: 'guest time (procps 4 wide output)' },
    { name: 'since_boot', type: 'BOOLEAN', description: 'first row: averages since boot, not an interval' },
  ],
  sql: (src) => `
    SELECT process_id, seq, line_ts,
      CASE WHEN has_ts THEN try_strptime(f[n - 1] || ' ' || f[n], '%Y-%m-%d %H:%M:%S') END AS ts,
      ${FIELDS.map((name, i) => `${int(`f[${i + 1}]`)} AS "${name}"`).join(',\n      ')},
      CASE WHEN k = 18 THEN ${int('f[18]')} END AS gu,
      false AS since_boot,
      (k NOT IN (17, 18) OR ${FIELDS.map((_, i) => `${num(`f[${i + 1}]`)} IS NULL`).join(' OR ')}) AS parse_error
    FROM (
      SELECT *, n - CASE WHEN has_ts THEN 2 ELSE 0 END AS k FROM (
        SELECT *, len(f) AS n, len(f) >= 19 AND f[len(f)] LIKE '%:%:%' AND f[len(f) - 1] LIKE '%-%-%' AS has_ts FROM (
          SELECT process_id, seq, ts AS line_ts, string_split_regex(trim(text), '\\s+') AS f
          FROM ${src}
          WHERE trim(text) <> '' AND text NOT LIKE '%procs%' AND NOT regexp_matches(text, '^\\s*r\\s+b\\s')
        )
      )
    )`,
  postInsert: (table) => [
    `UPDATE ${table} AS t SET since_boot = true
     FROM (SELECT process_id, min(seq) AS seq FROM ${table}
           WHERE process_id IN (SELECT process_id FROM _mine_todo) AND NOT parse_error GROUP BY process_id) first_row
     WHERE t.process_id = first_row.process_id AND t.seq = first_row.seq`,
  ],
};
