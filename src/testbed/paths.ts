/**
 * Where the testbed keeps things: its state folder (per project, like the
 * machine map `machines: testbed` reads) and the user-wide cache (guest image,
 * acceleration probe), which survives `down`.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** `<cwd>/.expert/testbed`, or $EXPERT_TESTBED_DIR (same rule as the batch config loader). */
export function testbedDir(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  return env.EXPERT_TESTBED_DIR ? resolve(cwd, env.EXPERT_TESTBED_DIR) : join(cwd, '.expert', 'testbed');
}

/** `~/.cache/expert` ($EXPERT_CACHE_DIR or $XDG_CACHE_HOME move it), as scripts/guest-image/build.sh computes it. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EXPERT_CACHE_DIR) return resolve(env.EXPERT_CACHE_DIR);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'expert');
}

/** Files inside a testbed folder. */
export function testbedFiles(dir: string) {
  return {
    state: join(dir, 'state.json'),
    machines: join(dir, 'machines.yaml'),
    /** `--slurm`: the same nodes and guests as a `slurm:` machine map (nodes from the allocation, processes through srun). */
    slurmMachines: join(dir, 'slurm-machines.yaml'),
    /** `--slurm`: the testbed's Slurm cluster (slurm.conf, state, spool, pid files, logs). */
    slurm: join(dir, 'slurm'),
    knownHosts: join(dir, 'known_hosts'),
    identity: join(dir, 'id_ed25519'),
    lock: join(dir, '.lock'),
    logs: join(dir, 'logs'),
    run: join(dir, 'run'),
  };
}
