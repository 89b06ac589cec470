/** sar, sadf -d, iostat -x, mpstat -P ALL and pidstat, all through the header-driven builder in `sysstat.ts`. */
import { markSinceBootSql, sinceBootRows } from '../since-boot.js';
import type { ParserDefinition } from '../types.js';
import { sadfJsonSql } from './sadf-json.js';
import { sysstatColumns, sysstatSql, type SysstatLayout } from './sysstat.js';

const CPU = ['pct_user', 'pct_nice', 'pct_system', 'pct_iowait', 'pct_steal', 'pct_idle', 'pct_usr', 'pct_sys', 'pct_irq', 'pct_soft', 'pct_guest', 'pct_gnice'];
const SAR_OTHER = [
  'proc_s', 'cswch_s', // -w
  'tps', 'rkb_s', 'wkb_s', 'dkb_s', 'areq_sz', 'aqu_sz', 'await', 'pct_util', // -d
  'kbmemfree', 'kbavail', 'kbmemused', 'pct_memused', 'kbbuffers', 'kbcached', 'kbcommit', 'pct_commit', 'kbactive', 'kbinact', 'kbdirty', // -r
  'runq_sz', 'plist_sz', 'ldavg_1', 'ldavg_5', 'ldavg_15', 'blocked', // -q
  'rtps', 'wtps', 'dtps', 'bread_s', 'bwrtn_s', 'bdscd_s', // -b
  'rxpck_s', 'txpck_s', 'rxkb_s', 'txkb_s', 'rxcmp_s', 'txcmp_s', 'rxmcst_s', 'pct_ifutil', // -n DEV
  'pswpin_s', 'pswpout_s', 'pgpgin_s', 'pgpgout_s', 'fault_s', 'majflt_s', 'intr_s', // -W -B -I
];

function sysstatParser(name: string, programs: string[], description: string, layout: SysstatLayout,
  matchesCommand?: (words: readonly string[]) => boolean): ParserDefinition {
  return {
    name,
    version: '2',
    description,
    programs,
    ...(matchesCommand ? { matchesCommand } : {}),
    columns: sysstatColumns(layout),
    sql: (src) => sysstatSql(src, layout),
    sinceBoot: sinceBootRows,
    // A report is since boot as a whole: the first report is every row with report = 1.
    postInsert: (table) => [
      markSinceBootSql(table, `SELECT process_id, seq FROM ${table} WHERE process_id IN (SELECT process_id FROM _mine_todo) AND report = 1`),
    ],
  };
}

export const sarParser = sysstatParser('sar', ['sar'], 'sar text reports (-u, -w, -d, -r, -q, -b, -n DEV, ...): one row per printed row',
  { separator: 'blank', textColumns: ['cpu', 'dev', 'iface'], numericColumns: [...CPU, ...SAR_OTHER] });

const SADF: SysstatLayout = { separator: 'semicolon', textColumns: ['hostname', 'timestamp', 'cpu', 'dev', 'iface'], numericColumns: ['interval', ...CPU, ...SAR_OTHER], timestampField: 'timestamp' };
// sadf reads a data file sar wrote: its records are intervals (sinceBootRows says 'none' for sadf).
export const sadfParser: ParserDefinition = {
  ...sysstatParser('sadf', ['sadf'], 'sadf -d (database, ;-separated; kind = first header name) and -j (JSON; kind = activity) output', SADF),
  // -d rows are the lines with ';' (JSON documents have none); -j documents go through DuckDB's JSON functions.
  sql: (src) => `SELECT * FROM (${sysstatSql(`(SELECT * FROM ${src} WHERE text LIKE '%;%')`, SADF)})
    UNION ALL BY NAME SELECT * FROM (${sadfJsonSql(src, SADF)})`,
};

export const iostatParser = sysstatParser('iostat', ['iostat'], 'iostat (-x, -t; sysstat 12 and older column sets): cpu rows (kind avg_cpu) and device rows',
  {
    separator: 'blank',
    textColumns: ['device'],
    numericColumns: [
      'pct_user', 'pct_nice', 'pct_system', 'pct_iowait', 'pct_steal', 'pct_idle',
      'r_s', 'rkb_s', 'rrqm_s', 'pct_rrqm', 'r_await', 'rareq_sz', 'w_s', 'wkb_s', 'wrqm_s', 'pct_wrqm', 'w_await', 'wareq_sz',
      'd_s', 'dkb_s', 'drqm_s', 'pct_drqm', 'd_await', 'dareq_sz', 'f_s', 'f_await', 'aqu_sz', 'pct_util',
      'avgrq_sz', 'avgqu_sz', 'await', 'svctm', 'tps', 'kb_read_s', 'kb_wrtn_s', 'kb_dscd_s', 'kb_read', 'kb_wrtn', 'kb_dscd',
    ],
  });

export const mpstatParser = sysstatParser('mpstat', ['mpstat'], 'mpstat (-P ALL): one row per CPU and interval',
  { separator: 'blank', textColumns: ['cpu'], numericColumns: ['pct_usr', 'pct_nice', 'pct_sys', 'pct_iowait', 'pct_irq', 'pct_soft', 'pct_steal', 'pct_guest', 'pct_gnice', 'pct_idle'] });

export const pidstatParser = sysstatParser('pidstat', ['pidstat'], 'pidstat (-u, -d, -w, -r, -t thread rows): one row per task and interval',
  {
    separator: 'blank',
    textColumns: ['command'],
    numericColumns: [
      'uid', 'pid', 'tgid', 'tid', 'pct_usr', 'pct_system', 'pct_guest', 'pct_wait', 'pct_cpu', 'cpu',
      'kb_rd_s', 'kb_wr_s', 'kb_ccwr_s', 'iodelay', 'cswch_s', 'nvcswch_s', 'minflt_s', 'majflt_s', 'vsz', 'rss', 'pct_mem',
    ],
  });
