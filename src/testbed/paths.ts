/**
 * Where the testbed keeps things: its state folder (per project, like the
 * machine map `machines: testbed` reads) and the user-wide cache (guest image,
 * acceleration probe), which survives `down`.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `<cwd>/.expert/testbed`, or $EXPERT_TESTBED_DIR (same rule as the batch config loader). */
export function testbedDir(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  return env.EXPERT_TESTBED_DIR ? resolve(cwd, env.EXPERT_TESTBED_DIR) : join(cwd, '.expert', 'testbed');
}

/** `~/.cache/expert` ($EXPERT_CACHE_DIR or $XDG_CACHE_HOME move it), as scripts/guest-image/build.sh computes it. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EXPERT_CACHE_DIR) return resolve(env.EXPERT_CACHE_DIR);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'expert');
}

/** The package's top folder (where package.json is), from src/ under tsx or dist/src/ after tsc. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts', 'guest-image', 'build.sh'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the expert-ts package folder (scripts/guest-image/build.sh) above ' + fileURLToPath(import.meta.url));
}

/** Files inside a testbed folder. */
export function testbedFiles(dir: string) {
  return {
    state: join(dir, 'state.json'),
    machines: join(dir, 'machines.yaml'),
    knownHosts: join(dir, 'known_hosts'),
    identity: join(dir, 'id_ed25519'),
    lock: join(dir, '.lock'),
    logs: join(dir, 'logs'),
    run: join(dir, 'run'),
  };
}
