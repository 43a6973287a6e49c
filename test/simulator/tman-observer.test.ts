import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_PEER, type PeerHandle, type PeerSampler } from '../../src/core/handles.js';
import { SeededRandom } from '../../src/core/random.js';
import { TMan } from '../../src/protocols/tman/tman.js';
import { MissingLinksObserver } from '../../src/simulator/observers/tman.js';
import { Simulation } from '../../src/simulator/simulation.js';

const nobody: PeerSampler = { samplePeer: () => NO_PEER, samplePeers: () => {} };

test('missing links and wrong neighbours on a hand-made ring of four, then after a crash', () => {
  const keys = [10, 20, 30, 40];
  const directory = { keyOf: (h: PeerHandle) => keys[h], groupOf: () => 0 };
  const sim = new Simulation({ seed: 1, capacity: 4 });
  const tman = sim.addProtocol(new TMan(nobody, directory, new SeededRandom(1), { viewSize: 4, failureMemory: 0 }));
  const observer = new MissingLinksObserver(sim, tman.views, directory);
  sim.spawnMany(4);
  const add = (h: PeerHandle, peers: PeerHandle[]) => tman.addDescriptors(h, peers, peers.map((p) => keys[p]));
  add(0, [1, 3]); // complete
  add(1, [0, 2]); // complete
  add(2, [1]); // misses its successor 3
  add(3, [2, 1]); // misses its successor 0; its closest clockwise entry is 1 (wrong)
  let m = observer.observe(sim);
  assert.equal(m.missingLinks, 2);
  assert.equal(m.missingLinksFraction, 2 / 8);
  assert.equal(m.wrongNeighbors, 2);
  assert.equal(m.ringComplete, 0);
  // Node 0 crashes: the ring is 1 → 2 → 3 → 1. Node 3 knows 1 (its successor now) and 2.
  sim.kill(0);
  m = observer.observe(sim);
  // 1 misses its predecessor 3; 2 misses its successor 3; 3 is complete.
  assert.equal(m.liveNodes, 3);
  assert.equal(m.missingLinks, 2);
  // 1's closest counter-clockwise entry is the dead 0: wrong; 2's closest clockwise is none: wrong.
  assert.equal(m.wrongNeighbors, 2);
});
