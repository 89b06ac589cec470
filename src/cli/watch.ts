/**
 * `expert watch [<batch>] [--store F]`: a terminal view of a batch that
 * updates in place every second (src/live/watch.ts). It reads the store
 * like every read verb: through the live writer while a batch runs.
 */
import type { Command } from 'commander';
import { DEFAULT_STORE_PATH } from '../store/default-path.js';
import { withExistingStore } from './store-access.js';

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description('watch a batch as it runs: runs done/left and ETA, processes and line counts, latest vmstat and perf figures, the policy')
    .argument('[batch]', 'the batch: its id, its name (the newest of that name), or latest', 'latest')
    .option('--store <file>', 'store file', DEFAULT_STORE_PATH)
    .option('--interval <seconds>', 'seconds between updates', '1')
    .addHelpText('after', '\nStops by itself when the batch ends (the last view stays on screen); Ctrl-C stops watching, never the batch.')
    .action(async (batch: string, options: { store: string; interval: string }) => {
      const seconds = Number(options.interval);
      if (!(seconds > 0)) {
        const { UserError } = await import('../errors.js');
        throw new UserError(`--interval: expected a number of seconds above 0, got '${options.interval}'`);
      }
      const [{ resolveBatchId }, { watchBatch, frameDrawer }] = await Promise.all([import('../store/resolve-batch.js'), import('../live/watch.js')]);
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      const { LiveWriterGoneError } = await import('../live/client.js');
      const drawer = frameDrawer(process.stdout);
      try {
        for (;;) {
          try {
            await withExistingStore(options.store, async (store) => {
              const id = (await resolveBatchId(store, batch))!;
              await watchBatch(store, id, { intervalMs: seconds * 1000, signal: controller.signal, draw: drawer.draw });
            });
            return;
          } catch (error) {
            // The writer ended (or died) between two updates: open the store again and go on.
            if (!(error instanceof LiveWriterGoneError)) throw error;
          }
        }
      } finally {
        drawer.done();
        process.off('SIGINT', stop);
      }
    });
}
