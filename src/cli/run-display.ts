/**
 * The effects side of `expert run`'s progress: on a TTY a block redrawn in
 * place (log-update) on stderr; otherwise plain log lines on stderr. stdout
 * is kept for data (the batch id, --format output).
 */
import { createLogUpdate } from 'log-update';
import type { BatchEvent } from '../batch/runner/index.js';
import { ProgressState, logLine, renderFrame } from './run-progress.js';

export interface ProgressDisplay {
  onEvent(event: BatchEvent): void;
  /** A message from the CLI itself (e.g. "stopping, please wait"). */
  say(message: string): void;
  /** Writes a line that must stay (the batch id on stdout) without the live block drawing over it. */
  print(line: string, out: NodeJS.WritableStream): void;
  stop(): void;
}

export function createProgressDisplay(
  stream: NodeJS.WriteStream = process.stderr,
  // A pseudo-terminal without a size (rows 0) would make log-update print nothing: log lines instead.
  tty = Boolean(stream.isTTY) && (stream.rows ?? 0) > 0,
): ProgressDisplay {
  const state = new ProgressState();
  if (!tty) {
    return {
      onEvent(event) {
        state.apply(event);
        const line = logLine(event, state, Date.now());
        if (line) stream.write(line + '\n');
      },
      say(message) {
        stream.write(message + '\n');
      },
      print(line, out) {
        out.write(line + '\n');
      },
      stop() {},
    };
  }
  const update = createLogUpdate(stream);
  let notice = '';
  // Nothing to show before the batch exists (a first frame of 'batch 0 run 0/0' would stay on screen).
  const draw = () => state.batchId && update(renderFrame(state, Date.now(), stream.columns || 100, Math.max(3, (stream.rows || 30) - 8)) + (notice ? `\n${notice}` : ''));
  const timer = setInterval(draw, 200);
  timer.unref();
  return {
    onEvent(event) {
      state.apply(event);
      if (event.type === 'batch-finished') {
        draw();
        update.done();
        const line = logLine(event, state, Date.now());
        if (line) stream.write(line + '\n');
      }
    },
    say(message) {
      notice = message;
      draw();
    },
    print(line, out) {
      // The block is redrawn by erasing the lines it drew: take it away, write the line above it, draw it again.
      update.clear();
      out.write(line + '\n');
      draw();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
