import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FREE, type Membership, SliceMembership, type SliceRef, groupOfSlice } from '../../src/slices/membership.js';

const slice = (sliceId: string): SliceRef => ({ sliceId, name: `s-${sliceId}`, ownerNode: 'pcowner', ownerUser: 'puuser', group: groupOfSlice(sliceId) });

function setup() {
  let t = 1000;
  const saved: Membership[] = [];
  const m = new SliceMembership(() => t, FREE, (x) => saved.push(x));
  return { m, saved, advance: (ms: number) => (t += ms) };
}

test('a node reserves itself for one request at a time and joins only the slice that confirmed it', () => {
  const { m, saved } = setup();
  assert.equal(m.reserve('r1', 'A', 500), null);
  assert.equal(m.reserve('r1', 'A', 500), null, 'the same request again is fine');
  assert.equal(m.reserve('r2', 'B', 500), 'busy', 'a concurrent request for another slice is refused');
  assert.equal(m.confirm('r2', slice('B'), 10_000), 'not-reserved', 'the other requester cannot take it');
  assert.equal(m.confirm('r1', slice('A'), 10_000), null);
  assert.equal(m.slice()?.sliceId, 'A');
  assert.equal(m.reserve('r3', 'C', 500), 'busy', 'a member offers itself to nobody');
  assert.equal(m.confirm('r3', slice('C'), 10_000), 'not-reserved');
  assert.deepEqual(saved.map((s) => s.state), ['reserved', 'member']);
});

test('reservations and leases run out by themselves; renewals extend leases of members only', () => {
  const { m, advance } = setup();
  m.reserve('r1', 'A', 500);
  advance(500);
  assert.equal(m.current().state, 'free', 'an unconfirmed reservation expires');
  assert.equal(m.confirm('r1', slice('A'), 10_000), 'expired');
  m.reserve('r2', 'A', 500);
  m.confirm('r2', slice('A'), 1000);
  advance(900);
  assert.equal(m.renew('A', 1000), null);
  advance(900);
  assert.equal(m.slice()?.sliceId, 'A', 'renewed in time');
  assert.equal(m.renew('B', 1000), 'not-member');
  advance(100);
  assert.equal(m.current().state, 'free', 'no renewal: the lease ran out');
  assert.equal(m.renew('A', 1000), 'not-member');
});

test('cancel and leave free the node only for the matching request or slice', () => {
  const { m } = setup();
  m.reserve('r1', 'A', 500);
  assert.equal(m.cancel('other'), false);
  assert.equal(m.cancel('r1'), true);
  m.reserve('r2', 'A', 500);
  m.confirm('r2', slice('A'), 1000);
  assert.equal(m.confirm('r2', slice('A'), 5000), null, 'confirming again renews');
  assert.equal(m.leave('B'), false);
  assert.equal(m.leave('A'), true);
  assert.equal(m.current().state, 'free');
});

test('a restored membership keeps the node out of other slices until its lease ends', () => {
  let t = 0;
  const m = new SliceMembership(() => t, { state: 'member', slice: slice('A'), leaseUntil: 5000, since: 0 });
  assert.equal(m.reserve('r9', 'B', 500), 'busy');
  t = 5000;
  assert.equal(m.reserve('r9', 'B', 500), null);
});

test('slice groups are stable, non-zero 32-bit integers that differ between slices', () => {
  assert.equal(groupOfSlice('abc'), groupOfSlice('abc'));
  const groups = new Set(Array.from({ length: 1000 }, (_, i) => groupOfSlice(`slice-${i}`)));
  assert.equal(groups.size, 1000);
  for (const g of groups) assert.ok(Number.isInteger(g) && g !== 0 && g >= -0x80000000 && g <= 0x7fffffff);
});
