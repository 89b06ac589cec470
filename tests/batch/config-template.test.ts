/** Command templates and durations: the small parsers under the config. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseTemplate, renderTemplate, runtimePlaceholdersIn } from '../../src/batch/config/index.js';

describe('templates', () => {
  it('splits text and placeholders, with offsets', () => {
    assert.deepEqual(parseTemplate('a {x} b{y-2}{{z}}'), [{ text: 'a ' }, { name: 'x', offset: 2 }, { text: ' b' }, { name: 'y-2', offset: 7 }, { text: '{z}' }]);
  });

  it('rejects a lone brace and an empty or odd placeholder, at its offset', () => {
    for (const [template, offset] of [['a { b', 2], ['x}', 1], ['{}', 0], ['{a b}', 0], ['{1x}', 0]] as const) {
      assert.throws(() => parseTemplate(template), (e: any) => e.offset === offset, template);
    }
  });

  it('renders values quoted, keeps the listed names, throws on others', () => {
    assert.equal(renderTemplate('echo {a} {b}', { a: 'x y', b: 'z' }), "echo 'x y' z");
    assert.equal(renderTemplate('perf -p {guest_pids}', {}, new Set(['guest_pids'])), 'perf -p {guest_pids}');
    assert.throws(() => renderTemplate('echo {c}', {}), /unknown placeholder \{c\}/);
    assert.deepEqual(runtimePlaceholdersIn('perf -p {guest_pids} {guest_tids} {guest_pids}'), ['guest_pids', 'guest_tids']);
  });
});

describe('parseDuration', () => {
  it('reads units, combinations, decimals and plain seconds', () => {
    const cases: Array<[string | number, number]> = [['10m', 600_000], ['30s', 30_000], ['1500ms', 1500], ['1h30m', 5_400_000], ['2.5s', 2500], ['1d', 86_400_000], [90, 90_000], ['45', 45_000], [0.25, 250], [' 5s ', 5000]];
    for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, String(input));
  });

  it('rejects everything else with what it accepts', () => {
    for (const bad of ['', '10 minutes', 'm', '5x', '-3s', '1m 30s', 'ten']) assert.throws(() => parseDuration(bad), /expected a duration like 10m, 30s, 1500ms/, bad);
    assert.throws(() => parseDuration(-1), /≥ 0/);
    assert.throws(() => parseDuration(Number.NaN), /≥ 0/);
  });
});
