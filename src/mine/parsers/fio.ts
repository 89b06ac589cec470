/**
 * fio: one row per job and data direction that did I/O (`ddir` read, write,
 * trim), from any of the three output formats (told apart by `format`):
 *  - `json` (--output-format=json): the process's lines are reassembled from
 *    the first line that opens the JSON document and read with DuckDB's JSON
 *    functions; a truncated document is one row of NULLs marked as an error.
 *  - `terse` (--output-format=terse, version 3): `3;fio-...;job;...` lines.
 *  - `normal`: the human-readable report (`  read: IOPS=..., BW=...`).
 */
import { num } from '../sql.js';
import type { ParserDefinition } from '../types.js';

/** The data directions a row may be of (the run summary names its fio columns by them). */
export const DIRECTIONS = ['read', 'write', 'trim'] as const;

function jsonSelect(src: string): string {
  const perDir = DIRECTIONS.map(
    (d) => `SELECT process_id, seq, line_ts, job, '${d}' AS ddir, job -> '${d}' AS io FROM jobs`,
  ).join(' UNION ALL ');
  return `
    WITH docs AS (
      SELECT process_id, min(seq) AS seq, min(ts) AS line_ts, string_agg(text, chr(10) ORDER BY seq) AS doc
      FROM (
        SELECT *, bool_or(trim(text) = '{') OVER (PARTITION BY process_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS in_doc
        FROM ${src} WHERE stream = 'stdout' OR stream IS NULL
      ) WHERE in_doc
      GROUP BY process_id
    ),
    jobs AS (
      SELECT process_id, seq, line_ts, unnest(CAST(json_extract(doc, '$.jobs') AS JSON[])) AS job FROM docs WHERE json_valid(doc)
    ),
    dirs AS (${perDir})
    SELECT process_id, seq, line_ts, 'json' AS format, job ->> 'jobname' AS jobname,
      coalesce(job -> 'job options' ->> 'rw', NULL) AS rw, ddir,
      -- 'bw' is whole KiB/s; 'bw_bytes' (fio 3) is the same rate in bytes/s.
      coalesce(try_cast(io ->> 'bw_bytes' AS DOUBLE) / 1024, try_cast(io ->> 'bw' AS DOUBLE)) AS bw_kibps,
      try_cast(io ->> 'iops' AS DOUBLE) AS iops,
      try_cast(io ->> 'bw' AS DOUBLE) AS bw_printed_kibps,
      try_cast(io ->> 'iops' AS DOUBLE) AS iops_printed,
      try_cast(io ->> 'runtime' AS DOUBLE) AS runtime_ms,
      coalesce(try_cast(io -> 'clat_ns' ->> 'mean' AS DOUBLE) / 1000, try_cast(io -> 'clat' ->> 'mean' AS DOUBLE)) AS clat_mean_us,
      try_cast(io ->> 'io_kbytes' AS DOUBLE) AS io_kib,
      try_cast(job ->> 'error' AS BIGINT) AS job_error,
      false AS parse_error
    FROM dirs
    WHERE try_cast(io ->> 'total_ios' AS BIGINT) > 0 OR try_cast(io ->> 'io_kbytes' AS BIGINT) > 0
    UNION ALL
    SELECT process_id, seq, line_ts, 'json', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true
    FROM docs WHERE NOT json_valid(doc)`;
}

function terseSelect(src: string): string {
  // Terse v3: fields 6.. are the read block (41 fields), then the write block.
  // Terse prints whole numbers only (fio truncates bw and iops): they are kept as printed.
  const dir = (d: string, base: number) => `
    SELECT process_id, seq, ts AS line_ts, 'terse' AS format, f[3] AS jobname, NULL AS rw, '${d}' AS ddir,
      ${num(`f[${base + 1}]`)} AS bw_kibps, ${num(`f[${base + 2}]`)} AS iops, ${num(`f[${base + 3}]`)} AS runtime_ms,
      ${num(`f[${base + 1}]`)} AS bw_printed_kibps, ${num(`f[${base + 2}]`)} AS iops_printed,
      ${num(`f[${base + 10}]`)} AS clat_mean_us, ${num(`f[${base}]`)} AS io_kib, try_cast(f[5] AS BIGINT) AS job_error,
      len(f) < 87 OR ${num(`f[${base + 1}]`)} IS NULL AS parse_error
    FROM t WHERE len(f) < 87 OR ${num(`f[${base}]`)} > 0`;
  return `
    WITH t AS (SELECT process_id, seq, ts, string_split(text, ';') AS f FROM ${src} WHERE text LIKE '3;fio-%')
    ${dir('read', 6)} UNION ALL ${dir('write', 47).replace('len(f) < 87 OR', '')}`;
}

function normalSelect(src: string): string {
  // "  read: IOPS=13.8k, BW=53.8MiB/s (56.4MB/s)(1984KiB/36msec)" then a "clat (usec): ... avg=59.52" line.
  // fio rounds IOPS and BW to about 3 digits; the job's "issued rwts: total=R,W,T,S" counts and the
  // exact runtime (ms) give IOPS as fio computed it, and io / runtime gives BW as fio computed it
  // (io is printed with at least BW's digits). The printed figures are kept as *_printed.
  const unit = (expr: string, unitExpr: string, table: Record<string, number>) =>
    `${expr} * CASE ${unitExpr} ${Object.entries(table).map(([u, f]) => `WHEN '${u}' THEN ${f}`).join(' ')} END`;
  const sizes = { B: 1 / 1024, KiB: 1, MiB: 1024, GiB: 1024 * 1024, TiB: 1024 * 1024 * 1024, kB: 1000 / 1024, MB: 1e6 / 1024, GB: 1e9 / 1024 };
  const window = 'ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW';
  return `
    SELECT process_id, seq, line_ts, 'normal' AS format, jobname, NULL AS rw, ddir,
      CASE WHEN runtime_ms > 0 AND io_kib IS NOT NULL THEN io_kib * 1000 / runtime_ms ELSE bw_printed_kibps END AS bw_kibps,
      CASE WHEN runtime_ms > 0 AND issued IS NOT NULL THEN issued * 1000 / runtime_ms ELSE iops_printed END AS iops,
      runtime_ms, clat_mean_us, io_kib, job_error, bw_printed_kibps, iops_printed,
      bw_printed_kibps IS NULL OR iops_printed IS NULL AS parse_error
    FROM (
      SELECT process_id, seq, line_ts, jobname, ddir, job_error,
        ${unit(num("regexp_extract(text, 'BW=([0-9.]+)', 1)"), "regexp_extract(text, 'BW=[0-9.]+([A-Za-z]*)/s', 1)", sizes)} AS bw_printed_kibps,
        ${unit(num("regexp_extract(text, 'IOPS=([0-9.]+)', 1)"), "regexp_extract(text, 'IOPS=[0-9.]+([kMG]?)', 1)", { '': 1, k: 1e3, M: 1e6, G: 1e9 })} AS iops_printed,
        ${unit(num("regexp_extract(text, '/([0-9.]+)[a-z]+sec\\)', 1)"), "regexp_extract(text, '/[0-9.]+([a-z]+sec)\\)', 1)", { usec: 1e-3, msec: 1, sec: 1000 })} AS runtime_ms,
        ${unit(num("regexp_extract(clat, 'avg=\\s*([0-9.]+)', 1)"), "regexp_extract(clat, 'clat \\(([a-z]+)\\)', 1)", { nsec: 1e-3, usec: 1, msec: 1000 })} AS clat_mean_us,
        ${unit(num("regexp_extract(text, '\\(([0-9.]+)[A-Za-z]+/[0-9.]+[a-z]+sec\\)', 1)"), "regexp_extract(text, '\\([0-9.]+([A-Za-z]+)/[0-9.]+[a-z]+sec\\)', 1)", sizes)} AS io_kib,
        try_cast(string_split(regexp_extract(issued_text, 'total=([0-9,]+)', 1), ',')[CASE ddir WHEN 'read' THEN 1 WHEN 'write' THEN 2 ELSE 3 END] AS DOUBLE) AS issued,
        try_cast(job_error AS BIGINT) AS job_error
      FROM (
        SELECT *,
          last_value(CASE WHEN is_job THEN regexp_extract(text, '^(\\S+): \\(groupid', 1) END IGNORE NULLS)
            OVER (PARTITION BY process_id ORDER BY seq ${window}) AS jobname,
          last_value(CASE WHEN is_job THEN regexp_extract(text, 'err=\\s*([0-9]+)', 1) END IGNORE NULLS)
            OVER (PARTITION BY process_id ORDER BY seq ${window}) AS job_error,
          first_value(CASE WHEN is_clat THEN text END IGNORE NULLS)
            OVER (PARTITION BY process_id ORDER BY seq ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING) AS clat,
          -- the job's own "issued rwts" line comes after its read/write/trim lines, before the next job
          first_value(CASE WHEN is_issued THEN text END IGNORE NULLS)
            OVER (PARTITION BY process_id, job_no ORDER BY seq ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS issued_text
        FROM (
          SELECT *, sum(is_job::INT) OVER (PARTITION BY process_id ORDER BY seq ${window}) AS job_no FROM (
            SELECT process_id, seq, ts AS line_ts, text,
              regexp_matches(text, '^\\S+: \\(groupid=') AS is_job,
              regexp_matches(text, '^\\s+clat \\([a-z]+\\):') AS is_clat,
              regexp_matches(text, '^\\s+issued rwts: total=') AS is_issued,
              regexp_extract(text, '^\\s+(read|write|trim)\\s*: IOPS=', 1) AS ddir
            FROM ${src}
            WHERE regexp_matches(text, '^\\S+: \\(groupid=|^\\s+clat \\([a-z]+\\):|^\\s+(read|write|trim)\\s*: |^\\s+issued rwts: ')
          )
        )
      ) WHERE ddir <> ''
    )`;
}

export const fioParser: ParserDefinition = {
  name: 'fio',
  version: '2',
  description: 'fio JSON, terse v3 and normal output: one row per job and direction',
  programs: ['fio'],
  columns: [
    { name: 'format', type: 'VARCHAR', description: "'json', 'terse' or 'normal'" },
    { name: 'jobname', type: 'VARCHAR' },
    { name: 'rw', type: 'VARCHAR', description: 'job rw option (JSON only)' },
    { name: 'ddir', type: 'VARCHAR', description: 'read, write or trim' },
    { name: 'bw_kibps', type: 'DOUBLE', description: 'KiB/s as fio computed it (JSON bw_bytes; normal: io / runtime; terse: as printed)' },
    { name: 'iops', type: 'DOUBLE', description: 'as fio computed it (JSON; normal: issued I/Os / runtime; terse: as printed, whole)' },
    { name: 'runtime_ms', type: 'DOUBLE' },
    { name: 'clat_mean_us', type: 'DOUBLE' },
    { name: 'io_kib', type: 'DOUBLE' },
    { name: 'job_error', type: 'BIGINT' },
    { name: 'bw_printed_kibps', type: 'DOUBLE', description: 'bandwidth as fio printed it (rounded in normal output), KiB/s' },
    { name: 'iops_printed', type: 'DOUBLE', description: 'IOPS as fio printed it (rounded in normal output, e.g. 13.8k)' },
  ],
  sql: (src) => `
    SELECT * FROM (${jsonSelect(src)})
    UNION ALL BY NAME SELECT * FROM (${terseSelect(src)})
    UNION ALL BY NAME SELECT * FROM (${normalSelect(src)})`,
};
