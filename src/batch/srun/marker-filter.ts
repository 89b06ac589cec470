/**
 * Takes the step wrapper's marker lines out of a stdout byte stream (pure).
 * A marker is `<prefix><text>\n` where the prefix carries a nonce; it may
 * arrive anywhere (after a partial line of the program, split over chunks).
 * Everything else is passed on byte for byte and never held back past a
 * newline: only a tail that could still become the prefix waits.
 */
export class MarkerFilter {
  private carry: Buffer = Buffer.alloc(0);
  private readonly prefix: Buffer;

  constructor(
    prefix: string,
    private readonly onMarker: (text: string) => void,
    private readonly out: (bytes: Buffer) => void,
  ) {
    this.prefix = Buffer.from(prefix, 'latin1');
  }

  push(chunk: Buffer): void {
    let buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = Buffer.alloc(0);
    for (;;) {
      const at = buf.indexOf(this.prefix);
      if (at === -1) break;
      const newline = buf.indexOf(0x0a, at + this.prefix.length);
      this.emit(buf.subarray(0, at));
      if (newline === -1) {
        this.carry = Buffer.from(buf.subarray(at)); // the rest of the marker is still on its way
        return;
      }
      this.onMarker(buf.subarray(at + this.prefix.length, newline).toString('latin1'));
      buf = buf.subarray(newline + 1);
    }
    const hold = this.prefixTail(buf);
    this.emit(buf.subarray(0, buf.length - hold));
    if (hold > 0) this.carry = Buffer.from(buf.subarray(buf.length - hold));
  }

  /** The end of the stream: whatever waited was output after all. */
  end(): void {
    this.emit(this.carry);
    this.carry = Buffer.alloc(0);
  }

  /** Length of the longest tail of `buf` that is a proper beginning of the prefix. */
  private prefixTail(buf: Buffer): number {
    const max = Math.min(buf.length, this.prefix.length - 1);
    for (let n = max; n > 0; n--) {
      if (buf.subarray(buf.length - n).equals(this.prefix.subarray(0, n))) return n;
    }
    return 0;
  }

  private emit(bytes: Buffer): void {
    if (bytes.length > 0) this.out(Buffer.from(bytes));
  }
}
