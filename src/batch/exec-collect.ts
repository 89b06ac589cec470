/**
 * `Executor.exec` for executors whose processes stream lines (SSH, srun):
 * start the command with a sink that keeps its output, feed stdin, wait up to
 * the timeout (then kill), and say in stderr why a command did not finish.
 */
import type { CommandResult, Executor, OutputLine } from './executor.js';

export async function execCollecting(
  executor: Pick<Executor, 'start'>,
  command: string,
  options: { timeoutMs?: number; stdin?: string | Buffer } = {},
): Promise<CommandResult> {
  const chunks: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
  const newline = Buffer.from('\n');
  const sink = (line: OutputLine) => {
    chunks[line.stream].push(line.bytes, newline);
  };
  const proc = await executor.start({ command, stdin: options.stdin !== undefined }, sink);
  if (options.stdin !== undefined) {
    await proc.write(options.stdin).catch(() => undefined);
    await proc.closeStdin();
  }
  let info = await proc.wait(options.timeoutMs);
  if (!info) {
    await proc.kill({ graceMs: 1000 });
    info = (await proc.wait())!;
  }
  const text = (stream: 'stdout' | 'stderr') => Buffer.concat(chunks[stream]).toString('utf8');
  let stderr = text('stderr');
  if (info.status === 'killed') stderr += `\n[expert: timed out after ${options.timeoutMs} ms]`;
  if (info.status === 'lost' || info.status === 'failed') stderr += `\n[expert: ${info.error}]`;
  return { exitCode: info.exitCode, signal: info.signal, stdout: text('stdout'), stderr };
}
