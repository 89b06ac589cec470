import { UserError } from '../../src/errors.js';
import { escapeHtml } from '../../src/viz/html.js';
import type { Magic } from './registry.js';

export const provenanceMagic: Magic = {
  name: 'provenance',
  kind: 'line',
  summary: "show a batch's provenance: config hash, tool versions, host facts, git commit, testbed accel",
  usage: `%provenance [ID]     the batch ID, or the newest batch in the store`,
  async run(context, call) {
    const id = call.args[0];
    if (id !== undefined && !/^\d+$/.test(id)) throw new UserError(`expected a batch id (a number), got '${id}'`);
    const store = await context.store();
    const result = await store.query(
      id === undefined
        ? 'SELECT batch_id, name, status, provenance FROM batch ORDER BY batch_id DESC LIMIT 1'
        : 'SELECT batch_id, name, status, provenance FROM batch WHERE batch_id = $1',
      id === undefined ? [] : [Number(id)],
    );
    const row = result.rows[0];
    if (!row) throw new UserError(id === undefined ? `no batch in ${context.storeFile} yet` : `no batch ${id} in ${context.storeFile}`);
    const [batchId, name, status, provenance] = row;
    const parsed = typeof provenance === 'string' ? JSON.parse(provenance) : provenance;
    const text = JSON.stringify(parsed, null, 2);
    context.display({
      'application/json': parsed,
      'text/html': `<p>batch ${escapeHtml(batchId)} <b>${escapeHtml(name)}</b> (${escapeHtml(status)})</p><pre>${escapeHtml(text)}</pre>`,
      'text/plain': `batch ${batchId} ${name} (${status})\n${text}`,
    });
  },
};
