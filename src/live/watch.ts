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
}

export async function watchBatch(store: ExpertStore, batchId: number, options: WatchOptions = {}): Promise<string> {
  const stream = options.stream ?? process.stdout;
  const tty = Boolean(stream.isTTY);
  const draw = tty ? createLogUpdate(stream, { showCursor: false }) : undefined;
  const interval = options.intervalMs ?? 1000;
  let status = await readBatchStatus(store, batchId);
  for (;;) {
    const frame = renderWatch(status, tty ? stream.columns || 100 : 160);
    if (draw) draw(frame);
    else stream.write(frame + '\n\n');
    if (ENDED.has(status.status) || options.signal?.aborted) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, interval);
      options.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    if (options.signal?.aborted) break;
    status = await readBatchStatus(store, batchId);
  }
  draw?.done();
  return status.status;
}
