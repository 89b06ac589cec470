import assert from 'node:assert/strict';
import { test } from 'node:test';
import { programOf, programWords } from '../../src/mine/program.js';
import { shellWords } from '../../src/shell.js';
import { ParserRegistry } from '../../src/mine/registry.js';

test('programOf looks through env assignments and wrappers', () => {
  assert.equal(programOf('vmstat -n -t 1'), 'vmstat');
  assert.equal(programOf('/usr/bin/iozone -a'), 'iozone');
  assert.equal(programOf('LC_ALL=C sar -u 1'), 'sar');
  assert.equal(programOf('env LC_ALL=C TZ=UTC mpstat -P ALL 1'), 'mpstat');
  assert.equal(programOf('sudo -u root taskset -c 0 nice -n 5 fio --name=x'), 'fio');
  assert.equal(programOf('timeout -s INT 10m ionice -c 2 -n 7 dd if=/dev/zero of=x'), 'dd');
  assert.equal(programOf("stdbuf -oL 'perf' stat -x, -I 1000"), 'perf');
  assert.deepEqual(programWords('taskset 0x1 perf stat -x,').slice(0, 2), ['perf', 'stat']);
  assert.deepEqual(shellWords(`a "b c" 'd e' f\\ g; h`, { firstCommand: true }), ['a', 'b c', 'd e', 'f g']);
  assert.equal(programOf(''), '');
  assert.equal(programOf("sh -c 'LC_ALL=C exec vmstat -n 1'"), 'vmstat');
});

test('the registry picks a parser by the parser column, else by program', () => {
  const registry = new ParserRegistry();
  assert.equal(registry.parserFor({ command: 'vmstat 1', parser: null })?.name, 'vmstat');
  assert.equal(registry.parserFor({ command: 'perf stat -x, -I 500 -a', parser: null })?.name, 'perf-stat');
  assert.equal(registry.parserFor({ command: 'perf record -a', parser: null }), undefined);
  assert.equal(registry.parserFor({ command: 'sadf -d sa.data -- -u', parser: null })?.name, 'sadf');
  assert.equal(registry.parserFor({ command: './my-bench --size 1g', parser: 'fio' })?.name, 'fio');
  assert.equal(registry.parserFor({ command: 'sleep 1', parser: null }), undefined);
  assert.throws(() => registry.get('nope'), /no parser named 'nope'/);
});
