import { UserError } from '../../src/errors.js';
import type { Magic } from './registry.js';

export const storeMagic: Magic = {
  name: 'store',
  kind: 'line',
  summary: 'open the DuckDB store the other magics use (default ./expert.duckdb)',
  usage: `%store open FILE [--read-only]   use FILE (created if missing)
%store                            say which store is in use`,
  async run(context, call) {
    const [verb, file, ...rest] = call.args;
    if (verb === undefined) {
      process.stdout.write(`store: ${context.storeFile}\n`);
      return;
    }
    if (verb !== 'open' || !file) throw new UserError('usage: %store open FILE [--read-only]');
    const store = await context.useStore(file, { readOnly: rest.includes('--read-only') });
    process.stdout.write(`store: ${store.path}${store.readOnly ? ' (read-only)' : ''}\n`);
  },
};
