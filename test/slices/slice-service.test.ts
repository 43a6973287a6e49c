/**
 * Slice allocation between SliceServices on an in-memory network (each request goes through the
 * byte encoding and the receiver's validation, as over the transport): allocation, the at-most-one-
 * slice rule under concurrent requests, short results, forged grants, policies, leases.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { OPEN_POLICY, allowListPolicy, type AuthPolicy } from '../../src/auth/policy.js';
import { signObject } from '../../src/auth/signed-object.js';
import { type UserIdentity, generateUser } from '../../src/auth/user-identity.js';
import { generateIdentity } from '../../src/node/identity.js';
import { silentLogger } from '../../src/node/logger.js';
import { FREE, SliceMembership } from '../../src/slices/membership.js';
import { GRANT_PURPOSE, type SliceAddress } from '../../src/slices/messages.js';
import { AllocationError, grantPayload } from '../../src/slices/owner.js';
import { SliceService } from '../../src/slices/slice-service.js';
import { parseSliceSpec } from '../../src/slices/spec.js';
import { specToWire } from '../../src/slices/spec-wire.js';
import { sampleNode } from './query-fixtures.js';

interface Member {
  readonly address: SliceAddress;
  readonly service: SliceService;
  readonly membership: SliceMembership;
  policy: AuthPolicy;
}

/** Real timers (short ones): the owner waits for offers in real time. */
const timers = { schedule: (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
} };

function network(n: number, cores: (i: number) => number = (i) => i + 1) {
  const members: Member[] = [];
  const byId = new Map<string, Member>();
  let down = new Set<string>();
  for (let i = 0; i < n; i++) {
    const address = { nodeId: generateIdentity().nodeId, host: '127.0.0.1', port: 10_000 + i };
    const membership = new SliceMembership(() => Date.now(), FREE);
    const member: Member = {
      address,
      membership,
      policy: OPEN_POLICY,
      service: undefined as unknown as SliceService,
    };
    (member as { service: SliceService }).service = new SliceService({
      self: address,
      membership,
      attributes: () => sampleNode({ cores: cores(i), cpuScore: 1000 }),
      rank: () => 0.5,
      policy: () => member.policy,
      now: () => Date.now(),
      timers,
      randomPeers: (k) => members.filter((m) => m !== member).sort(() => Math.random() - 0.5).slice(0, k).map((m) => m.address),
      networkSize: () => n,
      request: async (to, bytes) => {
        await Promise.resolve();
        const target = byId.get(to.nodeId);
        if (target === undefined || down.has(to.nodeId)) throw new Error(`${to.nodeId} unreachable`);
        return target.service.handle(address.nodeId, Uint8Array.from(bytes));
      },
      logger: silentLogger(),
      leaseMs: 3_000,
      windowMs: 300,
      holdMs: 2_000,
    });
    members.push(member);
    byId.set(address.nodeId, member);
  }
  return { members, setDown: (ids: string[]) => (down = new Set(ids)) };
}

function request(user: UserIdentity, owner: Member, input: Parameters<typeof parseSliceSpec>[0]) {
  const spec = parseSliceSpec(input);
  const sliceId = randomBytes(16).toString('hex');
  const grant = signObject(user, GRANT_PURPOSE, grantPayload(sliceId, spec, owner.address.nodeId, specToWire(spec)));
  return owner.service.owner.create(sliceId, spec, grant, user.userId);
}

async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), what);
}

const inSlice = (members: Member[], sliceId: string) => members.filter((m) => m.membership.slice()?.sliceId === sliceId);

test('a slice of 3 matching nodes is allocated, and only matching nodes join it', async () => {
  const { members } = network(8);
  const alice = generateUser('alice');
  const slice = await request(alice, members[0], { name: 'web', nodes: 3, where: 'cores>=4' });
  assert.equal(slice.members.size, 3);
  const joined = inSlice(members, slice.ref.sliceId);
  assert.equal(joined.length, 3);
  for (const m of joined) assert.ok(members.indexOf(m) >= 3, 'every member has at least 4 cores');
  // Offers that arrived after the owner had enough are refused, and their senders let go.
  await waitUntil(() => members.every((m) => m.membership.current().state !== 'reserved'), 'no reservation is left dangling');
  members.forEach((m) => m.service.stop());
});

test('ranked: the 2 nodes with the most cores are chosen', async () => {
  const { members } = network(8);
  const slice = await request(generateUser('alice'), members[0], { name: 'fast', nodes: 2, rank: 'cores' });
  assert.deepEqual(inSlice(members, slice.ref.sliceId).map((m) => members.indexOf(m)).sort(), [6, 7]);
});

test('two owners racing for overlapping nodes never share one', async () => {
  for (let round = 0; round < 5; round++) {
    const { members } = network(10);
    const results = await Promise.allSettled([
      request(generateUser('alice'), members[0], { name: 'a', nodes: 6 }),
      request(generateUser('bob'), members[1], { name: 'b', nodes: 6 }),
    ]);
    const ids = new Map<string, string>();
    for (const r of results) {
      if (r.status === 'rejected') {
        assert.ok(r.reason instanceof AllocationError, String(r.reason));
        continue;
      }
      for (const id of r.value.members.keys()) {
        assert.ok(!ids.has(id), `node ${id} is in two slices`);
        ids.set(id, r.value.ref.name);
      }
    }
    // Every node's own view agrees: at most one slice, and the one the owner lists.
    for (const m of members) {
      const s = m.membership.slice();
      if (s !== null) assert.equal(ids.get(m.address.nodeId), s.name);
    }
    assert.ok(ids.size <= 10);
  }
});

test('a request that cannot be met says what it found and leaves every node free', async () => {
  const { members } = network(6);
  await assert.rejects(
    request(generateUser('alice'), members[0], { name: 'big', nodes: 4, where: 'cores>=4' }),
    (err: unknown) => err instanceof AllocationError && /found 3 of 4 nodes matching cores>=4/.test(err.message),
  );
  assert.ok(members.every((m) => m.membership.slice() === null));
});

test('nodes with an allow-list policy take part only for allowed users', async () => {
  const { members } = network(6);
  const alice = generateUser('alice');
  const bob = generateUser('bob');
  for (const m of members) m.policy = allowListPolicy([alice.userId]);
  await assert.rejects(request(bob, members[0], { name: 'x', nodes: 1 }), AllocationError);
  const ok = await request(alice, members[0], { name: 'y', nodes: 2 });
  assert.equal(ok.members.size, 2);
});

test('a grant that is forged or for another slice is refused by every node', async () => {
  const { members } = network(4);
  const alice = generateUser('alice');
  const mallory = generateUser('mallory');
  const spec = parseSliceSpec({ name: 'z', nodes: 2 });
  const sliceId = randomBytes(16).toString('hex');
  // Signed by mallory, claimed for alice.
  const grant = signObject(mallory, GRANT_PURPOSE, grantPayload(sliceId, spec, members[0].address.nodeId, specToWire(spec)));
  await assert.rejects(members[0].service.owner.create(sliceId, spec, grant, alice.userId), AllocationError);
  // Signed by alice for another slice id.
  const other = signObject(alice, GRANT_PURPOSE, grantPayload(randomBytes(16).toString('hex'), spec, members[0].address.nodeId, specToWire(spec)));
  await assert.rejects(members[0].service.owner.create(sliceId, spec, other, alice.userId), AllocationError);
  assert.ok(members.every((m) => m.membership.current().state === 'free'));
});

test('members whose owner stops renewing are free again after the lease', async () => {
  const { members } = network(4);
  const slice = await request(generateUser('alice'), members[0], { name: 'l', nodes: 2 });
  members[0].service.stop(); // the owner stops renewing
  const joined = inSlice(members, slice.ref.sliceId);
  assert.equal(joined.length, 2);
  await new Promise((r) => setTimeout(r, 3_200));
  assert.ok(joined.every((m) => m.membership.slice() === null), 'leases ran out');
});

test('garbage slice messages are refused with a reason, not thrown', async () => {
  const { members } = network(2);
  for (const bytes of [new Uint8Array([0xff]), new TextEncoder().encode('{"v":1,"kind":"call"}'), new TextEncoder().encode('[]')]) {
    const answer = JSON.parse(new TextDecoder().decode(await members[0].service.handle(members[1].address.nodeId, bytes))) as { ok: boolean; reason: string };
    assert.equal(answer.ok, false);
    assert.ok(answer.reason.length > 0);
  }
});
