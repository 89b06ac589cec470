import assert from 'node:assert/strict';
import { test } from 'node:test';
import { injectParameters, parseParameter, type Notebook } from '../../kernel-extensions/notebook/parameters.js';
import { externalReferences, offlineHtml } from '../../kernel-extensions/notebook/offline-html.js';

const notebook = (): Notebook => ({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    { cell_type: 'markdown', source: '# t', metadata: {} },
    { cell_type: 'code', source: 'const size = "16m";', metadata: { tags: ['parameters'] } },
    { cell_type: 'code', source: 'console.log(size)', metadata: {} },
  ],
});

test('-p values are read as YAML scalars', () => {
  assert.deepEqual(parseParameter('size=64m'), ['size', '64m']);
  assert.deepEqual(parseParameter('reps=3'), ['reps', 3]);
  assert.deepEqual(parseParameter('quick=true'), ['quick', true]);
  assert.deepEqual(parseParameter('label="3"'), ['label', '3']);
  assert.throws(() => parseParameter('2bad=1'), /TypeScript variable name/);
});

test('parameters go in a tagged cell right after the parameters cell, replacing an earlier injection', () => {
  const once = injectParameters(notebook(), { size: '64m', reps: 2 });
  const twice = injectParameters(once, { size: '1m' });
  assert.equal(twice.cells.length, 4);
  assert.deepEqual(twice.cells[2]!.metadata.tags, ['injected-parameters']);
  assert.match(String(twice.cells[2]!.source), /const size = "1m";/);
  assert.doesNotMatch(String(twice.cells[2]!.source), /reps/);
});

test('the injected cell is published like the parameters cell: its remove-* tags go with it', () => {
  const nb = notebook();
  nb.cells[1]!.metadata = { tags: ['parameters', 'remove-cell'] };
  assert.deepEqual(injectParameters(nb, { size: '1m' }).cells[2]!.metadata.tags, ['injected-parameters', 'remove-cell']);
});

test('a notebook without a parameters cell refuses -p with a clear message', () => {
  const nb = notebook();
  nb.cells[1]!.metadata = {};
  assert.throws(() => injectParameters(nb, { size: '1m' }), /no cell tagged `parameters`/);
  assert.equal(injectParameters(nb, {}).cells.length, 3);
});

test('published HTML keeps inline scripts and drops links to outside', () => {
  const page = `<script src="file:///usr/share/javascript/requirejs/require.min.js"></script><script src="https://cdn.x/mathjax.js"></script><script>var a = 1;</script>`;
  const offline = offlineHtml(page);
  assert.equal(offline, '<script>var a = 1;</script>');
  assert.deepEqual(externalReferences(page), ['file:///usr/share/javascript/requirejs/require.min.js', 'https://cdn.x/mathjax.js']);
  assert.deepEqual(externalReferences(offline), []);
});
