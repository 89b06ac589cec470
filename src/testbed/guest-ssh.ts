/**
 * "The guest is up" means: it answers SSH with the testbed's key, its host key
 * is the image's, and `true` exits 0. Checked with ssh2, the library the SSH
 * engine uses, so what `up` promises is what a batch gets.
 */
import { readFile } from 'node:fs/promises';
import { Client } from 'ssh2';

export interface SshTarget { host: string; port: number; user: string; privateKeyPath: string; hostKey: string }

/** One attempt: resolves with the exit code of `command`, rejects on any connection problem. */
export async function sshRun(target: SshTarget, command: string, timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const privateKey = await readFile(target.privateKeyPath);
  const expected = Buffer.from(target.hostKey.split(/\s+/)[1] ?? '', 'base64');
  return new Promise((resolve, reject) => {
    const client = new Client();
    let stdout = '';
    let stderr = '';
    let hostKeyMismatch = false;
    const timer = setTimeout(() => { client.end(); reject(new Error(`no answer in ${timeoutMs} ms`)); }, timeoutMs);
    const fail = (error: Error) => { clearTimeout(timer); client.end(); reject(hostKeyMismatch ? new Error(`host key of ${target.host}:${target.port} is not the guest image's`) : error); };
    client.on('error', fail);
    client.on('ready', () => {
      client.exec(command, (error, stream) => {
        if (error) return fail(error);
        stream.on('data', (c: Buffer) => { stdout += c.toString(); });
        stream.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
        stream.on('close', (code: number | null) => { clearTimeout(timer); client.end(); resolve({ code, stdout, stderr }); });
      });
    });
    client.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey,
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => { const ok = key.equals(expected); hostKeyMismatch = !ok; return ok; },
    });
  });
}
