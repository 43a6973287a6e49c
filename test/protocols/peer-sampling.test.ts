/**
 * Unit tests of the peer sampling framework of Jelasity et al. (ACM TOCS 2007, Fig. 1): buffers,
 * view selection select(c, H, S, buffer), push / pull / pushpull, peer selection, and the helpers
 * (ViewTable, markOldest). Cyclon's shuffle is in peer-sampling-cyclon.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_PEER } from '../../src/core/handles.js';
import { SeededRandom } from '../../src/core/random.js';
import { type PeerSamplingConfig, cyclon, newscast, presetConfig, validatePeerSamplingConfig } from '../../src/protocols/peer-sampling/config.js';
import { type DescriptorBuffer, PeerSampling, markOldest } from '../../src/protocols/peer-sampling/peer-sampling.js';
import { MAX_AGE, ViewTable } from '../../src/protocols/peer-sampling/view-table.js';

function protocol(config: PeerSamplingConfig, capacity = 32, seed = 1): PeerSampling {
  const ps = new PeerSampling(config, new SeededRandom(seed));
  ps.ensureCapacity(capacity);
  return ps;
}

/** Fills `node`'s view with (peer, age) pairs. */
function setView(ps: PeerSampling, node: number, entries: [number, number][]): void {
  ps.resetNode(node);
  for (const [peer, age] of entries) assert.ok(ps.views.add(node, peer, age));
}

/** The view as a sorted list of [peer, age]. */
function view(ps: PeerSampling, node: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < ps.views.size(node); i++) out.push([ps.views.peerAt(node, i), ps.views.ageAt(node, i)]);
  return out.sort((a, b) => a[0] - b[0]);
}

const six: [number, number][] = [[1, 10], [2, 20], [3, 30], [4, 40], [5, 50], [6, 60]];

describe('peer sampling configuration', () => {
  it('presets: Newscast = (rand, healer, pushpull), Cyclon = (tail, swapper, pushpull)', () => {
    assert.deepEqual(newscast(30), { viewSize: 30, peerSelection: 'rand', propagation: 'pushpull', healing: 15, swapping: 0, exchangeLength: 15, algorithm: 'framework' });
    assert.deepEqual(cyclon(30, 8), { viewSize: 30, peerSelection: 'tail', propagation: 'pushpull', healing: 0, swapping: 15, exchangeLength: 8, algorithm: 'cyclon' });
    assert.deepEqual(presetConfig('cyclon', 20, 5), cyclon(20, 5));
    assert.deepEqual(presetConfig('newscast', 20), newscast(20));
    assert.equal(cyclon(4, 8).exchangeLength, 4);
  });

  it('rejects impossible parameters with a RangeError naming them', () => {
    const bad: [Partial<PeerSamplingConfig>, RegExp][] = [
      [{ viewSize: 1 }, /viewSize/],
      [{ viewSize: 300 }, /viewSize/],
      [{ healing: -1 }, /healing/],
      [{ swapping: 0.5 }, /swapping/],
      [{ healing: 10, swapping: 10 }, /healing \+ swapping/],
      [{ exchangeLength: 0 }, /exchangeLength/],
      [{ exchangeLength: 31 }, /exchangeLength/],
      [{ peerSelection: 'head' as 'rand' }, /peerSelection/],
      [{ propagation: 'gossip' as 'push' }, /propagation/],
      [{ algorithm: 'x' as 'cyclon' }, /algorithm/],
    ];
    for (const [patch, pattern] of bad) {
      assert.throws(() => validatePeerSamplingConfig({ ...newscast(30), ...patch }), (e: unknown) => e instanceof RangeError && pattern.test(e.message), JSON.stringify(patch));
    }
    assert.throws(() => new PeerSampling(newscast(10), new SeededRandom(1), new ViewTable(8)), RangeError);
  });
});

describe('framework: buffers and view selection (TOCS 2007, Fig. 1)', () => {
  it('a push buffer is (self, 0) plus c/2-1 distinct entries, never among the H oldest', () => {
    const ps = protocol(newscast(6));
    for (let trial = 0; trial < 50; trial++) {
      setView(ps, 0, six);
      const req = ps.initiate(0, 1);
      assert.equal(req.ids[0], 0);
      assert.equal(req.ages[0], 0);
      assert.equal(req.ids.length, 3);
      const rest = req.ids.slice(1);
      assert.equal(new Set(rest).size, 2);
      // H = 3: peers 4, 5, 6 are the oldest and stay home; ages travel unchanged.
      for (let i = 1; i < 3; i++) {
        assert.ok([1, 2, 3].includes(req.ids[i]), `sent ${req.ids[i]}`);
        assert.equal(req.ages[i], req.ids[i] * 10);
      }
    }
  });

  it('buffers sample the eligible entries uniformly', () => {
    const ps = protocol(newscast(10));
    const counts = new Map<number, number>();
    const entries: [number, number][] = [...Array(10).keys()].map((i) => [i + 1, i]);
    for (let trial = 0; trial < 4000; trial++) {
      setView(ps, 0, entries);
      for (const id of ps.initiate(0, 1).ids.slice(1)) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    // H = 5 oldest (peers 6..10) excluded; 4 of the 5 youngest sent each time: 3200 each expected.
    for (let p = 1; p <= 5; p++) assert.ok(Math.abs(counts.get(p)! - 3200) < 200, `peer ${p}: ${counts.get(p)}`);
    for (let p = 6; p <= 10; p++) assert.equal(counts.get(p), undefined);
  });

  it('healer: select drops the H oldest of view + buffer, then ages the view', () => {
    const ps = protocol(newscast(6));
    setView(ps, 0, six);
    const reply = ps.handle(0, 9, { ids: [9, 7, 8], ages: [0, 1, 2] });
    // Merged: 9 entries, c = 6, so min(H = 3, 9 - 6) = 3 oldest go: 4, 5, 6. Then every age + 1.
    assert.deepEqual(view(ps, 0), [[1, 11], [2, 21], [3, 31], [7, 2], [8, 3], [9, 1]]);
    assert.equal(reply.ids[0], 0);
    assert.equal(reply.ids.length, 3);
  });

  it('select keeps the freshest copy of a duplicate and ignores self-pointers', () => {
    const ps = protocol(newscast(6));
    setView(ps, 0, six);
    ps.handle(0, 9, { ids: [9, 2, 6, 0], ages: [0, 5, 1, 0] });
    // 2 refreshed to 5, 6 refreshed to 1, self ignored; 7 entries → the one oldest (5 at 50) goes.
    assert.deepEqual(view(ps, 0), [[1, 11], [2, 6], [3, 31], [4, 41], [6, 2], [9, 1]]);
  });

  it('swapper: select drops the entries just sent (the head of the view)', () => {
    const swapper: PeerSamplingConfig = { ...newscast(6), healing: 0, swapping: 3 };
    for (let seed = 1; seed <= 20; seed++) {
      const ps = protocol(swapper, 32, seed);
      setView(ps, 0, six);
      const reply = ps.handle(0, 9, { ids: [9, 7, 8], ages: [0, 0, 0] });
      const after = view(ps, 0).map(([p]) => p);
      assert.equal(after.length, 6);
      for (const p of [7, 8, 9]) assert.ok(after.includes(p), `received ${p} kept`);
      for (const p of reply.ids.slice(1)) assert.ok(!after.includes(p), `sent ${p} dropped (seed ${seed})`);
    }
  });

  it('blind (H = S = 0): random entries go until c remain', () => {
    const blind: PeerSamplingConfig = { ...newscast(6), healing: 0, swapping: 0 };
    const kept = new Map<number, number>();
    for (let seed = 1; seed <= 300; seed++) {
      const ps = protocol(blind, 32, seed);
      setView(ps, 0, six);
      ps.handle(0, 9, { ids: [9, 7, 8], ages: [0, 0, 0] });
      const after = view(ps, 0).map(([p]) => p);
      assert.equal(after.length, 6);
      assert.equal(new Set(after).size, 6);
      for (const p of after) kept.set(p, (kept.get(p) ?? 0) + 1);
    }
    // Each of the 9 candidates survives with probability 2/3, whatever its age.
    for (const p of [1, 2, 3, 4, 5, 6, 7, 8, 9]) assert.ok(Math.abs(kept.get(p)! / 300 - 2 / 3) < 0.1, `peer ${p}: ${kept.get(p)}`);
  });

  it('a view that is not full keeps everything', () => {
    const ps = protocol(newscast(10));
    setView(ps, 0, [[1, 3], [2, 4]]);
    ps.handle(0, 5, { ids: [5, 6], ages: [0, 7] });
    assert.deepEqual(view(ps, 0), [[1, 4], [2, 5], [5, 1], [6, 8]]);
  });
});

describe('framework: push, pull and pushpull', () => {
  const variant = (propagation: PeerSamplingConfig['propagation']) => protocol({ ...newscast(6), propagation });
  // Five entries with c = 6, H = 3: a buffer carries (self, 0) and the two youngest, 1 and 2.
  const five = (offset: number): [number, number][] => [1, 2, 3, 4, 5].map((i) => [offset + i, i]);

  it('push: the initiator sends its buffer and gets back an empty acknowledgement', () => {
    const ps = variant('push');
    setView(ps, 0, five(0));
    setView(ps, 10, [[7, 1]]);
    const req = ps.initiate(0, 10);
    assert.deepEqual(req.ids.slice().sort(), [0, 1, 2]);
    const res = ps.handle(10, 0, req);
    assert.deepEqual(res, { ids: [], ages: [] });
    ps.complete(0, 10, req, res);
    assert.deepEqual(view(ps, 0), five(0).map(([p, a]) => [p, a + 1]), 'the initiator only ages');
    assert.deepEqual(view(ps, 10), [[0, 1], [1, 2], [2, 3], [7, 2]]);
  });

  it('pull: the initiator sends nothing and merges the peer’s buffer', () => {
    const ps = variant('pull');
    setView(ps, 0, [[10, 2]]);
    setView(ps, 10, five(10));
    const req = ps.initiate(0, 10);
    assert.deepEqual(req, { ids: [], ages: [] });
    const res = ps.handle(10, 0, req);
    assert.deepEqual(res.ids.slice().sort((a, b) => a - b), [10, 11, 12]);
    assert.deepEqual(view(ps, 10), five(10).map(([p, a]) => [p, a + 1]), 'the peer only ages');
    ps.complete(0, 10, req, res);
    assert.deepEqual(view(ps, 0), [[10, 1], [11, 2], [12, 3]]);
  });

  it('pushpull: both sides run select on the other’s buffer', () => {
    const ps = variant('pushpull');
    setView(ps, 0, five(0));
    setView(ps, 20, five(10));
    const req = ps.initiate(0, 20);
    const res = ps.handle(20, 0, req);
    // Node 20: 5 + 3 entries, the 2 oldest (15, 14) go, then all age.
    assert.deepEqual(view(ps, 20), [[0, 1], [1, 2], [2, 3], [11, 2], [12, 3], [13, 4]]);
    ps.complete(0, 20, req, res);
    // Node 0: 5 + 3 entries, its 2 oldest (5, 4) go.
    assert.deepEqual(view(ps, 0), [[1, 2], [2, 3], [3, 4], [11, 2], [12, 3], [20, 1]]);
  });

  it(
    'a short view still sends c/2-1 entries, the head of the view after moving the H oldest to the end',
    () => {
      const ps = protocol(newscast(6));
      setView(ps, 0, [[1, 1], [2, 2]]);
      assert.equal(ps.initiate(0, 1).ids.length, 3);
    },
  );

  it('fail only lets time pass', () => {
    const ps = protocol(newscast(6));
    setView(ps, 0, [[1, 2], [2, 3]]);
    ps.fail(0, 1, ps.initiate(0, 1));
    assert.deepEqual(view(ps, 0), [[1, 3], [2, 4]]);
  });
});

describe('peer selection and sampling', () => {
  it('rand picks uniformly from the view; tail picks the oldest; an empty view gives NO_PEER', () => {
    const rand = protocol(newscast(6));
    setView(rand, 0, six);
    const counts = new Map<number, number>();
    for (let i = 0; i < 6000; i++) {
      const p = rand.selectPeer(0);
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    for (let p = 1; p <= 6; p++) assert.ok(Math.abs(counts.get(p)! - 1000) < 130, `peer ${p}: ${counts.get(p)}`);
    const tail = protocol({ ...newscast(6), peerSelection: 'tail' });
    setView(tail, 0, [[3, 5], [4, 9], [5, 2]]);
    assert.equal(tail.selectPeer(0), 4);
    assert.equal(tail.selectPeer(1), NO_PEER);
    assert.equal(rand.selectPeer(1), NO_PEER);
  });

  it('samplePeer / samplePeers draw distinct peers from the view', () => {
    const ps = protocol(newscast(6));
    setView(ps, 0, six);
    const out: number[] = [];
    ps.samplePeers(0, 4, out);
    assert.equal(out.length, 4);
    assert.equal(new Set(out).size, 4);
    for (const p of out) assert.ok(p >= 1 && p <= 6);
    const all: number[] = [99];
    ps.samplePeers(0, 10, all);
    assert.deepEqual(all.slice(1).sort(), [1, 2, 3, 4, 5, 6]);
    assert.ok(ps.samplePeer(0) >= 1);
    assert.equal(ps.samplePeer(2), NO_PEER);
  });

  it('addContacts seeds fresh descriptors and never the node itself', () => {
    const ps = protocol(newscast(4));
    ps.addContacts(0, [0, 3, 3, 5]);
    assert.deepEqual(view(ps, 0), [[3, 0], [5, 0]]);
  });
});

describe('network-level invariants of every variant', () => {
  const variants: [string, PeerSamplingConfig][] = [
    ['newscast', newscast(8)],
    ['cyclon', cyclon(8, 3)],
    ['tail/healer/push', { ...newscast(8), peerSelection: 'tail', propagation: 'push' }],
    ['rand/swapper/pushpull', { ...newscast(8), healing: 0, swapping: 4 }],
    ['rand/blind/pull', { ...newscast(8), healing: 0, swapping: 0, propagation: 'pull' }],
    ['tail/mixed/pushpull', { ...newscast(8), peerSelection: 'tail', healing: 1, swapping: 3 }],
  ];
  for (const [name, config] of variants) {
    it(`${name}: views never exceed c, never hold self or duplicates, dead peers make exchanges fail`, () => {
      const n = 300;
      const rng = new SeededRandom(name);
      const ps = protocol(config, n, 7);
      for (let v = 0; v < n; v++) for (let k = 0; k < 8; k++) ps.views.add(v, rng.int(n), rng.int(5));
      const alive = new Uint8Array(n).fill(1);
      for (let step = 0; step < 20 * n; step++) {
        if (step === 5 * n) for (let v = 0; v < n; v += 3) alive[v] = 0;
        const p = rng.int(n);
        if (!alive[p]) continue;
        const q = ps.selectPeer(p);
        if (q === NO_PEER) continue;
        const req: DescriptorBuffer = ps.initiate(p, q);
        if (!alive[q]) ps.fail(p, q, req);
        else ps.complete(p, q, req, ps.handle(q, p, req));
        for (const v of [p, q]) {
          const size = ps.views.size(v);
          assert.ok(size <= 8);
          const peers = ps.views.peers(v);
          assert.ok(!peers.includes(v), `${v} holds itself`);
          assert.equal(new Set(peers).size, size, `${v} holds a duplicate`);
          for (let i = 0; i < size; i++) assert.ok(ps.views.ageAt(v, i) >= 0 && ps.views.ageAt(v, i) <= MAX_AGE);
        }
      }
    });
  }
});

describe('markOldest', () => {
  const reference = (ages: number[], k: number): number[] => {
    // Indices of the k oldest; ties go to the lower index.
    const order = ages.map((a, i) => [a, i]).sort((x, y) => y[0] - x[0] || x[1] - y[1]);
    const marked = new Array(ages.length).fill(0);
    for (let j = 0; j < k; j++) marked[order[j][1]] = 1;
    return marked;
  };

  it('marks exactly the k oldest, ties to the lower index without an rng, and clears its histogram', () => {
    const rng = new SeededRandom(3);
    const histogram = new Int32Array(64);
    for (let trial = 0; trial < 500; trial++) {
      const n = 1 + rng.int(40);
      const k = rng.int(n + 1);
      const ages = Int32Array.from({ length: n + 5 }, () => rng.int(trial % 2 === 0 ? 6 : 60));
      const mark = new Uint8Array(n).fill(7);
      markOldest(ages, 5, n, k, mark, histogram);
      assert.deepEqual(Array.from(mark), reference(Array.from(ages.subarray(5)), k));
      assert.ok(histogram.every((h) => h === 0), 'histogram left clean for the next call');
    }
  });

  it('falls back to repeated scans for ages beyond the histogram, with the same result', () => {
    const ages = Int32Array.from([3, 900, 5, 900, 70, 2]);
    const mark = new Uint8Array(6);
    markOldest(ages, 0, 6, 3, mark, new Int32Array(16));
    assert.deepEqual(Array.from(mark), [0, 1, 0, 1, 1, 0]);
  });

  it('with an rng, picks a uniform subset of the entries tied at the threshold', () => {
    const rng = new SeededRandom(9);
    const ages = Int32Array.from([9, 4, 4, 1, 4, 4, 0]);
    const counts = [0, 0, 0, 0, 0, 0, 0];
    const histogram = new Int32Array(16);
    const mark = new Uint8Array(7);
    for (let t = 0; t < 8000; t++) {
      markOldest(ages, 0, 7, 3, mark, histogram, rng);
      assert.equal(mark.reduce((a, b) => a + b, 0), 3);
      assert.equal(mark[0], 1);
      assert.equal(mark[3] + mark[6], 0);
      for (let i = 0; i < 7; i++) counts[i] += mark[i];
    }
    // 2 of the 4 entries aged 4: each with probability 1/2.
    for (const i of [1, 2, 4, 5]) assert.ok(Math.abs(counts[i] / 8000 - 0.5) < 0.03, `index ${i}: ${counts[i]}`);
  });
});

describe('ViewTable', () => {
  it('validates c', () => {
    assert.throws(() => new ViewTable(0), /view size c/);
    assert.throws(() => new ViewTable(256), /view size c/);
    assert.throws(() => new ViewTable(2.5), /view size c/);
  });

  it('add refuses self, duplicates (keeping the younger age) and overflow; ages saturate', () => {
    const t = new ViewTable(3, 4);
    assert.equal(t.add(1, 1), false);
    assert.equal(t.add(1, 2, 9), true);
    assert.equal(t.add(1, 2, 4), false);
    assert.equal(t.ageAt(1, 0), 4);
    assert.equal(t.add(1, 2, 8), false);
    assert.equal(t.ageAt(1, 0), 4);
    assert.equal(t.add(1, 3, MAX_AGE + 100), true);
    assert.equal(t.ageAt(1, 1), MAX_AGE);
    assert.equal(t.add(1, 0), true);
    assert.equal(t.add(1, 5), false, 'full');
    assert.deepEqual(t.peers(1), [2, 3, 0]);
    assert.equal(t.size(1), 3);
    assert.equal(t.size(0), 0);
  });

  it('removeAt keeps the order, indexOf finds entries, clear empties a view', () => {
    const t = new ViewTable(4, 2);
    for (const p of [5, 6, 7, 8]) t.add(0, p, p);
    t.removeAt(0, 1);
    assert.deepEqual(t.peers(0), [5, 7, 8]);
    assert.deepEqual([t.ageAt(0, 0), t.ageAt(0, 1), t.ageAt(0, 2)], [5, 7, 8]);
    assert.equal(t.indexOf(0, 8), 2);
    assert.equal(t.indexOf(0, 6), -1);
    assert.equal(t.peerAt(0, 1), 7);
    t.clear(0);
    assert.equal(t.size(0), 0);
  });

  it('ensureCapacity grows without losing views', () => {
    const t = new ViewTable(2, 1);
    t.add(0, 9, 3);
    t.ensureCapacity(1000);
    assert.ok(t.capacity >= 1000);
    assert.deepEqual(t.peers(0), [9]);
    assert.equal(t.ageAt(0, 0), 3);
    t.add(999, 4);
    assert.deepEqual(t.peers(999), [4]);
    const before = t.capacity;
    t.ensureCapacity(10);
    assert.equal(t.capacity, before);
  });
});
