/** Ring health from what slice members say their neighbours are. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RingMemberView, ringHealth } from '../../src/monitoring/ring-health.js';

const S1 = '1'.repeat(32);
const S2 = '2'.repeat(32);

/** A correct ring over `ids` in that order (each one's successor is the next). */
function ring(ids: readonly string[], sliceId = S1): RingMemberView[] {
  return ids.map((id, i) => ({
    id,
    live: true,
    sliceId,
    predecessor: ids[(i - 1 + ids.length) % ids.length],
    successor: ids[(i + 1) % ids.length],
  }));
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function change(members: RingMemberView[], id: string, patch: Partial<RingMemberView>): RingMemberView[] {
  return members.map((m) => (m.id === id ? { ...m, ...patch } : m));
}

describe('ringHealth', () => {
  it('a whole ring: every member correct, whole, whatever order the members come in', () => {
    const members = ring(ids('a', 8));
    assert.deepEqual(ringHealth(members), [{ sliceId: S1, members: 8, correct: 8, whole: true }]);
    assert.deepEqual(ringHealth([...members].reverse()), [{ sliceId: S1, members: 8, correct: 8, whole: true }]);
    assert.deepEqual(ringHealth(ring(['x', 'y'])), [{ sliceId: S1, members: 2, correct: 2, whole: true }]);
  });

  it('a broken successor (a member pointing to a node outside the slice) breaks the ring and both sides', () => {
    const members = change(ring(ids('a', 6)), 'a2', { successor: 'stranger' });
    const [h] = ringHealth(members);
    assert.equal(h.whole, false);
    // a2's successor is unknown; a3's predecessor (a2) does not name it as successor.
    assert.equal(h.correct, 4);
    const nullSucc = ringHealth(change(ring(ids('a', 6)), 'a2', { successor: null }))[0];
    assert.equal(nullSucc.whole, false);
    assert.equal(nullSucc.correct, 4);
  });

  it('inconsistent neighbours: a successor that does not name the member as predecessor', () => {
    // a1 says its successor is a3 (skipping a2), but a3 still names a2 as its predecessor.
    const members = change(ring(ids('a', 5)), 'a1', { successor: 'a3' });
    const [h] = ringHealth(members);
    assert.equal(h.whole, false, 'a2 is skipped by the successor walk');
    // a1 (its successor disagrees) and a2 (its predecessor a1 does not point to it) are wrong.
    assert.equal(h.correct, 3);
    // Two sub-rings: a0→a1→a0 and a2→a3→a2 — every step is consistent inside each, but it is not whole.
    const split: RingMemberView[] = [...ring(['a0', 'a1']), ...ring(['a2', 'a3'])];
    assert.deepEqual(ringHealth(split), [{ sliceId: S1, members: 4, correct: 4, whole: false }]);
    // A walk that loops without coming back to the start.
    const rho = change(ring(ids('a', 4)), 'a3', { successor: 'a1' });
    assert.equal(ringHealth(rho)[0].whole, false);
  });

  it('a dead member does not count, and the members pointing to it are not correct', () => {
    const members = change(ring(ids('a', 6)), 'a3', { live: false });
    const [h] = ringHealth(members);
    assert.equal(h.members, 5);
    assert.equal(h.correct, 3, 'a2 (successor dead) and a4 (predecessor dead) are wrong');
    assert.equal(h.whole, false);
    // Once the ring repaired around it, it is whole again.
    const repaired = change(change(members, 'a2', { successor: 'a4' }), 'a4', { predecessor: 'a2' });
    assert.deepEqual(ringHealth(repaired), [{ sliceId: S1, members: 5, correct: 5, whole: true }]);
  });

  it('a single-member slice is whole; it is correct with no neighbours (or itself as both)', () => {
    assert.deepEqual(ringHealth([{ id: 'solo', live: true, sliceId: S1, predecessor: null, successor: null }]), [
      { sliceId: S1, members: 1, correct: 1, whole: true },
    ]);
    assert.deepEqual(ringHealth([{ id: 'solo', live: true, sliceId: S1, predecessor: 'solo', successor: 'solo' }]), [
      { sliceId: S1, members: 1, correct: 1, whole: true },
    ]);
    assert.deepEqual(ringHealth([{ id: 'solo', live: true, sliceId: S1, predecessor: 'gone', successor: null }]), [
      { sliceId: S1, members: 1, correct: 0, whole: true },
    ]);
  });

  it('two slices are judged apart, sorted by slice id; nodes outside slices are ignored', () => {
    const nodes: RingMemberView[] = [
      ...change(ring(ids('b', 4), S2), 'b0', { successor: 'a1' }), // points into the other slice
      ...ring(ids('a', 3), S1),
      { id: 'free', live: true, sliceId: null, predecessor: null, successor: null },
    ];
    assert.deepEqual(ringHealth(nodes), [
      { sliceId: S1, members: 3, correct: 3, whole: true },
      { sliceId: S2, members: 4, correct: 2, whole: false },
    ]);
    assert.deepEqual(ringHealth([]), []);
  });
});
