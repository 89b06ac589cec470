/**
 * vmstat (procps): `vmstat [-n] [-t] [-w] delay`. Fields are found by
 * splitting on blanks (wide mode and large numbers break fixed columns); the
 * optional `gu` column (procps 4) is told apart by the field count, the `-t`
 * timestamp by its shape. The first data row of a process reports averages
 * since boot, not the interval: it is flagged `since_boot`.
 */
import { literal } from '../sql.js';
import type { ParserDefinition } from '../types.js';

const FIELDS = ['r', 'b', 'swpd', 'free', 'buff', 'cache', 'si', 'so', 'bi', 'bo', 'in', 'cs', 'us', 'sy', 'id', 'wa', 'st'] as const;

const LINE_RE = '^\\s*' + FIELDS.map(() => '([0-9]+)').join('\\s+') + '(?:\\s+([0-9]+))?(?:\\s+([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}))?\\s*$';

export const vmstatParser: ParserDefinition = {
  name: 'vmstat',
  version: '2',
  description: 'vmstat rows (with or without -t, -w); first since-boot row flagged',
  programs: ['vmstat'],
  columns: [
    { name: 'ts', type: 'TIMESTAMP', description: 'time vmstat printed (-t only; in the zone named in its header)' },
    ...FIELDS.map((name) => ({ name, type: 'BIGINT' })),
    { name: 'gu', type: 'BIGINT', description: 'guest time (procps 4 wide output)' },
    { name: 'since_boot', type: 'BOOLEAN', description: 'first row: averages since boot, not an interval' },
  ],
  // One anchored RE2 pass per line (cheaper here than splitting into a list): 17 figures,
  // optional `gu`, optional `-t` date and time. A line that does not match is a parse error.
  sql: (src) => `
    SELECT process_id, seq, line_ts,
      try_strptime(nullif(m.stamp, ''), '%Y-%m-%d %H:%M:%S') AS ts,
      ${FIELDS.map((name) => `try_cast(nullif(m."${name}", '') AS BIGINT) AS "${name}"`).join(',\n      ')},
      try_cast(nullif(m.gu, '') AS BIGINT) AS gu,
      false AS since_boot,
      m.r = '' AS parse_error
    FROM (
      SELECT process_id, seq, ts AS line_ts, regexp_extract(text, ${literal(LINE_RE)}, [${[...FIELDS, 'gu', 'stamp'].map(literal).join(', ')}]) AS m
      FROM ${src}
      WHERE text NOT LIKE '%procs%' AND ltrim(text) NOT LIKE 'r %' AND trim(text) <> ''
    )`,
  postInsert: (table) => [
    `UPDATE ${table} AS t SET since_boot = true
     FROM (SELECT process_id, min(seq) AS seq FROM ${table}
           WHERE process_id IN (SELECT process_id FROM _mine_todo) AND NOT parse_error GROUP BY process_id) first_row
     WHERE t.process_id = first_row.process_id AND t.seq = first_row.seq`,
  ],
};
