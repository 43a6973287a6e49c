/**
 * The owner's allocation under trouble, on the in-memory network: a candidate that disappears
 * between its offer and its confirmation is replaced by a spare offer; unused spares are let go;
 * two requests racing for nodes that suffice for both both succeed (retries after contention),
 * still never sharing a node; a request that cannot be met is not retried.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { generateUser } from '../../src/auth/user-identity.js';
import { AllocationError, MAX_ATTEMPTS } from '../../src/slices/owner.js';
import { sampleNode } from './query-fixtures.js';
import { type TestNetwork, type TestNode, createSlice, slicesNetwork, state, waitUntil } from './slice-network.js';

let net: TestNetwork | undefined;
afterEach(() => {
  net?.stop();
  net = undefined;
});

test('a candidate that disappears between its offer and its confirmation is replaced by a spare', async () => {
  net = slicesNetwork(8);
  const owner = net.nodes[0];
  // Offers arrive one by one (node i's after 25·i ms), so that the owner sees exactly what it
  // waits for: without spares it would close at 4 offers and have nothing to replace a failure with.
  net.delay = (from, _to, message) => (message.kind === 'offer' ? 25 * from.index : 0);
  let vanished: TestNode | undefined;
  // The first remote node to offer itself dies right after the owner took its offer: it is among
  // the first `want` offers (first come), so it is chosen, and its confirmation fails.
  net.onRequest = (from, _to, message) => {
    if (message.kind === 'offer' && message.available && vanished === undefined) {
      vanished = from;
      from.down = true;
    }
  };
  const slice = await createSlice(owner, { name: 'spare', nodes: 4 });
  assert.ok(vanished !== undefined, 'a candidate vanished');
  assert.equal(slice.members.size, 4);
  assert.ok(!slice.members.has(vanished.address.nodeId), 'the vanished candidate is not a member');
  const report = owner.service.owner.lastAllocation!;
  assert.equal(report.attempts, 1, 'no second call was needed: a spare took its place');
  assert.ok(report.confirmFailures >= 1);
  assert.ok(report.sparesUsed >= 1, JSON.stringify(report));
  const live = net.nodes.filter((n) => !n.down);
  assert.equal(live.filter((n) => n.membership.slice()?.sliceId === slice.ref.sliceId).length, 4);
  // Spares not needed, and offers that came after collection closed, hold nobody for long.
  await waitUntil('every live non-member to be free', 2_000, () => live.every((n) => slice.members.has(n.address.nodeId) || state(n) === 'free'));
});

test('spares that are not needed are cancelled as soon as the confirmations are settled', async () => {
  net = slicesNetwork(10);
  const cancelled = new Set<TestNode>();
  net.onRequest = (_from, to, message) => {
    if (message.kind === 'cancel') cancelled.add(to);
  };
  const slice = await createSlice(net.nodes[0], { name: 'cancel', nodes: 5 });
  const report = net.nodes[0].service.owner.lastAllocation!;
  assert.equal(slice.members.size, 5);
  assert.ok(report.sparesCancelled >= 1, `spares cancelled: ${JSON.stringify(report)}`);
  assert.equal(cancelled.size, report.sparesCancelled);
  // Already free when create resolves: the owner does not answer before its cancels are through.
  for (const n of cancelled) {
    assert.equal(state(n), 'free', `spare ${n.index} let go`);
    assert.ok(!slice.members.has(n.address.nodeId));
  }
  await waitUntil('no reservation left', 2_000, () => net!.nodes.every((n) => state(n) !== 'reserved'));
});

test('two requests racing for nodes that suffice for both both succeed, and share no node', async () => {
  for (let round = 0; round < 4; round++) {
    net?.stop();
    net = slicesNetwork(10);
    const [a, b] = await Promise.all([
      createSlice(net.nodes[0], { name: 'a', nodes: 5 }, generateUser('alice')),
      createSlice(net.nodes[1], { name: 'b', nodes: 5 }, generateUser('bob')),
    ]);
    assert.equal(a.members.size, 5, `round ${round}: a`);
    assert.equal(b.members.size, 5, `round ${round}: b`);
    for (const id of a.members.keys()) assert.ok(!b.members.has(id), `round ${round}: ${id} is in both slices`);
    for (const n of net.nodes) {
      const s = n.membership.slice();
      assert.ok(s !== null, `round ${round}: every node is in a slice`);
      assert.ok((s.name === 'a' ? a : b).members.has(n.address.nodeId), `round ${round}: the node's own view agrees with its owner`);
    }
  }
});

test('contention beyond what the cloud holds: retried a bounded number of times, then "found X of Y", nothing kept', async () => {
  net = slicesNetwork(10);
  const results = await Promise.allSettled([
    createSlice(net.nodes[0], { name: 'a', nodes: 7 }, generateUser('alice')),
    createSlice(net.nodes[1], { name: 'b', nodes: 7 }, generateUser('bob')),
  ]);
  const failed = results.filter((r) => r.status === 'rejected');
  assert.ok(failed.length >= 1, 'both cannot have 7 of 10');
  for (const r of failed) assert.ok(r.reason instanceof AllocationError && /found \d+ of 7 nodes/.test(r.reason.message), String(r.reason));
  for (const owner of [net.nodes[0], net.nodes[1]]) assert.ok(owner.service.owner.lastAllocation!.attempts <= MAX_ATTEMPTS);
  const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const members = net.nodes.filter((n) => n.membership.slice() !== null).length;
  assert.equal(members, ok.reduce((s, x) => s + x.members.size, 0), 'only the successful slice holds nodes');
});

test('a request the cloud cannot meet is not retried', async () => {
  net = slicesNetwork(6, { attributes: (i) => sampleNode({ cores: i + 1, cpuScore: 1000 }) });
  await assert.rejects(createSlice(net.nodes[0], { name: 'big', nodes: 4, where: 'cores>=4' }), (err: unknown) => err instanceof AllocationError && /found 3 of 4 nodes matching cores>=4 \(3 matched, 0 of them busy/.test(err.message));
  assert.equal(net.nodes[0].service.owner.lastAllocation!.attempts, 1);
  await waitUntil('every node free', 2_000, () => net!.nodes.every((n) => state(n) === 'free'));
});

test('grow counts the existing members once, and finds new nodes only', async () => {
  net = slicesNetwork(8);
  const slice = await createSlice(net.nodes[0], { name: 'g', nodes: 3 });
  const added = await net.nodes[0].service.owner.grow('g', 2);
  assert.equal(added, 2);
  assert.equal(slice.members.size, 5);
  const report = net.nodes[0].service.owner.lastAllocation!;
  assert.equal(report.busy, 0, 'members of the slice itself do not answer busy');
  assert.equal(net.nodes.filter((n) => n.membership.slice()?.sliceId === slice.ref.sliceId).length, 5);
});

test('ranked by capacity: nodes whose rank estimates are all wrong (equal machines) are still found', async () => {
  // Equal machines estimate themselves at rank 0 (no other node is strictly lower): the call that
  // only the top 2·2/20 of the ranks answer finds nobody, and the owner asks everyone.
  // (A ranked call waits its whole window for every answer: 1.5 s, so a busy machine delivers them all.)
  net = slicesNetwork(20, { attributes: (i) => sampleNode({ cores: 2 + (i % 3), cpuScore: 1000 }), rank: () => 0, windowMs: 1_500 });
  const slice = await createSlice(net.nodes[0], { name: 'cap', nodes: 2, rank: 'capacity' });
  assert.equal(slice.members.size, 2);
  for (const id of slice.members.keys()) assert.equal(net.nodes.find((n) => n.address.nodeId === id)!.attributes.cores, 4, 'the largest capacity');
  const report = net.nodes[0].service.owner.lastAllocation!;
  assert.equal(report.attempts, 2, 'a filtered call, then one to everyone');
});

test('ranked by cpu: the capacity rank estimate does not filter (a fast CPU with few cores is the best)', async () => {
  // CPU score grows with the index, capacity (and so the rank estimate) shrinks with it.
  net = slicesNetwork(20, { attributes: (i) => sampleNode({ cores: 40 - 2 * i, cpuScore: 1000 + 100 * i }), rank: (i) => 1 - i / 19, windowMs: 1_500 });
  const slice = await createSlice(net.nodes[0], { name: 'fast', nodes: 2, rank: 'cpu' });
  const chosen = [...slice.members.keys()].map((id) => net!.nodes.findIndex((n) => n.address.nodeId === id)).sort((a, b) => a - b);
  // The fastest that heard the call (a flood misses a node now and then); the filter by capacity
  // rank would have let only nodes 0..3 answer.
  assert.ok(chosen.every((i) => i >= 15), `chose ${chosen.join(', ')}`);
  assert.equal(net.nodes[0].service.owner.lastAllocation!.attempts, 1);
});
