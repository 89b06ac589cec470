/**
 * The seeded generator behind every resampling statistic: stdlib's 32-bit
 * Mersenne Twister, seeded as numpy's legacy `RandomState(seed)` seeds it, and
 * bounded integers drawn the way `RandomState.randint` and `shuffle` draw them
 * (mask to the next power of two, reject above the bound). So a bootstrap or a
 * permutation test here and SciPy's with `random_state=np.random.RandomState(seed)`
 * resample exactly the same indices, which is what the tests check.
 */
import mt19937 from '@stdlib/random-base-mt19937';

export interface SeededRandom {
  /** A uniform 32-bit unsigned integer. */
  uint32(): number;
  /** A uniform integer in [0, max] (inclusive). */
  upTo(max: number): number;
}

export function seededRandom(seed: number): SeededRandom {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new RangeError(`seed must be a whole number in [0, 2^32), got ${seed}`);
  const next = mt19937.factory({ seed });
  return {
    uint32: () => next(),
    upTo(max: number): number {
      if (max === 0) return 0;
      if (!(Number.isInteger(max) && max > 0 && max < 0xffffffff)) throw new RangeError(`bound must be a whole number below 2^32 - 1, got ${max}`);
      let mask = max;
      mask |= mask >>> 1;
      mask |= mask >>> 2;
      mask |= mask >>> 4;
      mask |= mask >>> 8;
      mask |= mask >>> 16;
      for (;;) {
        const value = (next() & mask) >>> 0;
        if (value <= max) return value;
      }
    },
  };
}

/** A permutation of 0..n-1 as `RandomState.permutation(n)` makes it (Fisher–Yates from the end). */
export function permutation(random: SeededRandom, n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = random.upTo(i);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
