import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayCache } from '../../src/auth/replay-cache.js';
import { SeededRandom } from '../../src/core/random.js';

const W = 300_000;

test('a key is fresh once, then replayed until it expires', () => {
  const cache = new ReplayCache();
  assert.equal(cache.check('ann/n1', 1000, 1000 + W, 1000), 'fresh');
  assert.equal(cache.check('ann/n1', 1000, 1000 + W, 2000), 'replayed');
  assert.equal(cache.check('bob/n1', 1000, 1000 + W, 2000), 'fresh');
  assert.equal(cache.size, 2);
  // Kept through keepUntil inclusive, dropped after (the clock check refuses it by then).
  assert.equal(cache.check('ann/n1', 1000, 1000 + W, 1000 + W), 'replayed');
  assert.equal(cache.check('other', 1000 + W, 1000 + 2 * W, 1001 + W), 'fresh');
  assert.equal(cache.size, 1, 'both expired entries were dropped');
});

test('a full cache forgets the soonest-expiring entry and refuses requests not newer than it', () => {
  const cache = new ReplayCache({ maxEntries: 3 });
  const now = 10_000;
  assert.equal(cache.check('a', 5000, 5000 + W, now), 'fresh');
  assert.equal(cache.check('b', 3000, 3000 + W, now), 'fresh');
  assert.equal(cache.check('c', 7000, 7000 + W, now), 'fresh');
  assert.equal(cache.notBeforeMs, Number.NEGATIVE_INFINITY);
  assert.equal(cache.check('d', 8000, 8000 + W, now), 'fresh');
  assert.equal(cache.size, 3);
  assert.equal(cache.notBeforeMs, 3000, 'b (timestamp 3000) was forgotten');
  assert.equal(cache.check('b', 3000, 3000 + W, now), 'too-old', 'b cannot be replayed although it was forgotten');
  assert.equal(cache.check('e', 2000, 2000 + W, now), 'too-old');
  assert.equal(cache.check('a', 5000, 5000 + W, now), 'replayed');
  // A request older than the entry that must go is refused after making room.
  assert.equal(cache.check('f', 4000, 4000 + W, now), 'too-old');
  assert.equal(cache.notBeforeMs, 5000);
});

test('notBeforeMs refuses requests signed before it (e.g. before a restart)', () => {
  const cache = new ReplayCache({ notBeforeMs: 50_000 });
  assert.equal(cache.check('a', 50_000, 50_000 + W, 60_000), 'too-old');
  assert.equal(cache.check('a', 50_001, 50_001 + W, 60_000), 'fresh');
  assert.throws(() => new ReplayCache({ maxEntries: 0 }), /maxEntries must be a positive integer/);
});

test('under any load and any bound, no key is ever accepted twice within its window', () => {
  const random = new SeededRandom(42);
  for (const maxEntries of [1, 4, 64]) {
    const cache = new ReplayCache({ maxEntries });
    const accepted = new Map<string, number>();
    let now = 0;
    let fresh = 0;
    for (let i = 0; i < 20_000; i++) {
      now += random.int(50);
      const reuse = accepted.size > 0 && random.int(3) === 0;
      const key = reuse ? [...accepted.keys()][random.int(accepted.size)] : `k${i}`;
      const timestamp = reuse ? accepted.get(key)! : now - random.int(W);
      if (Math.abs(timestamp - now) > W) continue; // the clock check would refuse it before the cache
      const verdict = cache.check(key, timestamp, timestamp + W, now);
      if (verdict === 'fresh') {
        assert.ok(!accepted.has(key), `key ${key} accepted twice (maxEntries ${maxEntries})`);
        accepted.set(key, timestamp);
        fresh++;
      }
      assert.ok(cache.size <= maxEntries);
      if (accepted.size > 500) accepted.delete(accepted.keys().next().value!);
    }
    assert.ok(fresh > 100, `the cache still accepts new requests (${fresh})`);
  }
});
