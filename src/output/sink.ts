/**
 * Writing to stdout so that nothing is lost: output is buffered into large
 * writes, each write waits for the stream to drain when the pipe is full, and
 * `flushed()` resolves only once the bytes are handed to the OS. Node's
 * `process.exit()` otherwise drops whatever a full pipe had not taken yet
 * (a truncated `expert mine sql ... | wc -l` with exit 0).
 * A reader that goes away (`| head`) is not an error: writes stop quietly.
 */
import type { Writable } from 'node:stream';

const BUFFER_BYTES = 1 << 16;

export class Sink {
  private buffer: string[] = [];
  private buffered = 0;
  private broken = false;
  /** A write failure other than a closed pipe (a full disk, say): the verb must not exit 0 after it. */
  failure: NodeJS.ErrnoException | undefined;

  constructor(private readonly stream: Writable = process.stdout) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.broken = true;
      if (error.code !== 'EPIPE') this.failure ??= error;
    });
  }

  /** True once the reader has closed the pipe: producers may stop early. */
  get closed(): boolean {
    return this.broken;
  }

  async write(text: string): Promise<void> {
    if (this.broken) return;
    this.buffer.push(text);
    this.buffered += text.length;
    if (this.buffered >= BUFFER_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffered === 0 || this.broken) {
      this.buffer = [];
      this.buffered = 0;
      return;
    }
    const text = this.buffer.join('');
    this.buffer = [];
    this.buffered = 0;
    if (!this.stream.write(text)) await drained(this.stream);
  }
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/** Resolves when everything written to `stream` so far has left the process (or the reader is gone). */
export function flushed(stream: Writable & { writableLength?: number }): Promise<void> {
  if (stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    stream.write('', () => resolve());
    stream.once('error', () => resolve());
  });
}

let stdoutSink: Sink | undefined;
/** The one Sink of process.stdout (one error listener, one buffer, shared by every verb). */
export function stdout(): Sink {
  stdoutSink ??= new Sink(process.stdout);
  return stdoutSink;
}
