import { UserError } from '../../src/errors.js';
import { escapeHtml } from '../../src/viz/html.js';
import { resolveBatch } from '../../src/viz/data.js';
import type { Magic } from './registry.js';

export const provenanceMagic: Magic = {
  name: 'provenance',
  kind: 'line',
  summary: "show a batch's provenance: config hash, tool versions, host facts, git commit, testbed accel",
  usage: `%provenance [ID]     the batch ID, or the newest batch in the store`,
  async run(context, call) {
    const id = call.args[0];
    if (id !== undefined && !/^\d+$/.test(id)) throw new UserError(`expected a batch id (a number), got '${id}'`);
    // The same lookup as `expert report` (an unknown id names the recent batches).
    const { batch_id: batchId, name, status, provenance } = await resolveBatch(await context.store(), id ?? 'latest');
    const text = JSON.stringify(provenance, null, 2);
    context.display({
      'application/json': provenance,
      'text/html': `<p>batch ${escapeHtml(batchId)} <b>${escapeHtml(name)}</b> (${escapeHtml(status)})</p><pre>${escapeHtml(text)}</pre>`,
      'text/plain': `batch ${batchId} ${name} (${status})\n${text}`,
    });
  },
};
