/**
 * `sadf -j` (JSON): the process's stdout is reassembled into one document and
 * read with DuckDB's JSON functions. One row per activity item (e.g. each CPU
 * of `cpu-load`, each device of `disk`, the single `process-and-context-switch`
 * object), with the same column names as the text reports (`user` of
 * cpu-load → `pct_user`, `rkB` of disk → `rkb_s`, `cswch` → `cswch_s`, ...).
 * Nested activities (e.g. `network` → `net-dev` arrays) are unfolded one level.
 */
import { columnNameSql, literal } from '../sql.js';
import type { SysstatLayout } from './sysstat.js';

function keyName(act: string, key: string): string {
  return `CASE
      WHEN ${act} LIKE 'cpu-load%' AND ${key} <> 'cpu' THEN 'pct_' || ${columnNameSql(key)}
      WHEN ${act} = 'disk' THEN CASE ${key} WHEN 'disk-device' THEN 'dev' WHEN 'rkB' THEN 'rkb_s' WHEN 'wkB' THEN 'wkb_s' WHEN 'dkB' THEN 'dkb_s'
        WHEN 'util-percent' THEN 'pct_util' ELSE ${columnNameSql(key)} END
      WHEN ${act} = 'process-and-context-switch' THEN ${columnNameSql(key)} || '_s'
      ELSE ${columnNameSql(key)} END`;
}

export function sadfJsonSql(src: string, layout: SysstatLayout): string {
  const typed = [
    ...layout.textColumns.map((c) => `fields[${literal(c)}] AS ${c}`),
    ...layout.numericColumns.map((c) => `try_cast(fields[${literal(c)}] AS DOUBLE) AS ${c}`),
  ];
  return `
    WITH docs AS (
      SELECT process_id, min(seq) AS seq, min(ts) AS line_ts, string_agg(text, chr(10) ORDER BY seq) AS doc
      FROM (
        SELECT *, bool_or(starts_with(ltrim(text), '{')) OVER (PARTITION BY process_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS in_doc
        FROM ${src}
      ) WHERE in_doc
      GROUP BY process_id
    ),
    hosts AS (
      SELECT process_id, seq, line_ts, unnest(CAST(json_extract(doc, '$.sysstat.hosts') AS JSON[])) AS h FROM docs WHERE json_valid(doc)
    ),
    stats AS (
      SELECT process_id, seq, line_ts, h ->> 'nodename' AS hostname, unnest(CAST(h -> 'statistics' AS JSON[])) AS s FROM hosts
    ),
    acts AS (
      SELECT process_id, seq, line_ts, hostname, s -> 'timestamp' AS stamp, act, s -> act AS v
      FROM (SELECT *, unnest(list_filter(json_keys(s), k -> k <> 'timestamp')) AS act FROM stats)
    ),
    nested AS (
      -- {"net-dev": [...], "net-edev": [...]}: unfold one level so each array becomes its own activity.
      SELECT process_id, seq, line_ts, hostname, stamp, CASE WHEN sub IS NULL THEN act ELSE sub END AS act, CASE WHEN sub IS NULL THEN v ELSE v -> sub END AS v
      FROM (
        SELECT *, unnest(CASE WHEN json_type(v) = 'OBJECT' AND len(list_filter(json_keys(v), k -> json_type(json_extract(v, '$."' || k || '"')) = 'ARRAY')) > 0
                              THEN list_filter(json_keys(v), k -> json_type(json_extract(v, '$."' || k || '"')) = 'ARRAY') ELSE [NULL] END) AS sub
        FROM acts
      )
    ),
    items AS (
      SELECT process_id, seq, line_ts, hostname, stamp, act,
        unnest(CASE WHEN json_type(v) = 'ARRAY' THEN CAST(v AS JSON[]) ELSE [v] END) AS item
      FROM nested
    )
    SELECT process_id, seq, line_ts,
      try_strptime((stamp ->> 'date') || ' ' || (stamp ->> 'time'), '%Y-%m-%d %H:%M:%S') AS ts,
      stamp ->> 'time' AS time, false AS average, act AS kind, NULL::BIGINT AS report, false AS since_boot, ${typed.join(', ')}, fields, false AS parse_error
    FROM (
      SELECT *, map_concat(map(['hostname', 'interval'], [hostname, stamp ->> 'interval']),
          map(list_transform(json_keys(item), k -> ${keyName('act', 'k')}), list_transform(json_keys(item), k -> json_extract_string(item, '$."' || k || '"')))) AS fields
      FROM items WHERE json_type(item) = 'OBJECT'
    )
    UNION ALL
    SELECT process_id, seq, line_ts, NULL, NULL, false, NULL, NULL, false, ${typed.map((t) => `NULL AS ${t.split(' AS ').at(-1)}`).join(', ')}, NULL, true
    FROM docs WHERE NOT json_valid(doc)`;
}
