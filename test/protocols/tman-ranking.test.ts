import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { LineDistanceRanking, RingDistanceRanking, SortedRingRanking, createRanking } from '../../src/protocols/tman/ranking.js';

const RING = 2 ** 32;
const cw = (base: number, k: number) => (k - base + RING) % RING;

/** Reference: sort by clockwise distance, then alternate closest successor / closest predecessor. */
function referenceSortedRing(base: number, keys: number[], count: number): number[] {
  const idx = keys.map((_, i) => i).sort((a, b) => cw(base, keys[a]) - cw(base, keys[b]) || a - b);
  const out: number[] = [];
  let front = 0;
  let back = idx.length - 1;
  while (out.length < Math.min(count, keys.length)) {
    out.push(idx[front++]);
    if (out.length < Math.min(count, keys.length)) out.push(idx[back--]);
  }
  return out;
}

test('sorted ring alternates nearest successor and nearest predecessor', () => {
  const r = new SortedRingRanking();
  const keys = [110, 90, 120, 80, 105, 2 ** 32 - 5, 300];
  const out = new Int32Array(16);
  const k = r.select(100, keys, keys.length, 4, out);
  assert.equal(k, 4);
  // successors by clockwise distance: 105 (5), 110 (10), 120 ...; predecessors: 90 (10), 80 (20) ...
  assert.deepEqual([...out.subarray(0, 4)], [4, 1, 0, 3]);
});

test('sorted ring wraps around 2^32', () => {
  const r = new SortedRingRanking();
  const keys = [5, 2 ** 32 - 3, 1000, 2 ** 32 - 1000];
  const out = new Int32Array(8);
  r.select(2 ** 32 - 1, keys, keys.length, 2, out);
  assert.deepEqual([...out.subarray(0, 2)], [0, 1]);
});

test('sorted ring: partial selection equals full sort + alternation on random inputs', () => {
  const rng = new SeededRandom(3);
  const r = new SortedRingRanking();
  const out = new Int32Array(128);
  for (let trial = 0; trial < 500; trial++) {
    const n = 1 + rng.int(60);
    const keys = Array.from({ length: n }, () => rng.uint32());
    const base = rng.uint32();
    const count = 1 + rng.int(25);
    const k = r.select(base, keys, n, count, out);
    assert.deepEqual([...out.subarray(0, k)], referenceSortedRing(base, keys, count), `trial ${trial}`);
  }
});

test('ring distance ranks by min(clockwise, counter-clockwise)', () => {
  const r = new RingDistanceRanking();
  const keys = [110, 95, 200, 2 ** 32 - 10, 30];
  const out = new Int32Array(8);
  const k = r.select(0, keys, keys.length, 3, out);
  assert.equal(k, 3);
  assert.deepEqual([...out.subarray(0, 3)], [3, 4, 1]);
});

test('line distance ranks by |key - base| on arbitrary numbers', () => {
  const r = new LineDistanceRanking();
  const keys = [0.5, -3, 2.25, 1.9];
  const out = new Int32Array(8);
  assert.equal(r.select(2, keys, keys.length, 10, out), 4);
  assert.deepEqual([...out.subarray(0, 4)], [3, 2, 0, 1]);
});

test('createRanking rejects unknown names', () => {
  assert.throws(() => createRanking('nope' as never), /ranking must be/);
});
