/**
 * iozone. Three shapes, told apart by the `source` column:
 *  - `auto`: the `-a` table. Tests that were not run leave blank gaps, so the
 *    row is cut by column position (iozone right-aligns each figure to a fixed
 *    end column); a row with every column present is split on blanks instead,
 *    which also survives a figure wider than its column.
 *  - `report`: the `-R` "Excel" blocks (one block per test, file size down,
 *    record length across), folded back into one row per (file, record).
 *  - `throughput`: `-t` lines ("Children see throughput for N initial writers").
 */
import { num } from '../sql.js';
import type { ParserDefinition } from '../types.js';

/** Column name, end position (1-based, inclusive) of its figure in `-a` rows, `-R` block title. */
const AUTO_COLUMNS: readonly [string, number, string | null][] = [
  ['file_kb', 16, null],
  ['reclen_kb', 24, null],
  ['write_kbps', 33, 'Writer report'],
  ['rewrite_kbps', 42, 'Re-writer report'],
  ['read_kbps', 51, 'Reader report'],
  ['reread_kbps', 60, 'Re-Reader report'],
  ['random_read_kbps', 69, 'Random read report'],
  ['random_write_kbps', 78, 'Random write report'],
  ['bkwd_read_kbps', 87, 'Backward read report'],
  ['record_rewrite_kbps', 97, 'Record rewrite report'],
  ['stride_read_kbps', 107, 'Stride read report'],
  ['fwrite_kbps', 116, 'Fwrite report'],
  ['frewrite_kbps', 125, 'Re-Fwrite report'],
  ['fread_kbps', 134, 'Fread report'],
  ['freread_kbps', 143, 'Re-Fread report'],
];

/** Throughput-mode test names → the column its "Children see" figure fills. */
const THROUGHPUT_TESTS: readonly [string, string][] = [
  ['initial writers', 'write_kbps'],
  ['rewriters', 'rewrite_kbps'],
  ['readers', 'read_kbps'],
  ['re-readers', 'reread_kbps'],
  ['reverse readers', 'bkwd_read_kbps'],
  ['stride readers', 'stride_read_kbps'],
  ['random readers', 'random_read_kbps'],
  ['random writers', 'random_write_kbps'],
  ['record rewriters', 'record_rewrite_kbps'],
  ['fwriters', 'fwrite_kbps'],
  ['frewriters', 'frewrite_kbps'],
  ['freaders', 'fread_kbps'],
  ['freereaders', 'freread_kbps'],
  ['mixed workload', 'mixed_kbps'],
  ['pwrite writers', 'pwrite_kbps'],
  ['pread readers', 'pread_kbps'],
];

const VALUE_COLUMNS = [...AUTO_COLUMNS.slice(2).map(([name]) => name), 'mixed_kbps', 'pwrite_kbps', 'pread_kbps'];
const THROUGHPUT_EXTRA = ['processes', 'test', 'throughput_kbps', 'parent_kbps', 'min_kbps', 'max_kbps', 'avg_kbps', 'min_xfer_kb'];

function autoSelect(src: string): string {
  const sliced = AUTO_COLUMNS.map(([name, end], i) => {
    const start = i === 0 ? 1 : AUTO_COLUMNS[i - 1]![1] + 1;
    return [name, `nullif(trim(substr(text, ${start}, ${end - start + 1})), '')`] as const;
  });
  const cols = sliced.map(([name, slice], i) => `${num(`CASE WHEN len(f) = ${AUTO_COLUMNS.length} THEN f[${i + 1}] ELSE ${slice} END`)} AS ${name}`);
  const extra = VALUE_COLUMNS.filter((c) => !AUTO_COLUMNS.some(([n]) => n === c)).map((c) => `NULL::DOUBLE AS ${c}`);
  return `
    SELECT process_id, seq, line_ts, 'auto' AS source, ${cols.join(', ')}, ${extra.join(', ')},
      ${THROUGHPUT_EXTRA.map((c) => `NULL AS ${c}`).join(', ')},
      (len(list_filter(f, x -> try_cast(x AS DOUBLE) IS NULL)) > 0
        OR ${AUTO_COLUMNS.map(([, ], i) => `(${num(sliced[i]![1])} IS NOT NULL)::INT`).join(' + ')} <> len(f) AND len(f) <> ${AUTO_COLUMNS.length}) AS parse_error_hint
    FROM (SELECT process_id, seq, ts AS line_ts, text, string_split_regex(trim(text), '\\s+') AS f FROM ${src}
          WHERE regexp_matches(text, '^\\s+[0-9]'))`;
}

function reportSelect(src: string): string {
  // Each block: a title line "Writer report", a header of quoted record lengths, rows "file" v1 v2 ...
  const pick = AUTO_COLUMNS.slice(2).map(([name, , title]) => `max(CASE WHEN block = '${title}' THEN v END) AS ${name}`);
  const extra = VALUE_COLUMNS.filter((c) => !AUTO_COLUMNS.some(([n]) => n === c)).map((c) => `NULL::DOUBLE AS ${c}`);
  return `
    SELECT process_id, min(seq) AS seq, min(line_ts) AS line_ts, 'report' AS source, file_kb, reclen_kb, ${pick.join(', ')}, ${extra.join(', ')},
      ${THROUGHPUT_EXTRA.map((c) => `NULL AS ${c}`).join(', ')}, bool_or(v IS NULL) AS parse_error_hint
    FROM (
      SELECT process_id, seq, line_ts, block, ${num("replace(f[1], '\"', '')")} AS file_kb,
        ${num("replace(recl[i], '\"', '')")} AS reclen_kb, ${num('f[i + 1]')} AS v
      FROM (
        SELECT *, generate_subscripts(recl, 1) AS i FROM (
          SELECT process_id, seq, line_ts, f,
            last_value(CASE WHEN is_title THEN replace(trim(text), '"', '') END IGNORE NULLS) OVER w AS block,
            last_value(CASE WHEN is_recl THEN string_split_regex(trim(text), '\\s+') END IGNORE NULLS) OVER w AS recl,
            is_row
          FROM (
            SELECT process_id, seq, ts AS line_ts, text, string_split_regex(trim(text), '\\s+') AS f,
              regexp_full_match(trim(text), '"[A-Za-z -]+ report"') AS is_title,
              regexp_full_match(trim(text), '("[0-9]+"\\s*)+') AND text LIKE ' %' AS is_recl,
              regexp_matches(text, '^"[0-9]+"\\s+[0-9]') AS is_row
            FROM ${src}
            WHERE text LIKE '%"%'
          )
          WINDOW w AS (PARTITION BY process_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        ) WHERE is_row AND block IS NOT NULL AND recl IS NOT NULL
      )
    )
    GROUP BY process_id, file_kb, reclen_kb`;
}

function throughputSelect(src: string): string {
  const byTest = VALUE_COLUMNS.map((col) => {
    const tests = THROUGHPUT_TESTS.filter(([, c]) => c === col).map(([t]) => `'${t}'`);
    return tests.length ? `CASE WHEN test IN (${tests.join(', ')}) THEN children END AS ${col}` : `NULL::DOUBLE AS ${col}`;
  });
  const after = (k: number, label: string) =>
    `CASE WHEN lead(text, ${k}) OVER w LIKE '%${label}%' THEN ${num("regexp_extract(lead(text, " + k + ") OVER w, '=\\s*([0-9.]+)', 1)")} END`;
  return `
    SELECT process_id, seq, line_ts, 'throughput' AS source, NULL::DOUBLE AS file_kb, NULL::DOUBLE AS reclen_kb, ${byTest.join(', ')},
      processes, test, children AS throughput_kbps, parent_kbps, min_kbps, max_kbps, avg_kbps, min_xfer_kb, children IS NULL AS parse_error_hint
    FROM (
      SELECT *, ${num("regexp_extract(text, '=\\s*([0-9.]+)', 1)")} AS children,
        try_cast(regexp_extract(text, 'throughput for\\s+([0-9]+)', 1) AS BIGINT) AS processes,
        trim(regexp_extract(text, 'throughput for\\s+[0-9]+\\s+([A-Za-z -]+?)\\s*=', 1)) AS test
      FROM (
        SELECT process_id, seq, ts AS line_ts, text, is_children,
          ${after(1, 'Parent sees')} AS parent_kbps,
          ${after(2, 'Min throughput')} AS min_kbps,
          ${after(3, 'Max throughput')} AS max_kbps,
          ${after(4, 'Avg throughput')} AS avg_kbps,
          ${after(5, 'Min xfer')} AS min_xfer_kb
        FROM (SELECT *, text LIKE '%Children see throughput%' AS is_child, text LIKE '%Children see throughput%' AS is_children FROM ${src}
              WHERE text LIKE '%throughput%' OR text LIKE '%xfer%')
        WINDOW w AS (PARTITION BY process_id ORDER BY seq)
      ) WHERE is_children
    )`;
}

export const iozoneParser: ParserDefinition = {
  name: 'iozone',
  version: '1',
  description: 'iozone -a tables (blank gaps by column position), -R report blocks, -t throughput lines',
  programs: ['iozone'],
  columns: [
    { name: 'source', type: 'VARCHAR', description: "'auto' (-a table), 'report' (-R block), 'throughput' (-t)" },
    ...AUTO_COLUMNS.map(([name]) => ({ name, type: 'DOUBLE' })),
    ...['mixed_kbps', 'pwrite_kbps', 'pread_kbps'].map((name) => ({ name, type: 'DOUBLE' })),
    { name: 'processes', type: 'BIGINT', description: '-t: number of processes' },
    { name: 'test', type: 'VARCHAR', description: "-t: test name as printed, e.g. 'initial writers'" },
    ...['throughput_kbps', 'parent_kbps', 'min_kbps', 'max_kbps', 'avg_kbps', 'min_xfer_kb'].map((name) => ({ name, type: 'DOUBLE' })),
  ],
  sql: (src) => `
    SELECT * EXCLUDE (parse_error_hint),
      parse_error_hint OR (source <> 'throughput' AND (file_kb IS NULL OR reclen_kb IS NULL)) AS parse_error
    FROM (${autoSelect(src)} UNION ALL BY NAME ${reportSelect(src)} UNION ALL BY NAME ${throughputSelect(src)})`,
};
