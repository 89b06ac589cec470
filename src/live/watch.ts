/**
 * The effects of `expert watch`: read the batch's status every second and
 * redraw it in place on the terminal (log-update), until the batch ends
 * (then the final frame stays) or the user presses Ctrl-C.
 */
import { createLogUpdate } from 'log-update';
import type { ExpertStore } from '../store/types.js';
import { readBatchStatus } from './batch-status.js';
import { renderWatch } from './watch-view.js';

const ENDED = new Set(['finished', 'failed', 'interrupted']);

export interface WatchOptions {
  intervalMs?: number;
  signal?: AbortSignal;
  stream?: NodeJS.WriteStream;
  /** Draws a frame in place; kept by the caller across reopenings of the store, so the view stays one block. */
  draw?: (frame: string) => void;
}

/** A frame drawer for `stream`: in place on a terminal, frame after frame otherwise. */
export function frameDrawer(stream: NodeJS.WriteStream = process.stdout): { draw(frame: string): void; done(): void } {
  if (!stream.isTTY) return { draw: (frame) => stream.write(frame + '\n\n'), done: () => undefined };
  const update = createLogUpdate(stream, { showCursor: false });
  return { draw: (frame) => update(frame), done: () => update.done() };
}

export async function watchBatch(store: ExpertStore, batchId: number, options: WatchOptions = {}): Promise<string> {
  const stream = options.stream ?? process.stdout;
  const tty = Boolean(stream.isTTY);
  const own = options.draw ? undefined : frameDrawer(stream);
  const draw = options.draw ?? own!.draw;
  const interval = options.intervalMs ?? 1000;
  let status = await readBatchStatus(store, batchId);
  for (;;) {
    const frame = renderWatch(status, tty ? stream.columns || 100 : 160);
    draw(frame);
    if (ENDED.has(status.status) || options.signal?.aborted) break;
    await new Promise<void>((resolve) => {
      const stop = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        options.signal?.removeEventListener('abort', stop);
        resolve();
      }, interval);
      options.signal?.addEventListener('abort', stop, { once: true });
    });
    if (options.signal?.aborted) break;
    status = await readBatchStatus(store, batchId);
  }
  own?.done();
  return status.status;
}
