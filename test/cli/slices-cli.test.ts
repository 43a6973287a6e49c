/**
 * Slices on real daemons: eight `node start` processes on 127.0.0.1, users created with the CLI,
 * slices created, described, grown, shrunk and deleted through `peercloud slice …` and its EC2-like
 * aliases; two users racing for the same nodes; and the refusals (bad query, unsigned request,
 * someone else's slice).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { MembershipView, SliceView } from '../../src/slices/slice-api.js';
import { type Daemon, getJson, killAll, runCli, waitFor } from './node-helpers.js';
import { startSmallCloud } from './small-cloud.js';

const N = 8;
const FAST = ['--cycle-period-ms', '200', '--epoch-length', '10', '--join-retry-interval-ms', '300', '--slice-lease-ms', '3000'];
let root: string;
let users: string;
const daemons: Daemon[] = [];

before(async () => {
  const cloud = await startSmallCloud({ nodes: N, name: 'peercloud-slices', args: FAST, users: ['alice', 'bob'] });
  ({ root, users } = cloud);
  daemons.push(...cloud.daemons);
});

after(async () => {
  await killAll();
  if (root) rmSync(root, { recursive: true, force: true });
});

const as = (user: string, api: string, ...args: string[]) => runCli([...args, '--api', api, '--user', user, '--user-dir', users, '--json'], {}, 60_000);

async function membershipOf(d: Daemon): Promise<MembershipView> {
  return getJson<MembershipView>(d.api, '/v1/membership');
}

test('a slice is created, described, grown, shrunk and deleted; members know their slice', async () => {
  const created = await as('alice', daemons[0].api, 'slice', 'create', 'web', '--nodes', '3');
  assert.equal(created.code, 0, created.stderr);
  const slice = JSON.parse(created.stdout) as SliceView;
  assert.equal(slice.size, 3);
  // What each member lets the slice use (its slices.maxShare, 1 by default) travels in the API.
  for (const m of slice.members) assert.ok(Number.isInteger(m.cores) && m.cores! >= 1 && m.memoryBytes! > 0, JSON.stringify(m));
  const members = new Set(slice.members.map((m) => m.nodeId));
  const views = await Promise.all(daemons.map(membershipOf));
  views.forEach((v, i) => assert.equal(v.slice?.name === 'web', members.has(daemons[i].nodeId), `node ${i}: ${v.state} ${v.slice?.name}`));

  const described = await runCli(['slice', 'describe', 'web', '--api', daemons[0].api]);
  assert.equal(described.code, 0);
  assert.match(described.stdout, /slice web .*3 of 3 members/);

  const grown = await as('alice', daemons[0].api, 'add-instances', 'web', '2');
  assert.equal(grown.code, 0, grown.stderr);
  const five = (JSON.parse(grown.stdout) as { slice: SliceView }).slice;
  assert.equal(five.size, 5);

  // The members' T-Man ring: every member's successor is a member, and following successors
  // visits all five once (one ring, no strangers).
  const ids = five.members.map((m) => m.nodeId);
  const byId = new Map(daemons.map((d) => [d.nodeId, d]));
  await waitFor('the slice ring to close over the five members', 20_000, async () => {
    const rings = new Map<string, MembershipView['ring']>();
    for (const id of ids) rings.set(id, (await membershipOf(byId.get(id)!)).ring);
    const seen = new Set<string>();
    let at = ids[0];
    for (let i = 0; i < ids.length; i++) {
      const next = rings.get(at)?.successor;
      if (next === null || next === undefined || !ids.includes(next) || seen.has(next)) return undefined;
      seen.add(next);
      at = next;
    }
    return at === ids[0] && seen.size === ids.length ? true : undefined;
  });

  const victim = slice.members[0].nodeId;
  const shrunk = await as('alice', daemons[0].api, 'terminate-instances', 'web', victim);
  assert.equal(shrunk.code, 0, shrunk.stderr);
  assert.deepEqual((JSON.parse(shrunk.stdout) as { removed: string[] }).removed, [victim]);
  const freed = daemons.find((d) => d.nodeId === victim)!;
  assert.equal((await membershipOf(freed)).state, 'free');

  // A member shows its slice with describe-instances against its own API.
  const member = daemons.find((d) => d.nodeId === slice.members[1].nodeId)!;
  const own = await runCli(['describe-instances', '--api', member.api]);
  assert.equal(own.code, 0);
  assert.match(own.stdout, /this node is in slice web/);

  const deleted = await as('alice', daemons[0].api, 'slice', 'delete', 'web');
  assert.equal(deleted.code, 0, deleted.stderr);
  const after = await Promise.all(daemons.map(membershipOf));
  assert.ok(after.every((v) => v.state === 'free'), 'every node is free again');
});

test('two users racing for overlapping slices never share a node', async () => {
  const [a, b] = await Promise.all([
    as('alice', daemons[1].api, 'slice', 'create', 'left', '--nodes', '5'),
    as('bob', daemons[2].api, 'slice', 'create', 'right', '--nodes', '5'),
  ]);
  const sets: Set<string>[] = [];
  for (const r of [a, b]) {
    if (r.code === 0) sets.push(new Set((JSON.parse(r.stdout) as SliceView).members.map((m) => m.nodeId)));
    else assert.match(r.stderr, /found \d+ of 5 nodes/, 'a request that cannot be met says what it found');
  }
  assert.ok(sets.length >= 1, 'at least one of the two got its slice');
  if (sets.length === 2) for (const id of sets[0]) assert.ok(!sets[1].has(id), `${id} is in both slices`);
  const views = await Promise.all(daemons.map(membershipOf));
  const inSlices = views.filter((v) => v.state === 'member').length;
  assert.equal(inSlices, sets.reduce((n, s) => n + s.size, 0), 'nodes agree with the owners');
  if (a.code === 0) assert.equal((await as('alice', daemons[1].api, 'slice', 'delete', 'left')).code, 0);
  if (b.code === 0) assert.equal((await as('bob', daemons[2].api, 'slice', 'delete', 'right')).code, 0);
});

test('refusals: a bad query, an impossible count, an unsigned request, someone else\'s slice', async () => {
  const bad = await as('alice', daemons[0].api, 'slice', 'create', 'x', '--nodes', '2', '--where', 'ram>=4');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown attribute "ram"/);

  const tooMany = await as('alice', daemons[0].api, 'slice', 'create', 'huge', '--nodes', '50');
  assert.equal(tooMany.code, 1);
  assert.match(tooMany.stderr, /found 8 of 50 nodes/);

  const unsigned = await fetch(new URL('/v1/slices', daemons[0].api), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(unsigned.status, 401);

  assert.equal((await as('alice', daemons[0].api, 'slice', 'create', 'mine', '--nodes', '1')).code, 0);
  const stolen = await as('bob', daemons[0].api, 'slice', 'delete', 'mine');
  assert.equal(stolen.code, 1);
  assert.match(stolen.stderr, /belongs to user/);
  assert.equal((await as('alice', daemons[0].api, 'slice', 'delete', 'mine')).code, 0);
});

test('members of a slice whose owner node dies are free again after the lease', async () => {
  const owner = daemons[N - 1];
  const created = await as('alice', owner.api, 'slice', 'create', 'orphan', '--nodes', '2');
  assert.equal(created.code, 0, created.stderr);
  const members = (JSON.parse(created.stdout) as SliceView).members.map((m) => daemons.find((d) => d.nodeId === m.nodeId)!).filter((d) => d !== owner);
  owner.child.kill('SIGKILL');
  await waitFor('the orphaned members to be free', 15_000, async () => {
    const views = await Promise.all(members.map(membershipOf));
    return views.every((v) => v.state === 'free') ? true : undefined;
  });
});
