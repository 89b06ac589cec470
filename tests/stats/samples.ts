/** Test data made by a seeded generator (never typed by hand): skewed positive samples and tied integer samples. */
import { seededRandom } from '../../src/stats/random.js';

export function positiveSample(seed: number, n: number, scale = 1000, spread = 0.3): number[] {
  const random = seededRandom(seed);
  const uniform = () => (random.uint32() + 0.5) / 2 ** 32;
  return Array.from({ length: n }, () => scale * Math.exp(spread * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())));
}

export function tiedSample(seed: number, n: number, levels = 4): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => 10 + random.upTo(levels - 1));
}
