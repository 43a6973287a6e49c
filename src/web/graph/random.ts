/**
 * A seeded generator as a function, so layouts and synthetic graphs are reproducible: the same
 * crawl placed twice lands in the same picture, and tests and benchmarks see the same graph. It is
 * the project's one seeded PRNG (src/core/random.ts), which is pure and runs in the browser too.
 */
import { SeededRandom } from '../../core/random.js';

export function seededRandom(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}
