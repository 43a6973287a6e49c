import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_PEER, type PeerHandle, type PeerSampler } from '../../src/core/handles.js';
import { SeededRandom } from '../../src/core/random.js';
import { OrderedSlicing } from '../../src/protocols/slicing/ordered-slicing.js';
import { RankEstimation } from '../../src/protocols/slicing/rank-estimation.js';
import { rankInTop, sliceOfRank } from '../../src/protocols/slicing/slices.js';

class ListSampler implements PeerSampler {
  constructor(readonly lists: PeerHandle[][]) {}
  samplePeer(self: PeerHandle): PeerHandle {
    return this.lists[self]?.[0] ?? NO_PEER;
  }
  samplePeers(self: PeerHandle, count: number, out: PeerHandle[]): void {
    for (const p of (this.lists[self] ?? []).slice(0, count)) out.push(p);
  }
}

function jk(attrs: number[], rs: number[], lists: PeerHandle[][] = attrs.map(() => []), peerSelection: 'random' | 'best-swap' = 'random') {
  const p = new OrderedSlicing(new ListSampler(lists), (h) => attrs[h], new SeededRandom(1), { peerSelection });
  p.ensureCapacity(attrs.length);
  for (let h = 0; h < attrs.length; h++) {
    p.resetNode(h);
    p.rs[h] = rs[h];
  }
  return p;
}

function exchange(p: OrderedSlicing, self: PeerHandle, peer: PeerHandle): void {
  const req = p.initiate(self, peer);
  const res = p.handle(peer, self, req);
  p.complete(self, peer, req, res);
}

test('JK swaps r when (a_i − a_j)(r_i − r_j) < 0 and only then', () => {
  const p = jk([1, 2], [0.9, 0.3]); // lower attribute holds the higher r: disordered
  exchange(p, 0, 1);
  assert.deepEqual([p.rs[0], p.rs[1]], [0.3, 0.9]);
  exchange(p, 0, 1); // now ordered: nothing moves
  assert.deepEqual([p.rs[0], p.rs[1]], [0.3, 0.9]);
  exchange(p, 1, 0); // same from the other side
  assert.deepEqual([p.rs[0], p.rs[1]], [0.3, 0.9]);
  assert.equal(p.swaps, 1);
  const tie = jk([5, 5], [0.9, 0.1]); // equal attributes: no order to restore
  exchange(tie, 0, 1);
  assert.deepEqual([tie.rs[0], tie.rs[1]], [0.9, 0.1]);
});

test('JK on three nodes sorts the r values and conserves them', () => {
  const p = jk([3, 1, 2], [0.2, 0.7, 0.5]);
  for (let round = 0; round < 3; round++) {
    exchange(p, 0, 1);
    exchange(p, 1, 2);
    exchange(p, 0, 2);
  }
  assert.deepEqual([p.rs[1], p.rs[2], p.rs[0]], [0.2, 0.5, 0.7]);
  assert.equal(p.estimatedRank(0), 0.7);
  assert.equal(p.slice(0, 10), 7);
  assert.equal(p.slice(1, 10), 2);
  assert.ok(p.inTopFraction(0, 0.5) && !p.inTopFraction(1, 0.5));
});

test('a node whose own exchange is in flight does not swap, so a late reply cannot duplicate values', () => {
  const p = jk([1, 2, 3], [0.9, 0.5, 0.1]);
  const req0 = p.initiate(0, 1); // node 0's request travels…
  const req2 = p.initiate(2, 0); // …while node 2 (also in flight) asks node 0
  const res2 = p.handle(0, 2, req2);
  assert.equal(res2.swapped, false, 'node 0 refuses while its own exchange is pending');
  const res0 = p.handle(1, 0, req0);
  assert.equal(res0.swapped, true);
  p.complete(0, 1, req0, res0);
  p.complete(2, 0, req2, res2);
  assert.deepEqual([...p.rs.subarray(0, 3)].sort(), [0.1, 0.5, 0.9], 'multiset of r values conserved');
  assert.deepEqual([p.rs[0], p.rs[1], p.rs[2]], [0.5, 0.9, 0.1]);
  // fail() releases the node.
  const req = p.initiate(1, 2);
  assert.equal(p.selectPeer(1), NO_PEER, 'one exchange at a time');
  p.fail(1, 2, req);
  const again = p.handle(1, 0, p.initiate(0, 1));
  assert.equal(again.swapped, false); // 0 (a=1, r=.5) vs 1 (a=2, r=.9): ordered
});

test('mod-JK picks the known neighbour whose swap reduces disorder most, from descriptors received in messages', () => {
  // 0 (a=5, r=.9) is disordered with 1 (a=6, r=.2) and more so with 2 (a=9, r=.1); 3 (a=1, r=.05) is
  // ordered with everybody, so exchanges with it only spread descriptors.
  const p = jk([5, 6, 9, 1], [0.9, 0.2, 0.1, 0.05], [[3], [3], [3], [0]], 'best-swap');
  assert.equal(p.selectPeer(0), 3, 'knows nobody yet: explores a sampled peer');
  exchange(p, 1, 3);
  exchange(p, 2, 3); // node 3 now caches the descriptors of 1 and 2
  exchange(p, 0, 3); // …and gossips them to node 0 in its reply
  assert.equal(p.swaps, 0);
  // Gains (a_j − a_i)(r_i − r_j): node 1: 1·0.7, node 2: 4·0.8, node 3: negative.
  assert.equal(p.selectPeer(0), 2);
  exchange(p, 0, 2);
  assert.deepEqual([p.rs[0], p.rs[2]], [0.1, 0.9]);
  // The reply refreshed node 2's descriptor; no known swap helps any more, so node 0 explores.
  assert.equal(p.selectPeer(0), 3);
});

test('rank estimation: fraction of sampled values lower than one\'s own, over a sliding window', () => {
  const attrs = [0.5, 0, 1];
  const p = new RankEstimation(new ListSampler([[], [], []]), (h) => attrs[h], new SeededRandom(1), { window: 4, samplesPerCycle: 0 });
  p.ensureCapacity(3);
  for (let h = 0; h < 3; h++) p.resetNode(h);
  assert.equal(p.estimatedRank(0), 0.5, 'no sample yet: the middle');
  for (const v of [0.1, 0.2, 0.9, 0.3]) p.observe(0, v);
  assert.equal(p.estimatedRank(0), 3 / 4);
  p.observe(0, 0.8); // forgets 0.1 (lower), counts 0.8 (higher)
  assert.equal(p.sampleCount(0), 4);
  assert.equal(p.estimatedRank(0), 2 / 4);
  for (const v of [0.9, 0.9, 0.9]) p.observe(0, v);
  assert.equal(p.estimatedRank(0), 0);
  // The exchange carries attribute values both ways.
  const req = p.initiate(1, 2);
  const res = p.handle(2, 1, req);
  p.complete(1, 2, req, res);
  assert.equal(p.estimatedRank(2), 1); // saw 0 < 1
  assert.equal(p.estimatedRank(1), 0); // saw 1 > 0
});

test('rank estimation reads extra values from peer sampling descriptors', () => {
  const attrs = [5, 1, 2, 3, 9];
  const p = new RankEstimation(new ListSampler([[1, 2, 3, 4], [], [], [], []]), (h) => attrs[h], new SeededRandom(1), { window: 16, samplesPerCycle: 4 });
  p.ensureCapacity(5);
  for (let h = 0; h < 5; h++) p.resetNode(h);
  assert.equal(p.selectPeer(0), 1);
  assert.equal(p.sampleCount(0), 4);
  assert.equal(p.estimatedRank(0), 3 / 4);
  assert.equal(p.slice(0, 4), 3);
  assert.equal(p.inTopFraction(0, 0.25), true);
  assert.equal(p.inTopFraction(0, 0.2), false);
});

test('slice and top-fraction conventions agree', () => {
  assert.equal(sliceOfRank(0, 10), 0);
  assert.equal(sliceOfRank(0.0999, 10), 0);
  assert.equal(sliceOfRank(0.1, 10), 1);
  assert.equal(sliceOfRank(1, 10), 9);
  assert.equal(sliceOfRank(0.95, 20), 19);
  const rng = new SeededRandom(9);
  for (let i = 0; i < 10_000; i++) {
    const r = rng.next();
    for (const s of [2, 4, 8, 16]) {
      for (let k = 1; k <= s; k++) assert.equal(rankInTop(r, k / s), sliceOfRank(r, s) >= s - k, `r=${r} s=${s} k=${k}`);
    }
  }
  assert.throws(() => sliceOfRank(0.5, 0), /slices/);
  assert.throws(() => rankInTop(0.5, 1.5), /top fraction/);
});

test('bad parameters are rejected with a RangeError naming them', () => {
  const s = new ListSampler([]);
  const rng = new SeededRandom(1);
  assert.throws(() => new RankEstimation(s, () => 0, rng, { window: 0 }), /window/);
  assert.throws(() => new RankEstimation(s, () => 0, rng, { samplesPerCycle: -1 }), /samplesPerCycle/);
  assert.throws(() => new OrderedSlicing(s, () => 0, rng, { peerSelection: 'best' as never }), /peerSelection/);
  assert.throws(() => new OrderedSlicing(s, () => 0, rng, { peerSelection: 'best-swap', cacheSize: 0 }), /cache size/);
  assert.throws(() => new OrderedSlicing(s, () => 0, rng, { gossip: 20, cacheSize: 10 }), /gossip/);
  const p = new OrderedSlicing(s, () => NaN, rng);
  p.ensureCapacity(1);
  assert.throws(() => p.resetNode(0), /attribute of node 0/);
});
