/**
 * Slices on real daemons, the robustness items: a coordinator killed (-9) and restarted with its
 * data directory within the lease takes its slices back from <dataDir>/owned-slices.json and goes
 * on renewing them; a node started with --slice-max-share 0.5 is judged by half its cores.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OWNED_SLICES_FILE } from '../../src/slices/owned-store.js';
import type { MembershipView, SliceView } from '../../src/slices/slice-api.js';
import { type Daemon, getJson, killAll, runCli, startDaemon, waitExit } from './node-helpers.js';
import { startSmallCloud } from './small-cloud.js';

const N = 4;
/** Long enough for a kill -9 and a restart on two busy cores, short enough to wait past. */
const LEASE_MS = 10_000;
const FAST = ['--cycle-period-ms', '200', '--epoch-length', '10', '--join-retry-interval-ms', '300', '--slice-lease-ms', String(LEASE_MS)];
/** The last node shares half of itself with slices. */
const SHARED = ['--slice-max-share', '0.5'];
let root: string;
let users: string;
const daemons: Daemon[] = [];

before(async () => {
  const cloud = await startSmallCloud({ nodes: N, name: 'peercloud-slices-restart', args: FAST, argsOf: (i) => (i === N - 1 ? SHARED : []), users: ['alice'] });
  ({ root, users } = cloud);
  daemons.push(...cloud.daemons);
});

after(async () => {
  await killAll();
  if (root) rmSync(root, { recursive: true, force: true });
});

const as = (api: string, ...args: string[]) => runCli([...args, '--api', api, '--user', 'alice', '--user-dir', users, '--json'], {}, 60_000);

test('a node started with --slice-max-share 0.5 offers half its cores to slice queries', async () => {
  const { attributes } = await getJson<{ attributes: { cores: number } }>(daemons[N - 1].api, '/v1/node');
  const cores = attributes.cores;
  // Every node runs on this machine: all have `cores` cores, but the last one offers floor(cores / 2).
  const all = await as(daemons[0].api, 'slice', 'create', 'whole', '--nodes', String(N), '--where', `cores>=${cores}`);
  assert.equal(all.code, 1, all.stdout);
  assert.match(all.stderr, new RegExp(`found ${N - 1} of ${N} nodes matching cores>=${cores}`));
  const half = await as(daemons[0].api, 'slice', 'create', 'half', '--nodes', '1', '--where', `cores<=${Math.floor(cores / 2)}`);
  assert.equal(half.code, 0, half.stderr);
  assert.deepEqual((JSON.parse(half.stdout) as SliceView).members.map((m) => m.nodeId), [daemons[N - 1].nodeId]);
  assert.equal((await as(daemons[0].api, 'slice', 'delete', 'half')).code, 0);
});

test('a coordinator killed and restarted within the lease takes its slices back and keeps renewing them', async () => {
  const coordinator = daemons[1];
  const created = await as(coordinator.api, 'slice', 'create', 'kept', '--nodes', '3');
  assert.equal(created.code, 0, created.stderr);
  const slice = JSON.parse(created.stdout) as SliceView;
  const memberIds = slice.members.map((m) => m.nodeId);
  assert.ok(existsSync(join(coordinator.dataDir, OWNED_SLICES_FILE)), 'the coordinator recorded its slice');

  const killedAt = Date.now();
  coordinator.child.kill('SIGKILL');
  await waitExit(coordinator);
  const restarted = await startDaemon(coordinator.dataDir, [...FAST, '--join', daemons[0].listen]);
  daemons[1] = restarted;
  assert.equal(restarted.nodeId, coordinator.nodeId);
  assert.ok(restarted.lines.some((l) => l.msg === 'took back the slices this node coordinated before it restarted'), 'the restart says it took its slices back');
  const described = await getJson<SliceView>(restarted.api, '/v1/slices/kept');
  assert.deepEqual(described.members.map((m) => m.nodeId).sort(), [...memberIds].sort());

  // Past the lease granted before the kill: every member is still in the slice, so its lease was
  // renewed by the restarted coordinator.
  const byId = new Map(daemons.map((d) => [d.nodeId, d]));
  const pastLease = killedAt + LEASE_MS + 1_000;
  await new Promise((r) => setTimeout(r, Math.max(0, pastLease - Date.now())));
  for (const id of memberIds) {
    const m = await getJson<MembershipView>(byId.get(id)!.api, '/v1/membership');
    assert.equal(m.state, 'member', `${id} is still a member`);
    assert.equal(m.slice?.name, 'kept');
    assert.ok(m.leaseUntil! > killedAt + LEASE_MS, `${id}'s lease was renewed after the restart`);
  }
  // The restarted coordinator manages it as before.
  const deleted = await as(restarted.api, 'slice', 'delete', 'kept');
  assert.equal(deleted.code, 0, deleted.stderr);
  const views = await Promise.all(memberIds.map((id) => getJson<MembershipView>(byId.get(id)!.api, '/v1/membership')));
  assert.ok(views.every((v) => v.state === 'free'));
});
