/**
 * A testbed "node": a loopback OpenSSH sshd (src/testbed/sshd.ts) on its own
 * port, standing for one physical machine of the cluster; monitors and Tune
 * reach it over SSH exactly as they reach a real node.
 */
import { join } from 'node:path';
import { startSshd, descendantPids } from './sshd.js';
import { isOurs, signal, waitGone, cmdline } from './procs.js';
import type { NodeState } from './state.js';

export async function startNodeSshd(runDir: string, node: string, authorizedKey: string): Promise<{ pid: number; port: number; dir: string; hostKey: string }> {
  const dir = join(runDir, `${node}-sshd`);
  const sshd = await startSshd({ dir, authorizedKeys: [authorizedKey], maxSessions: 64 });
  return { pid: sshd.pid, port: sshd.port, dir, hostKey: sshd.hostKeys[0]!.publicKey };
}

/** SIGTERM to the listener and its per-connection sshd processes, then SIGKILL; only PIDs that are still this node's sshd. */
export async function stopNodeSshd(node: NodeState): Promise<void> {
  if (!node.sshdPid || !node.sshdDir) return;
  if (!(await isOurs(node.sshdPid, [join(node.sshdDir, 'sshd_config')]))) return;
  const children = await descendantPids(node.sshdPid);
  const sshds = [node.sshdPid];
  for (const pid of children) if ((await cmdline(pid))[0]?.startsWith('sshd')) sshds.push(pid);
  for (const pid of sshds) signal(pid, 'SIGTERM');
  if (await waitGone(sshds, 2000)) return;
  for (const pid of sshds) signal(pid, 'SIGKILL');
  await waitGone(sshds, 2000);
}
