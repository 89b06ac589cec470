import type { LineSink, Stream } from './executor.js';

/**
 * Cuts a byte stream into lines at '\n' and hands each to the sink with its
 * exact bytes. Works on Buffers (never decoded strings) so invalid UTF-8 and
 * lines split across chunks survive byte for byte. A final line without a
 * newline is delivered by `end()`.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingLength = 0;

  constructor(
    private readonly stream: Stream,
    private readonly sink: LineSink,
    private readonly clock: () => number = nowMs,
  ) {}

  push(chunk: Buffer): void {
    const ts = this.clock();
    let start = 0;
    let newline = chunk.indexOf(0x0a, start);
    while (newline !== -1) {
      let bytes = chunk.subarray(start, newline);
      if (this.pendingLength > 0) {
        this.pending.push(bytes);
        bytes = Buffer.concat(this.pending, this.pendingLength + bytes.length);
        this.pending = [];
        this.pendingLength = 0;
      }
      this.sink({ stream: this.stream, ts, bytes });
      start = newline + 1;
      newline = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) {
      // Copy: the caller may reuse the chunk's memory.
      const rest = Buffer.from(chunk.subarray(start));
      this.pending.push(rest);
      this.pendingLength += rest.length;
    }
  }

  end(): void {
    if (this.pendingLength === 0) return;
    const bytes = Buffer.concat(this.pending, this.pendingLength);
    this.pending = [];
    this.pendingLength = 0;
    this.sink({ stream: this.stream, ts: this.clock(), bytes });
  }
}

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
