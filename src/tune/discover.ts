/**
 * Discovery on a node: one script through the node's executor, parsed in TS.
 */
import type { Executor } from '../batch/executor.js';
import { UserError } from '../errors.js';
import { DISCOVERY_SCRIPT } from './discover-script.js';
import { parseDiscovery, type ParsedDiscovery } from './discover-parse.js';

export async function discoverNode(executor: Executor, node = executor.name, options: { timeoutMs?: number } = {}): Promise<ParsedDiscovery> {
  const result = await executor.exec('sh -s', { stdin: DISCOVERY_SCRIPT, timeoutMs: options.timeoutMs ?? 30_000 });
  if (result.exitCode !== 0) {
    throw new UserError(`tune discover on ${node}: the discovery script failed (exit ${result.exitCode ?? result.signal}): ${result.stderr.trim().slice(0, 500)}`);
  }
  return parseDiscovery(node, result.stdout);
}
