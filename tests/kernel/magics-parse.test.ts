import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCell, takeOption } from '../../kernel-extensions/magics/parse.js';
import { shellWords } from '../../src/shell.js';
import { closest, MagicRegistry } from '../../kernel-extensions/magics/registry.js';
import { bindVariables } from '../../kernel-extensions/magics/sql-bind.js';

test('a cell that is only TypeScript is one code segment', () => {
  assert.deepEqual(parseCell('const a = 1 % 2;\nconsole.log(a)'), [{ kind: 'code', code: 'const a = 1 % 2;\nconsole.log(a)', line: 0 }]);
});

test('a %% first line makes the whole cell one cell magic with its body', () => {
  const [segment, ...rest] = parseCell('\n%%sql -o runs\nSELECT 1\n  -- two\n');
  assert.equal(rest.length, 0);
  assert.equal(segment!.kind, 'cell');
  assert.ok(segment!.kind === 'cell');
  assert.equal(segment.name, 'sql');
  assert.deepEqual(segment.args, ['-o', 'runs']);
  assert.equal(segment.body, 'SELECT 1\n  -- two\n');
  assert.equal(segment.line, 1);
});

test('line magics split the TypeScript around them, in order', () => {
  const segments = parseCell('const x = 1;\n%store open "my store.duckdb"\nconsole.log(x);\n%lsmagic');
  assert.deepEqual(
    segments.map((s) => (s.kind === 'code' ? ['code', s.code] : [s.kind, s.name, s.args])),
    [['code', 'const x = 1;'], ['line', 'store', ['open', 'my store.duckdb']], ['code', 'console.log(x);'], ['line', 'lsmagic', []]],
  );
});

test('%name? asks for help', () => {
  const [segment] = parseCell('%batch?');
  assert.ok(segment && segment.kind === 'line');
  assert.equal(segment.name, 'batch');
  assert.equal(segment.help, true);
});

test('arguments split like a shell: quotes group, backslash escapes', () => {
  assert.deepEqual(shellWords(`run "a b" 'c "d"' e\\ f ""`), ['run', 'a b', 'c "d"', 'e f', '']);
  assert.deepEqual(takeOption(['-o', 'df', 'vmstat'], ['-o']), { value: 'df', rest: ['vmstat'] });
});

test('{var} binds as a parameter, never inside strings or comments', () => {
  const { sql, names } = bindVariables(`SELECT '{size}' AS s, "{x}" FROM t -- {c}\nWHERE a = {size} AND b = {rep} AND c = {size} /* {d} */`);
  assert.deepEqual(names, ['size', 'rep']);
  assert.equal(sql, `SELECT '{size}' AS s, "{x}" FROM t -- {c}\nWHERE a = $1 AND b = $2 AND c = $1 /* {d} */`);
  assert.equal(bindVariables("SELECT {'k': 1}").sql, "SELECT {'k': 1}");
});

test('magic names complete by prefix and kind, and typos get a suggestion', () => {
  const noop = async () => {};
  const registry = new MagicRegistry().add(
    { name: 'sql', kind: 'cell', summary: '', usage: '', run: noop },
    { name: 'store', kind: 'line', summary: '', usage: '', run: noop },
    { name: 'batch', kind: 'both', summary: '', usage: '', run: noop },
  );
  assert.deepEqual(registry.complete('%s'), ['%store']);
  assert.deepEqual(registry.complete('%%'), ['%%batch', '%%sql']);
  assert.equal(closest('stroe', ['store', 'sql', 'batch']), 'store');
  assert.equal(closest('zzzzz', ['store', 'sql']), undefined);
});

const known = (name: string) => ['store', 'mine', 'batch', 'sql', 'lsmagic'].includes(name);
const kinds = (cell: string) => parseCell(cell, known).map((s) => (s.kind === 'code' ? 'code' : `${s.kind}:${s.name}`));

test('a % line that continues an expression is TypeScript, not a magic', () => {
  assert.deepEqual(parseCell('const m = 10\n  % 3;\nconsole.log(m)', known), [{ kind: 'code', code: 'const m = 10\n  % 3;\nconsole.log(m)', line: 0 }]);
  assert.deepEqual(kinds('const r = total\n  %n;'), ['code'], 'an unknown name after a value continues it');
  assert.deepEqual(kinds('const r = a +\n  %store'), ['code'], 'after an operator the line must continue');
  assert.deepEqual(kinds('const r = f(a,\n  %store open x)'), ['code'], 'inside brackets');
  assert.deepEqual(kinds('const s = `\n%store open x\n`;'), ['code'], 'inside a template literal');
  assert.deepEqual(kinds('/* note\n%store open x\n*/'), ['code'], 'inside a block comment');
  assert.deepEqual(kinds("const q = '(';\n%store open x"), ['code', 'line:store'], 'brackets in strings do not count');
  assert.deepEqual(kinds('const t = `${f({ a: 1 })}`\n%store open x'), ['code', 'line:store']);
});

test('a % line at a statement start is a magic, known or not (a typo gets "no such magic")', () => {
  assert.deepEqual(kinds('const batch = 3;\n%mine parse iozone --batch {batch}'), ['code', 'line:mine']);
  assert.deepEqual(kinds('const m = 10\n%store open x.duckdb'), ['code', 'line:store'], 'a known magic after a value');
  assert.deepEqual(kinds('%stroe open x.duckdb'), ['line:stroe']);
  assert.deepEqual(kinds('if (x) { f(); }\n%stroe open x // c'), ['code', 'line:stroe']);
  assert.deepEqual(kinds('const a = 1; // ends with a comment (\n%lsmagic'), ['code', 'line:lsmagic']);
});
