/**
 * Debian's Jupyter Notebook 6 server for browser tests: on loopback, with a
 * token, its Jupyter folders under a temporary directory (so trust
 * signatures, config and runtime files are the test's own).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

export const JUPYTER = '/usr/bin/jupyter';

/** Jupyter's per-user folders under `dir`: pass the same environment to everything that signs or serves notebooks. */
export function isolatedJupyterEnv(dir: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...env,
    HOME: dir,
    JUPYTER_DATA_DIR: join(dir, 'data'),
    JUPYTER_CONFIG_DIR: join(dir, 'config'),
    JUPYTER_RUNTIME_DIR: join(dir, 'runtime'),
    IPYTHONDIR: join(dir, 'ipython'),
    PYTHONNOUSERSITE: '1',
  };
}

export interface NotebookServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  token: string;
  /** The page of a notebook, relative to the notebook folder, with the token. */
  pageOf(notebook: string): string;
  stop(): Promise<void>;
}

export async function startNotebookServer(notebookDir: string, env: NodeJS.ProcessEnv): Promise<NotebookServer> {
  const token = `expert-test-${process.pid}`;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const args = ['notebook', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--port-retries=50', `--NotebookApp.token=${token}`, `--notebook-dir=${notebookDir}`];
  if (process.getuid?.() === 0) args.push('--allow-root');
  const server: ChildProcess = spawn(JUPYTER, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const stop = async () => {
    if (server.exitCode !== null || server.signalCode !== null || !server.pid) return;
    server.kill('SIGTERM');
    await Promise.race([once(server, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`notebook server did not start:\n${log}`)), 60_000);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${m[1]}`);
        }
      };
      server.stdout!.on('data', onData);
      server.stderr!.on('data', onData);
      server.once('exit', (code) => reject(new Error(`notebook server exited ${code}:\n${log}`)));
    });
    return { url, token, pageOf: (notebook) => `${url}/notebooks/${notebook}?token=${token}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
