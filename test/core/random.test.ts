import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom, hashString, shuffleInPlace } from '../../src/core/random.js';

test('same seed gives the same stream; different seeds differ', () => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  const c = new SeededRandom(43);
  const sa = Array.from({ length: 100 }, () => a.uint32());
  const sb = Array.from({ length: 100 }, () => b.uint32());
  const sc = Array.from({ length: 100 }, () => c.uint32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
});

test('text seeds hash to stable numeric seeds', () => {
  assert.equal(hashString('peercloud'), hashString('peercloud'));
  assert.notEqual(hashString('a'), hashString('b'));
  assert.deepEqual(
    Array.from({ length: 5 }, ((r) => () => r.uint32())(new SeededRandom('x'))),
    Array.from({ length: 5 }, ((r) => () => r.uint32())(new SeededRandom('x'))),
  );
});

test('next() is uniform in [0, 1) and int(n) covers [0, n) evenly', () => {
  const r = new SeededRandom(7);
  let sum = 0;
  const counts = new Array(10).fill(0);
  const draws = 200_000;
  for (let i = 0; i < draws; i++) {
    const x = r.next();
    assert.ok(x >= 0 && x < 1);
    sum += x;
    counts[r.int(10)]++;
  }
  assert.ok(Math.abs(sum / draws - 0.5) < 0.005, `mean ${sum / draws}`);
  for (const c of counts) assert.ok(Math.abs(c - draws / 10) < draws / 10 * 0.03, `bucket ${c}`);
});

test('fork() gives an independent but reproducible stream', () => {
  const a = new SeededRandom(1).fork();
  const b = new SeededRandom(1).fork();
  assert.equal(a.uint32(), b.uint32());
});

test('shuffleInPlace is a permutation', () => {
  const v = Int32Array.from({ length: 50 }, (_, i) => i);
  shuffleInPlace(v, new SeededRandom(3));
  assert.deepEqual([...v].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual([...v], Array.from({ length: 50 }, (_, i) => i));
});
