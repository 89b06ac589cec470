/**
 * A tuning process that dies without restoring: applies a policy (journaled
 * and recorded like a run would), prints "applied", then waits to be killed
 * with SIGKILL by the test. Used by cli.test.ts for `expert tune restore`.
 * argv: <store> <journal> <guest name>
 */
import { LocalExecutor } from '../../src/batch/local-executor.js';
import { openStore } from '../../src/store/store.js';
import { Journal } from '../../src/tune/journal.js';
import { applyPolicy } from '../../src/tune/session.js';
import { parseWindow } from '../../src/tune/hook.js';

const [storePath, journalPath, guest] = process.argv.slice(2) as [string, string, string];
const store = await openStore(storePath);
const local = new LocalExecutor();
const applied = await applyPolicy([{ node: 'local', target: { node: 'local', host: 'local' }, executor: local }], { name: 'crashing', identify: { vms: [guest] }, pin: { cpus: [1] }, nice: 9 }, { store, batchId: null, journal: new Journal(journalPath) }, parseWindow);
// Make the rows durable (a crash must not lose them), as a long run's checkpoints would.
await store.close();
process.stdout.write(`applied ${applied.results.filter((r) => r.verified).length}\n`);
setInterval(() => undefined, 1000);
