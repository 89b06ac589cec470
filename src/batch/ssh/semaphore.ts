/** A counting semaphore: `acquire()` resolves with a release function once a permit is free (FIFO). */
export class Semaphore {
  private readonly waiting: Array<() => void> = [];
  private available: number;

  constructor(permits: number) {
    this.available = Math.max(1, permits);
  }

  async acquire(): Promise<() => void> {
    if (this.available > 0) {
      this.available--;
    } else {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.available++;
    };
  }
}
