/**
 * Gives the executor for a target, one per host (connections are reused) and
 * closes them all at the end of a batch. `host: local` runs here; a node with
 * `launcher: srun` runs as Slurm job steps; every other host goes over SSH.
 */
import type { Executor } from './executor.js';
import type { ExecutorPool } from './hooks.js';
import type { Target } from './config/types.js';
import { LocalExecutor } from './local-executor.js';
import { SshExecutor } from './ssh/index.js';
import { SrunExecutor } from './srun/index.js';

export function isLocal(target: Target): boolean {
  return target.host === 'local' && target.vm === undefined;
}

/** One key per place a process can run: a guest reached through its node is its own executor. */
export function executorKey(target: Target): string {
  if (target.launcher === 'srun' && target.vm === undefined) return `srun/${target.node}`;
  if (isLocal(target)) return 'local';
  return `${target.user ?? ''}@${target.host}:${target.port ?? ''}/${target.node}/${target.vm ?? ''}`;
}

export function createExecutorPool(): ExecutorPool {
  const executors = new Map<string, Promise<Executor>>();
  return {
    get(target: Target): Promise<Executor> {
      const key = executorKey(target);
      let executor = executors.get(key);
      if (!executor) {
        executor = makeExecutor(target);
        // A failed connection is not cached: the next run may try again.
        executor.catch(() => executors.delete(key));
        executors.set(key, executor);
      }
      return executor;
    },
    async closeAll(): Promise<void> {
      const all = [...executors.values()];
      executors.clear();
      await Promise.all(all.map((p) => p.then((e) => e.close(), () => undefined)));
    },
  };
}

async function makeExecutor(target: Target): Promise<Executor> {
  if (target.launcher === 'srun' && target.vm === undefined) return new SrunExecutor({ node: target.node, srunArgs: target.srun?.args });
  if (isLocal(target)) return new LocalExecutor();
  // ── SSH: the one place remote executors are made. Connections open lazily, on the first command. ──
  return SshExecutor.forTarget(target);
}
