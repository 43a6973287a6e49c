import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_PEER, type PeerHandle, type PeerSampler } from '../../src/core/handles.js';
import { SeededRandom } from '../../src/core/random.js';
import { type ProfileDirectory, TMan } from '../../src/protocols/tman/tman.js';

/** Keys 0, 100, 200, … by handle unless given; groups all 0 unless given. */
class Directory implements ProfileDirectory {
  constructor(
    readonly keys: number[],
    readonly groups: number[] = keys.map(() => 0),
  ) {}
  keyOf(node: PeerHandle): number {
    return this.keys[node];
  }
  groupOf(node: PeerHandle): number {
    return this.groups[node];
  }
}

/** A peer sampler that hands out a fixed list per node. */
class FixedSampler implements PeerSampler {
  constructor(readonly lists: PeerHandle[][]) {}
  samplePeer(self: PeerHandle): PeerHandle {
    return this.lists[self]?.[0] ?? NO_PEER;
  }
  samplePeers(self: PeerHandle, count: number, out: PeerHandle[]): void {
    for (const p of (this.lists[self] ?? []).slice(0, count)) out.push(p);
  }
}

function setup(keys: number[], samples: PeerHandle[][], config = {}, groups?: number[]) {
  const directory = new Directory(keys, groups);
  const tman = new TMan(new FixedSampler(samples), directory, new SeededRandom(1), { viewSize: 4, messageSize: 4, psi: 1, randomSample: 4, ...config });
  tman.ensureCapacity(keys.length);
  for (let h = 0; h < keys.length; h++) tman.resetNode(h);
  return { tman, directory };
}

/** One exchange driven by hand, as the cycle-driven engine would run it. */
function exchange(tman: TMan, self: PeerHandle, peer: PeerHandle): void {
  const req = tman.initiate(self, peer);
  const res = tman.handle(peer, self, req);
  tman.complete(self, peer, req, res);
}

test('an empty view starts from the peer sampling service', () => {
  const { tman } = setup([0, 100, 200], [[2], [0], [1]]);
  assert.equal(tman.selectPeer(0), 2);
});

test('the request carries the sender key and the m best entries ranked for the peer, never the peer itself', () => {
  // Node 0 (key 1000) knows 1 (1100), 2 (1200), 3 (900), 4 (5000) and samples 5 (1150).
  const keys = [1000, 1100, 1200, 900, 5000, 1150];
  const { tman } = setup(keys, [[5], [], [], [], [], []], { messageSize: 3 });
  tman.addDescriptors(0, [1, 2, 3, 4], [1100, 1200, 900, 5000]);
  const req = tman.initiate(0, 1);
  assert.equal(req.senderKey, 1000);
  assert.equal(req.group, 0);
  assert.ok(!req.ids.includes(1));
  // Ranked for key 1100: successor 1150 (5), predecessor 1000 (self), successor 1200 (2).
  assert.deepEqual(req.ids, [5, 0, 2]);
  assert.deepEqual(req.keys, [1150, 1000, 1200]);
});

test('both sides merge and keep their best-ranked entries; the reply is built before the merge', () => {
  const keys = [0, 100, 200, 300, 400];
  const { tman } = setup(keys, [[], [], [], [], []], { randomSample: 0 });
  tman.addDescriptors(0, [2, 4], [200, 400]);
  tman.addDescriptors(2, [1, 3], [100, 300]);
  const req = tman.initiate(0, 2);
  assert.deepEqual(new Set(req.ids), new Set([0, 4]));
  const res = tman.handle(2, 0, req);
  // Node 2 answers from what it knew before: 4, which it just learned from node 0, is not echoed.
  assert.deepEqual(res.ids, [1, 3, 2]);
  assert.deepEqual(new Set(tman.views.peers(2)), new Set([0, 1, 3, 4]));
  tman.complete(0, 2, req, res);
  // Ranked for key 0: successor 1, predecessor 4, then 2 and 3.
  assert.deepEqual(tman.views.peers(0), [1, 4, 2, 3]);
  assert.equal(tman.successor(0), 1);
  assert.equal(tman.predecessor(0), 4);
});

test('four nodes on a ring find their successor and predecessor by gossip alone', () => {
  const keys = [10, 20, 30, 40];
  // Each node samples one non-neighbour (0→2→1→3→0): the ring must be found by gossip.
  const { tman } = setup(keys, [[2], [3], [1], [0]], { viewSize: 2, messageSize: 2, randomSample: 1 });
  for (let round = 0; round < 10; round++) {
    for (let self = 0; self < 4; self++) {
      const peer = tman.selectPeer(self);
      if (peer !== NO_PEER) exchange(tman, self, peer);
    }
  }
  for (let self = 0; self < 4; self++) {
    assert.equal(tman.successor(self), (self + 1) % 4, `successor of ${self}`);
    assert.equal(tman.predecessor(self), (self + 3) % 4, `predecessor of ${self}`);
  }
});

test('a peer that does not answer is removed, and the next-closest one takes its place', () => {
  const keys = [0, 100, 200, 300];
  const { tman } = setup(keys, [[], [], [], []], { randomSample: 0 });
  tman.addDescriptors(0, [1, 2], [100, 200]);
  const req = tman.initiate(0, 1);
  tman.fail(0, 1, req);
  assert.deepEqual(tman.views.peers(0), [2]);
  assert.equal(tman.successor(0), 2);
});

test('one ring per group: other groups are ignored, a mismatch drops the peer, a group change restarts the view', () => {
  const keys = [0, 100, 200, 300];
  const groups = [0, 1, 0, 1];
  const { tman, directory } = setup(keys, [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]], { randomSample: 3 }, groups);
  // Random samples from other groups never enter a buffer.
  const req = tman.initiate(0, 2);
  assert.ok(req.ids.every((id) => groups[id] === 0));
  assert.equal(tman.selectPeer(1), 3);
  // A peer of another group answers with nothing and is dropped by the initiator.
  tman.addDescriptors(0, [2], [200]);
  tman.addDescriptors(0, [1], [100]); // a stale entry from before a slice change
  const stale = tman.initiate(0, 1);
  const res = tman.handle(1, 0, stale);
  assert.deepEqual(res.ids, []);
  assert.equal(res.group, 1);
  assert.ok(!tman.views.peers(1).includes(0), 'the other group does not merge our buffer');
  tman.complete(0, 1, stale, res);
  assert.deepEqual(tman.views.peers(0), [2]);
  // Node 2 moves to group 1: its view starts over at its next step.
  tman.addDescriptors(2, [0], [0]);
  directory.groups[2] = 1;
  tman.selectPeer(2);
  assert.equal(tman.groupOf(2), 1);
  assert.ok(!tman.views.peers(2).includes(0));
});

test('bad parameters are rejected with a RangeError naming them', () => {
  const d = new Directory([0, 1]);
  const s = new FixedSampler([]);
  const rng = new SeededRandom(1);
  assert.throws(() => new TMan(s, d, rng, { viewSize: 1 }), /viewSize/);
  assert.throws(() => new TMan(s, d, rng, { messageSize: 0 }), /messageSize/);
  assert.throws(() => new TMan(s, d, rng, { viewSize: 10, psi: 11 }), /psi/);
  assert.throws(() => new TMan(s, d, rng, { randomSample: -1 }), /randomSample/);
  assert.throws(() => new TMan(s, d, rng, { ranking: 'star' as never }), /ranking/);
  const bad = new TMan(s, new Directory([-5, 2 ** 32]), rng);
  bad.ensureCapacity(2);
  assert.throws(() => bad.resetNode(0), /key of node 0/);
  assert.throws(() => bad.resetNode(1), /unsigned 32-bit/);
});
