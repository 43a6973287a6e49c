/**
 * Unit tests of Cyclon's shuffle (Voulgaris, Gavidia, van Steen, J. Network and Systems Management
 * 13(2), 2005, §3) as run by PeerSampling with algorithm 'cyclon': P ages its view, contacts its
 * oldest entry Q and drops it, sends l-1 random entries plus (P, 0); Q answers with l random
 * entries; both ignore self-pointers and known peers, fill empty slots first and then overwrite the
 * entries they sent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_PEER } from '../../src/core/handles.js';
import { SeededRandom } from '../../src/core/random.js';
import { cyclon } from '../../src/protocols/peer-sampling/config.js';
import { PeerSampling } from '../../src/protocols/peer-sampling/peer-sampling.js';

function protocol(c: number, l: number, capacity = 64, seed = 1): PeerSampling {
  const ps = new PeerSampling(cyclon(c, l), new SeededRandom(seed));
  ps.ensureCapacity(capacity);
  return ps;
}

function setView(ps: PeerSampling, node: number, entries: [number, number][]): void {
  ps.resetNode(node);
  for (const [peer, age] of entries) assert.ok(ps.views.add(node, peer, age));
}

function view(ps: PeerSampling, node: number): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < ps.views.size(node); i++) m.set(ps.views.peerAt(node, i), ps.views.ageAt(node, i));
  return m;
}

function assertValid(ps: PeerSampling, node: number, c: number): void {
  const peers = ps.views.peers(node);
  assert.ok(peers.length <= c, `view of ${node} has ${peers.length} > c entries`);
  assert.ok(!peers.includes(node), `${node} holds itself`);
  assert.equal(new Set(peers).size, peers.length, `${node} holds a duplicate`);
}

describe('Cyclon shuffle', () => {
  it('P contacts its oldest entry', () => {
    const ps = protocol(6, 3);
    setView(ps, 0, [[1, 4], [2, 9], [3, 1]]);
    assert.equal(ps.selectPeer(0), 2);
    assert.equal(ps.selectPeer(5), NO_PEER);
  });

  it('initiate ages the view, drops Q and sends (P, 0) plus l-1 other entries', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const ps = protocol(6, 3, 64, seed);
      setView(ps, 0, [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6]]);
      const q = ps.selectPeer(0);
      assert.equal(q, 6);
      const req = ps.initiate(0, q);
      assert.equal(req.ids.length, 3);
      assert.equal(req.ids[0], 0);
      assert.equal(req.ages[0], 0);
      const after = view(ps, 0);
      assert.equal(after.has(6), false, 'Q dropped');
      assert.equal(after.size, 5);
      for (const [p, a] of after) assert.equal(a, p + 1, 'aged by one');
      assert.equal(new Set(req.ids).size, 3);
      for (let i = 1; i < 3; i++) {
        assert.ok(after.has(req.ids[i]), 'sent entries stay until replaced');
        assert.equal(req.ages[i], req.ids[i] + 1);
      }
    }
  });

  it('Q answers with l of its entries and stores P’s, overwriting exactly the entries it sent', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const ps = protocol(6, 3, 64, seed);
      const qView: [number, number][] = [[11, 1], [12, 2], [13, 3], [14, 4], [15, 5], [16, 6]];
      setView(ps, 10, qView);
      const res = ps.handle(10, 0, { ids: [0, 21, 22], ages: [0, 7, 8] });
      assert.equal(res.ids.length, 3);
      assert.equal(new Set(res.ids).size, 3);
      for (let i = 0; i < 3; i++) assert.equal(res.ages[i], res.ids[i] - 10, 'ages travel unchanged');
      const after = view(ps, 10);
      assert.deepEqual([after.get(0), after.get(21), after.get(22)], [0, 7, 8]);
      for (const p of res.ids) assert.equal(after.has(p), false, `sent ${p} replaced`);
      assert.equal(after.size, 6);
      assertValid(ps, 10, 6);
    }
  });

  it('known peers and self-pointers are ignored; empty slots are used before overwriting', () => {
    const ps = protocol(6, 3);
    setView(ps, 10, [[11, 1], [12, 2], [13, 3], [14, 4]]);
    const res = ps.handle(10, 0, { ids: [0, 10, 12], ages: [0, 0, 0] });
    const after = view(ps, 10);
    // 10 is Q itself and 12 is known (its age is not refreshed): only P's descriptor goes in, into
    // an empty slot, so nothing that was sent is lost.
    assert.equal(after.size, 5);
    assert.equal(after.get(0), 0);
    assert.equal(after.get(12), 2);
    for (const p of res.ids) assert.ok(after.has(p));
  });

  it('complete fills the slot Q left and overwrites the entries P sent; P drops Q', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const ps = protocol(6, 3, 64, seed);
      setView(ps, 0, [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6]]);
      setView(ps, 6, [[31, 1], [32, 2], [33, 3], [34, 4], [35, 5], [36, 6]]);
      const req = ps.initiate(0, 6);
      const res = ps.handle(6, 0, req);
      ps.complete(0, 6, req, res);
      const after = view(ps, 0);
      assert.equal(after.has(6), false, 'P drops Q');
      assert.equal(after.size, 6);
      for (const p of res.ids) assert.ok(after.has(p), `received ${p}`);
      // Three received, one empty slot: two of the sent entries were overwritten.
      const sentKept = req.ids.slice(1).filter((p) => after.has(p)).length;
      assert.equal(sentKept, 0);
      assertValid(ps, 0, 6);
      assertValid(ps, 6, 6);
      assert.ok(view(ps, 6).has(0), 'Q learned about P');
    }
  });

  it('fail leaves Q dropped and the rest aged', () => {
    const ps = protocol(6, 3);
    setView(ps, 0, [[1, 1], [2, 5]]);
    const req = ps.initiate(0, 2);
    ps.fail(0, 2, req);
    assert.deepEqual([...view(ps, 0)], [[1, 2]]);
  });

  it('a node alone with its contact empties its view (the contact leaves when contacted)', () => {
    const ps = protocol(6, 3);
    setView(ps, 0, [[1, 0]]);
    const req = ps.initiate(0, 1);
    assert.deepEqual(req.ids, [0]);
    ps.fail(0, 1, req);
    assert.equal(ps.views.size(0), 0);
    assert.equal(ps.selectPeer(0), NO_PEER);
  });

  it('invariants over many random shuffles: size <= c, no self, no duplicates, P drops Q', () => {
    const n = 200;
    const c = 10;
    const ps = protocol(c, 4, n, 5);
    const rng = new SeededRandom(17);
    for (let v = 0; v < n; v++) while (ps.views.size(v) < c) ps.views.add(v, rng.int(n), rng.int(10));
    const alive = new Uint8Array(n).fill(1);
    for (let step = 0; step < 40 * n; step++) {
      if (step === 10 * n) for (let v = 0; v < n; v += 2) alive[v] = 0;
      const p = rng.int(n);
      if (!alive[p]) continue;
      const q = ps.selectPeer(p);
      if (q === NO_PEER) continue;
      const req = ps.initiate(p, q);
      if (alive[q]) ps.complete(p, q, req, ps.handle(q, p, req));
      else ps.fail(p, q, req);
      assert.equal(ps.views.indexOf(p, q), -1, 'P drops Q');
      assertValid(ps, p, c);
      assertValid(ps, q, c);
    }
    // Long after half the nodes died, the live ones still hold some peers.
    let empty = 0;
    for (let v = 1; v < n; v += 2) if (ps.views.size(v) === 0) empty++;
    assert.equal(empty, 0);
  });

  it('descriptors move rather than multiply: with full views and no failures every view stays full', () => {
    const n = 100;
    const c = 8;
    const ps = protocol(c, 3, n, 2);
    // A ring lattice: every view full, every node known by exactly c others.
    for (let v = 0; v < n; v++) for (let d = 1; d <= c / 2; d++) ps.addContacts(v, [(v + d) % n, (v - d + n) % n]);
    const rng = new SeededRandom(4);
    for (let step = 0; step < 30 * n; step++) {
      const p = rng.int(n);
      const q = ps.selectPeer(p);
      const req = ps.initiate(p, q);
      ps.complete(p, q, req, ps.handle(q, p, req));
    }
    let total = 0;
    for (let v = 0; v < n; v++) total += ps.views.size(v);
    // Shuffles that meet known peers keep a slot empty for a while, so allow a little slack.
    assert.ok(total >= 0.97 * n * c, `${total} of ${n * c} entries`);
  });
});
