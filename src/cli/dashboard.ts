/**
 * `expert dashboard [<batch>] [HOST:PORT] [--store F]`: serve a batch's live
 * dashboard (src/live/dashboard-server.ts) and print its URL. Each poll opens
 * the store like a read verb and closes it again, so the dashboard never
 * keeps the file from a batch that starts later. Runs until Ctrl-C.
 */
import type { Command } from 'commander';
import { DEFAULT_STORE_PATH } from '../store/default-path.js';
import type { ExpertStore } from '../store/types.js';
import { withExistingStore } from './store-access.js';

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description("serve a batch's live dashboard (charts of the monitors per node and guest, progress, /metrics for Prometheus) and print its URL")
    .argument('[batch]', 'the batch: its id, its name (the newest of that name), or latest', 'latest')
    .argument('[HOST:PORT]', 'where to listen (default 127.0.0.1 and a free port)')
    .option('--store <file>', 'store file', DEFAULT_STORE_PATH)
    .addHelpText('after', '\nThe URL carries a random token (?token=...); requests without it get 401. Ctrl-C stops the dashboard, never the batch.')
    .action(async (batch: string, listen: string | undefined, options: { store: string }) => {
      // One argument that looks like HOST:PORT is the address (the batch is then the latest).
      if (listen === undefined && /:\d+$|^\d{2,5}$/.test(batch) && !/^\d+$/.test(batch)) [batch, listen] = ['latest', batch];
      const [{ Dashboard, parseListen }, { resolveBatch }] = await Promise.all([import('../live/dashboard-server.js'), import('../store/resolve-batch.js')]);
      const address = parseListen(listen);
      const found = await withExistingStore(options.store, (store) => resolveBatch(store, batch));
      const withStore = <T>(work: (store: ExpertStore) => Promise<T>) => withExistingStore(options.store, work);
      const dashboard = await Dashboard.start(withStore, found.batch_id, address, { title: `ExPerT · batch ${found.batch_id} ${found.name}` });
      process.stdout.write(`${dashboard.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await dashboard.close();
    });
}
