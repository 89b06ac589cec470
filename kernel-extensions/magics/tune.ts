/**
 * `%tune discover|apply|restore|search` are the CLI's `expert tune` verbs;
 * `%%tune search` takes the search spec in the cell (relative paths in it
 * start at the notebook's folder). An interrupt stops the current trial and
 * restores its tuning, as Ctrl-C does for the CLI.
 */
import { DISCOVER_COLUMNS, discoveryRows } from '../../src/cli/tune.js';
import { UserError } from '../../src/errors.js';
import type { ParsedDiscovery } from '../../src/tune/discover-parse.js';
import { runSearchCommand } from '../../src/tune/search/command.js';
import type { KernelContext } from '../context.js';
import { htmlTable, textTable } from '../html-table.js';
import { captureOutput, progressDisplay, runVerbInCell, showRows } from './cli-verbs.js';
import { bodyAtCellLines } from './parse.js';
import type { Magic } from './registry.js';

export const tuneMagic: Magic = {
  name: 'tune',
  kind: 'both',
  summary: 'discover guests and threads, apply or restore a policy, search for the best policy',
  usage: `%tune discover [--host H]
%tune apply POLICY.yaml [--policy NAME] [--host H]
%tune restore
%tune search SPEC.yaml [--apply]

%%tune search [--apply] [--dry-run [--sample N]]
batch: ./batch.yaml            # or an inline batch
candidates: [...]              # or generate: {...}
objective: {sql: "...", direction: max}
budget: {trials: 8}

Flags are those of \`expert tune <verb> --help\`. Interrupting stops the
current trial and restores its tuning.`,
  async run(context, call) {
    if (call.kind === 'line') {
      if (call.args.length === 0) throw new UserError('usage: %tune discover|apply|restore|search ...; see %tune?');
      await runVerbInCell(context, 'tune', call.args, call.args[0] === 'discover' ? showDiscoveries : showRows);
      return;
    }
    const [verb, ...flags] = call.args;
    if (verb !== 'search') throw new UserError('the cell form is %%tune search [--apply] [--dry-run [--sample N]]; see %tune?');
    const sampleAt = flags.indexOf('--sample');
    const sample = sampleAt < 0 ? undefined : Number(flags[sampleAt + 1]);
    if (sample !== undefined && !(Number.isInteger(sample) && sample > 0)) throw new UserError(`--sample wants a whole number of candidates, got '${flags[sampleAt + 1] ?? ''}'; see %tune?`);
    const unknown = flags.find((f, i) => !['--apply', '--dry-run'].includes(f) && !(sampleAt >= 0 && (i === sampleAt || i === sampleAt + 1)));
    if (unknown) throw new UserError(`unexpected argument '${unknown}'; see %tune?`);
    // The search's progress (trials, the best so far) is not an error: one display updated in place.
    const restore = captureOutput({ stdout: false, stderr: progressDisplay(context) });
    let code: number;
    try {
      code = await runSearchCommand('<%%tune search cell>', {
        store: context.storeFile,
        apply: flags.includes('--apply'),
        dryRun: flags.includes('--dry-run'),
        ...(sample ? { sample } : {}),
        format: 'table',
        text: bodyAtCellLines(call),
      });
    } finally {
      restore();
    }
    if (code !== 0) throw new UserError(code === 130 ? 'search interrupted: the current trial was stopped and its tuning restored' : 'the search found no measurement (see above)');
  },
};

/** `%tune discover`: the threads of every guest as a table, and a sentence for each node without guests. */
function showDiscoveries(context: KernelContext, value: unknown): void {
  const discoveries = value as ParsedDiscovery[];
  const empty = discoveries.filter((d) => d.guests.length === 0).map((d) => (d.node === 'local' ? 'this machine (local)' : d.node));
  const rows = discoveryRows(discoveries);
  if (rows.length > 0) context.display({ 'text/html': htmlTable(DISCOVER_COLUMNS, rows, 500), 'text/plain': textTable(DISCOVER_COLUMNS, rows, 500) });
  if (empty.length > 0) process.stdout.write(`no QEMU guests found on ${empty.join(', ')}\n`);
}
