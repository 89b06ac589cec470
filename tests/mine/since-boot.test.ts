/**
 * Reading a monitor's invocation for its since-boot rows (pure): options that
 * take a value are skipped with it, so `mpstat -P 0 1` has interval 1 and
 * `pidstat -p 123` none. What each answer means was seen on the real tools
 * (fixtures vmstat/no-first, iostat/no-first, mpstat/since-boot, pidstat/since-boot,
 * sar/since-boot; see tests/mine/parsers.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { programWords } from '../../src/mine/program.js';
import { sinceBootRows } from '../../src/mine/since-boot.js';

const cases: [string, string][] = [
  ['vmstat -n -t 1', 'first'],
  ['vmstat', 'first'],
  ['vmstat -y 1', 'none'],
  ['vmstat -nty 1', 'none'],
  ['vmstat --no-first 1', 'none'],
  ['vmstat -S M 1', 'first'],
  ['sudo -u nobody vmstat -w 1', 'first'],
  ['iostat -x 1', 'first'],
  ['iostat -xy 1 5', 'none'],
  ['iostat -x -y -p ALL 1', 'none'],
  ['iostat -p sda 1', 'first'],
  ['mpstat -P ALL 1', 'none'],
  ['mpstat -P 0 1', 'none'],
  ['mpstat -P 0', 'all'],
  ['mpstat -P ALL', 'all'],
  ['mpstat 0', 'all'],
  ['pidstat -u 1', 'none'],
  ['pidstat -p 123', 'all'],
  ['pidstat -p 123 2 3', 'none'],
  ['pidstat -t -u', 'all'],
  ['pidstat -U 1', 'none'],
  ['pidstat -e sleep 5', 'all'],
  ['sar -u 1 3', 'none'],
  ['sar -u 0', 'all'],
  ['sar -u ALL 0', 'all'],
  ['sar -P 0 1', 'none'],
  ['sar -u', 'none'],
  ['sadf -d sa.data -- -u', 'none'],
  ['sh -c "iostat -y -x 1 | cat"', 'none'],
];

test('since-boot rows read off each invocation', () => {
  for (const [command, expected] of cases) assert.equal(sinceBootRows(programWords(command)), expected, command);
});
