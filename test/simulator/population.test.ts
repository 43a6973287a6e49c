import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { Population } from '../../src/simulator/population.js';

test('spawn/kill keep the live list consistent and never reuse handles', () => {
  const p = new Population(2);
  const hs = Array.from({ length: 10 }, () => p.spawn());
  assert.deepEqual(hs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(p.capacity >= 10);
  p.kill(3);
  p.kill(3); // idempotent
  p.kill(0);
  assert.equal(p.size, 8);
  assert.equal(p.isAlive(3), false);
  assert.equal(p.isAlive(4), true);
  assert.equal(p.isAlive(-1), false);
  assert.equal(p.isAlive(99), false);
  assert.deepEqual([...p.live()].sort((a, b) => a - b), [1, 2, 4, 5, 6, 7, 8, 9]);
  assert.equal(p.spawn(), 10);
  const rng = new SeededRandom(1);
  for (let i = 0; i < 100; i++) assert.ok(p.isAlive(p.randomLive(rng)));
});

test('randomLive on an empty population returns -1', () => {
  const p = new Population(4);
  assert.equal(p.randomLive(new SeededRandom(1)), -1);
});
