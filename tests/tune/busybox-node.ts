/**
 * A "minimal node" for Tune's tests: commands run under busybox sh with a
 * PATH holding only busybox applets (optionally without taskset), the way a
 * small appliance or rescue system looks. Same kernel, same /proc: only the
 * userland differs, which is what the discovery and apply scripts depend on.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { CommandResult, Executor, LineSink, RemoteProcess, StartOptions } from '../../src/batch/executor.js';
import { LocalExecutor } from '../../src/batch/local-executor.js';
import { quote } from '../../src/shell.js';

export class BusyboxNode implements Executor {
  readonly name: string;
  readonly dir: string;
  private readonly inner = new LocalExecutor();

  /**
   * `busybox`: every tool is a busybox applet (busybox sh also finds its own
   * applets without PATH, so nothing can be taken away). `system`: the
   * system's own tools, minus `withoutApplets` (e.g. a node without taskset).
   */
  constructor(name: string, options: { userland?: 'busybox' | 'system'; withoutApplets?: string[] } = {}) {
    this.name = name;
    this.dir = mkdtempSync(join(tmpdir(), 'expert-busybox-'));
    const which = (tool: string) => execFileSync('sh', ['-c', `command -v ${tool}`]).toString().trim();
    const busybox = which('busybox');
    const applets = ['sh', 'cat', 'od', 'tr', 'grep', 'sed', 'renice', 'ionice', 'taskset', 'chrt', 'sleep', 'ls', 'nproc', 'getconf'];
    for (const applet of applets.filter((a) => !options.withoutApplets?.includes(a))) {
      if (options.userland === 'system') symlinkSync(which(applet), join(this.dir, applet));
      else if (applet !== 'chrt' && applet !== 'getconf') symlinkSync(busybox, join(this.dir, applet));
    }
  }

  private wrap(command: string): string {
    return `PATH=${quote(this.dir)}; export PATH; exec sh -c ${quote(command)}`;
  }

  start(options: StartOptions, sink: LineSink): Promise<RemoteProcess> {
    return this.inner.start({ ...options, command: this.wrap(options.command) }, sink);
  }

  exec(command: string, options?: { timeoutMs?: number; stdin?: string | Buffer }): Promise<CommandResult> {
    return this.inner.exec(this.wrap(command), options);
  }

  async close(): Promise<void> {
    await this.inner.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
