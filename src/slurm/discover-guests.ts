/**
 * `slurm: {vms: discover}` (effects): Tune's discovery script as one job
 * step on each allocated node (`srun -w NODE`, so it sees that node's
 * processes, as a session there does), all nodes at once; and the local
 * testbed's state, whose guests log in with the testbed's key.
 */
import { SrunExecutor } from '../batch/srun/index.js';
import { discoverNode } from '../tune/discover.js';
import { testbedGuestAccess } from '../testbed/layout.js';
import { testbedDir, testbedFiles } from '../testbed/paths.js';
import { readState } from '../testbed/state.js';
import type { DiscoveredGuest, TestbedGuestAccess } from './discovered-guests.js';

/** A node whose discovery step failed (srun refused, the script failed). */
export class NodeDiscoveryError extends Error {
  constructor(readonly node: string, reason: string) {
    super(`discovery on node ${node} (a job step through srun) failed: ${reason}`);
    this.name = 'NodeDiscoveryError';
  }
}

export async function discoverGuestsOnNodes(nodes: readonly string[], options: { env: NodeJS.ProcessEnv; srunArgs?: readonly string[]; timeoutMs?: number }): Promise<Map<string, DiscoveredGuest[]>> {
  const results = await Promise.allSettled(nodes.map(async (node) => {
    const executor = new SrunExecutor({ node, env: options.env, srunArgs: options.srunArgs });
    try {
      const found = await discoverNode(executor, node, { timeoutMs: options.timeoutMs ?? 60_000 });
      return [node, found.guests.map((g) => ({ name: g.name, pid: g.pid, argv: g.argv }))] as const;
    } catch (e) {
      throw new NodeDiscoveryError(node, (e as Error).message);
    } finally {
      await executor.close();
    }
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return new Map(results.map((r) => (r as PromiseFulfilledResult<readonly [string, DiscoveredGuest[]]>).value));
}

/** The testbed of this folder (`.expert/testbed`, or $EXPERT_TESTBED_DIR), when one is up. */
export async function localTestbedAccess(cwd: string, env: NodeJS.ProcessEnv): Promise<TestbedGuestAccess | undefined> {
  const state = await readState(testbedFiles(testbedDir(cwd, env)).state);
  return state ? testbedGuestAccess(state) : undefined;
}
