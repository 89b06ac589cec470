/**
 * A testbed "node": a loopback OpenSSH sshd (src/testbed/sshd.ts) on its own
 * port, standing for one physical machine of the cluster; monitors and Tune
 * reach it over SSH exactly as they reach a real node.
 *
 * When we may (root, util-linux `unshare`), each node's sshd is PID 1 of its
 * own PID namespace (with its own /proc) and the node's guests are started in
 * it: a session on node2 then sees node2's QEMU processes only, as on a real
 * cluster, so Tune's discovery and `{guest_pids}` are per node. And when the
 * node's sshd dies, the kernel kills every process of the namespace: no stray
 * QEMU can outlive its node.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { descendants } from '../batch/process-tree.js';
import { startSshd } from './sshd.js';
import { isOurs, signal, waitGone, cmdline } from './procs.js';
import type { NodeState } from './state.js';

const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p));

/** PID namespaces need root here (an unprivileged user namespace would make sshd's privilege separation fail). */
export function canIsolateNodes(): boolean {
  return process.getuid?.() === 0 && UNSHARE !== undefined;
}

export interface StartedNode { pid: number; port: number; dir: string; hostKey: string; nsInit?: number }

export async function startNodeSshd(runDir: string, node: string, authorizedKey: string, isolate: boolean): Promise<StartedNode> {
  const dir = join(runDir, `${node}-sshd`);
  const wrapper = isolate && UNSHARE ? [UNSHARE, '--pid', '--fork', '--mount-proc', '--kill-child'] : undefined;
  const sshd = await startSshd({ dir, authorizedKeys: [authorizedKey], maxSessions: 64, wrapper });
  let nsInit: number | undefined;
  if (wrapper) {
    // unshare forks; its child (PID 1 inside) is sshd.
    for (const pid of descendants(sshd.pid)) if ((await cmdline(pid)).join(' ').includes(join(dir, 'sshd_config'))) { nsInit = pid; break; }
    if (!nsInit) throw new Error(`${node}: sshd started under unshare, but its process was not found`);
  }
  return { pid: sshd.pid, port: sshd.port, dir, hostKey: sshd.hostKeys[0]!.publicKey, nsInit };
}

/** SIGTERM to the listener and its per-connection sshd processes, then SIGKILL; only PIDs that are still this node's sshd. */
export async function stopNodeSshd(node: NodeState): Promise<void> {
  if (!node.sshdPid || !node.sshdDir) return;
  if (!(await isOurs(node.sshdPid, [join(node.sshdDir, 'sshd_config')]))) return;
  const children = descendants(node.sshdPid);
  const sshds = [node.sshdPid];
  for (const pid of children) {
    const argv = await cmdline(pid);
    if (argv[0]?.startsWith('sshd') || argv.join(' ').includes(join(node.sshdDir, 'sshd_config'))) sshds.push(pid);
  }
  for (const pid of sshds) signal(pid, 'SIGTERM');
  if (await waitGone(sshds, 2000)) return;
  for (const pid of sshds) signal(pid, 'SIGKILL');
  await waitGone(sshds, 2000);
}
