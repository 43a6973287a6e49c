/**
 * The coordinator's record of the slices it owns (<dataDir>/owned-slices.json): written on every
 * change, read back after a restart, and a restarted owner renews the members it took back, so a
 * restart within the lease loses nothing. Bad files are reported and ignored.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { OWNED_SLICES_FILE, loadOwnedSlices, saveOwnedSlices } from '../../src/slices/owned-store.js';
import { type TestNetwork, createSlice, slicesNetwork, waitUntil } from './slice-network.js';

const LEASE_MS = 3_000;
const dirs: string[] = [];
let net: TestNetwork | undefined;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'peercloud-owned-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  net?.stop();
  net = undefined;
});
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const noWarning = (message: string) => assert.fail(`unexpected warning: ${message}`);

test('every change of an owned slice is saved, and what is saved reads back', async () => {
  const dir = tempDir();
  net = slicesNetwork(8, { leaseMs: LEASE_MS, extra: (i) => (i === 0 ? { persist: (slices) => saveOwnedSlices(dir, slices, noWarning) } : {}) });
  const owner = net.nodes[0].service.owner;
  assert.deepEqual(loadOwnedSlices(dir, noWarning), [], 'no file: no slices');
  const slice = await createSlice(net.nodes[0], { name: 'kept', nodes: 3, where: 'cores>=2', keepSize: true });
  let stored = loadOwnedSlices(dir, noWarning);
  assert.equal(stored.length, 1);
  assert.deepEqual(stored[0].ref, slice.ref);
  assert.deepEqual(stored[0].grant, slice.grant);
  assert.deepEqual(stored[0].members.map((m) => m.nodeId).sort(), [...slice.members.keys()].sort());
  assert.equal(stored[0].target, 3);
  await owner.grow('kept', 2);
  stored = loadOwnedSlices(dir, noWarning);
  assert.equal(stored[0].members.length, 5);
  assert.equal(stored[0].target, 5);
  const [gone] = await owner.shrink('kept', 1);
  assert.ok(!loadOwnedSlices(dir, noWarning)[0].members.some((m) => m.nodeId === gone));
  await owner.delete('kept');
  assert.deepEqual(loadOwnedSlices(dir, noWarning), []);
});

test('a coordinator restarted within the lease takes its slices back and keeps renewing them', async () => {
  const dir = tempDir();
  const persist = { persist: (slices: Parameters<typeof saveOwnedSlices>[1]) => saveOwnedSlices(dir, slices, noWarning) };
  net = slicesNetwork(8, { leaseMs: LEASE_MS, extra: (i) => (i === 0 ? persist : {}) });
  const slice = await createSlice(net.nodes[0], { name: 'survivor', nodes: 4 });
  const members = net.nodes.filter((n) => slice.members.has(n.address.nodeId));
  // The coordinator goes away for half a lease (its members hear nothing meanwhile)…
  net.nodes[0].service.stop();
  await new Promise((r) => setTimeout(r, LEASE_MS / 2));
  // …and comes back as a new process would: a new service that reads the record.
  const restarted = net.restart(0, persist);
  const stored = loadOwnedSlices(dir, noWarning);
  // A record naming another coordinator (a data directory copied from elsewhere) is not taken.
  const foreign = { ...stored[0], ref: { ...stored[0].ref, name: 'foreign', ownerNode: net.nodes[1].address.nodeId } };
  restarted.owner.restore([...stored, foreign]);
  assert.ok(!restarted.owner.slices.has('foreign'));
  restarted.start();
  const back = restarted.owner.slices.get('survivor');
  assert.ok(back !== undefined, 'the slice is known again');
  assert.deepEqual([...back.members.keys()].sort(), [...slice.members.keys()].sort());
  assert.equal(back.spec.name, 'survivor');
  // Well past the lease the members granted before the restart: still members, renewed since.
  const restartedAt = Date.now();
  await new Promise((r) => setTimeout(r, LEASE_MS + 500));
  for (const m of members) {
    const now = m.membership.current();
    assert.equal(now.state, 'member', `node ${m.index} kept its membership`);
    assert.ok(now.state === 'member' && now.leaseUntil > restartedAt + LEASE_MS, `node ${m.index}'s lease was renewed after the restart`);
  }
  // And the restarted owner still manages it: a delete lets every member go.
  await restarted.owner.delete('survivor');
  await waitUntil('members free after the delete', 2_000, () => members.every((m) => m.membership.current().state === 'free'));
});

test('a missing or corrupt record is ignored with a warning, never a failure', () => {
  const dir = tempDir();
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  assert.deepEqual(loadOwnedSlices(dir, warn), []);
  assert.equal(warnings.length, 0, 'a missing file is normal');
  writeFileSync(join(dir, OWNED_SLICES_FILE), '{"v":1,"slices":[{"ref":42}]}');
  assert.deepEqual(loadOwnedSlices(dir, warn), []);
  assert.match(warnings[0], /not a valid record of owned slices \(slices\.0\.ref/);
  writeFileSync(join(dir, OWNED_SLICES_FILE), 'not json');
  assert.deepEqual(loadOwnedSlices(dir, warn), []);
  assert.match(warnings[1], /is not JSON/);
  saveOwnedSlices(join(dir, 'missing', 'dir'), [], warn);
  assert.match(warnings[2], /cannot save the owned slices/);
  assert.equal(readFileSync(join(dir, OWNED_SLICES_FILE), 'utf8'), 'not json', 'a failed save leaves the old file alone');
});
