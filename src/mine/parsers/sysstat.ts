/**
 * The sysstat family (sar, iostat, mpstat, pidstat, sadf -d) prints blocks:
 * a header line naming the columns, then rows. One header-driven SQL builder
 * parses them all: each row is matched to the last header above it (per
 * process), header names become column names (lower-case, `%` → `pct_`,
 * other punctuation → `_`), and the whole row is also kept as a MAP in
 * `fields`, so columns this parser does not know are never lost.
 * Times may be 24-hour (LC_ALL=C) or 12-hour (`03:12:54 AM`); the date comes
 * from the banner line (`Linux ... 11/25/26 ...`).
 * `report` numbers the reports of a process (one per interval): a report
 * starts where the process's first header comes again (in `mpstat -A` or
 * `pidstat -u -d` one report holds several blocks); `since_boot` starts false
 * and is set after the insert (see `since-boot.ts`).
 */
import { columnNameSql, literal } from '../sql.js';
import type { ColumnDoc } from '../types.js';

export interface SysstatLayout {
  /** Field separator: blanks, or ';' for `sadf -d`. */
  separator: 'blank' | 'semicolon';
  textColumns: readonly string[];
  numericColumns: readonly string[];
  /** Column holding a full timestamp (`sadf -d`), instead of banner date + row time. */
  timestampField?: string;
}

const TIME = "(?:[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?: ?[AaPp][Mm])?|Average:|Summary:)";
const DATE_FORMATS = ['%m/%d/%y %I:%M:%S %p', '%m/%d/%Y %I:%M:%S %p', '%m/%d/%y %H:%M:%S', '%m/%d/%Y %H:%M:%S', '%Y-%m-%d %H:%M:%S', '%d/%m/%y %H:%M:%S', '%d/%m/%Y %H:%M:%S'];

/** A header line naming columns (the banner and the tool's Average: header also look like headers). */
const COLUMN_HEADER = 'is_header AND NOT is_banner AND NOT is_stamp AND NOT average';

export function sysstatColumns(layout: SysstatLayout): ColumnDoc[] {
  return [
    { name: 'ts', type: 'TIMESTAMP', description: 'banner date + row time (12-hour times converted)' },
    { name: 'time', type: 'VARCHAR', description: 'time as printed' },
    { name: 'average', type: 'BOOLEAN', description: "the tool's own Average:/Summary: row" },
    { name: 'kind', type: 'VARCHAR', description: 'first header name of the block (e.g. cpu, dev, uid, device, avg_cpu)' },
    { name: 'report', type: 'BIGINT', description: "1, 2, ...: the process's report (interval) the row belongs to (text reports; NULL for sadf)" },
    { name: 'since_boot', type: 'BOOLEAN', description: 'a report of averages since boot (iostat\'s first unless -y; mpstat/pidstat with no interval; sar 0)' },
    ...layout.textColumns.map((name) => ({ name, type: 'VARCHAR' })),
    ...layout.numericColumns.map((name) => ({ name, type: 'DOUBLE' })),
    { name: 'fields', type: 'MAP(VARCHAR, VARCHAR)', description: 'every column of the row, by normalized header name' },
  ];
}

export function sysstatSql(src: string, layout: SysstatLayout): string {
  const textList = `[${layout.textColumns.map(literal).join(', ')}]`;
  const split = layout.separator === 'semicolon'
    ? `string_split(regexp_replace(rest, '^#\\s*', ''), ';')`
    : `string_split_regex(trim(rest), '\\s+')`;
  const isHeader = layout.separator === 'semicolon'
    ? `starts_with(trim(text), '#')`
    : `len(list_filter(toks, x -> try_cast(x AS DOUBLE) IS NOT NULL)) = 0
       AND (len(list_filter(toks, x -> regexp_matches(x, '[%/-]'))) > 0 OR toks[1] IN ('CPU', 'UID', 'Device', 'Device:', 'IFACE', 'DEV', 'TTY', 'INTR'))`;
  const window = 'PARTITION BY process_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW';
  const typed = [
    ...layout.textColumns.map((c) => `fields[${literal(c)}] AS ${c}`),
    ...layout.numericColumns.map((c) => `try_cast(nullif(fields[${literal(c)}], '-') AS DOUBLE) AS ${c}`),
  ];
  const tsExpr = layout.timestampField
    ? `try_strptime(regexp_replace(fields[${literal(layout.timestampField)}], ' [A-Za-z]+$', ''), '%Y-%m-%d %H:%M:%S')`
    : `try_strptime(regexp_replace(upper(when_text), '([0-9])([AP]M)$', '\\1 \\2'), [${DATE_FORMATS.map(literal).join(', ')}])`;
  // sadf -d prints one header per activity, not per report: its rows carry timestamps instead.
  const report = layout.separator === 'semicolon'
    ? 'NULL::BIGINT'
    : `sum(CASE WHEN ${COLUMN_HEADER} AND toks = first_hdr THEN 1 ELSE 0 END) OVER (${window})`;
  return `
    SELECT process_id, seq, line_ts, ${tsExpr} AS ts, time, average, kind, report, false AS since_boot, ${typed.join(', ')}, fields, parse_error
    FROM (
      SELECT *, CASE WHEN NOT parse_error THEN map(hdr, vals) END AS fields
      FROM (
        SELECT *,
          hdr IS NULL OR len(toks) < len(hdr)
            OR len(list_filter(range(1, len(hdr) + 1), i -> toks[i] <> '-' AND try_cast(toks[i] AS DOUBLE) IS NULL AND NOT list_contains(${textList}, hdr[i]))) > 0
            AS parse_error,
          CASE WHEN len(toks) > len(hdr) THEN list_append(toks[1:len(hdr) - 1], array_to_string(toks[len(hdr):], ' ')) ELSE toks END AS vals
        FROM (
          SELECT process_id, seq, line_ts, toks, time, average,
            CASE WHEN time IS NOT NULL AND NOT average THEN banner_day || ' ' || time ELSE last_stamp END AS when_text,
            CASE WHEN raw_hdr[1] = 'avg_cpu' THEN raw_hdr[2:] ELSE raw_hdr END AS hdr,
            raw_hdr[1] AS kind, report
          FROM (SELECT *, ${report} AS report FROM (
            SELECT *,
              last_value(CASE WHEN is_header THEN list_transform(toks, x -> ${columnNameSql('x')}) END IGNORE NULLS) OVER (${window}) AS raw_hdr,
              last_value(CASE WHEN is_banner THEN regexp_extract(text, '([0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}|[0-9]{4}-[0-9]{2}-[0-9]{2})', 1) END IGNORE NULLS) OVER (${window}) AS banner_day,
              last_value(CASE WHEN is_stamp THEN trim(text) END IGNORE NULLS) OVER (${window}) AS last_stamp,
              first_value(CASE WHEN ${COLUMN_HEADER} THEN toks END IGNORE NULLS)
                OVER (PARTITION BY process_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS first_hdr
            FROM (
              SELECT *, ${isHeader} AS is_header FROM (
                SELECT *, ${split} AS toks FROM (
                  SELECT process_id, seq, ts AS line_ts, text,
                    starts_with(text, 'Linux ') AS is_banner,
                    regexp_full_match(trim(text), '[0-9/-]+ ${TIME}') AS is_stamp,
                    nullif(regexp_extract(text, '^(${TIME})', 1), '') AS time,
                    regexp_matches(text, '^(Average|Summary):') AS average,
                    CASE WHEN regexp_matches(text, '^${TIME}') THEN regexp_replace(text, '^${TIME}\\s*', '') ELSE text END AS rest
                  FROM ${src}
                  WHERE trim(text) <> ''
                )
              )
            )
          ))
          WHERE NOT is_header AND NOT is_stamp AND NOT is_banner
        )
      )
    )`;
}
