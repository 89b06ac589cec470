/**
 * Child process for the "client dies" test: starts a remote command over SSH,
 * prints `started <pid>`, then waits to be SIGKILLed by the test.
 * argv: host settings-json command
 */
import { SshExecutor } from '../../../src/batch/ssh/index.js';

const [host, settingsJson, command] = process.argv.slice(2);
const executor = new SshExecutor({ host: host!, settings: JSON.parse(settingsJson!) });
const proc = await executor.start({ command: command! }, () => undefined);
process.stdout.write(`started ${proc.pid}\n`);
setInterval(() => undefined, 60_000);
