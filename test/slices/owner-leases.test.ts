/**
 * The owner's lease renewals on an in-memory network (as slice-service.test.ts): a member that
 * hangs does not hold back the others' renewals, a dead member is dropped after one quick retry,
 * the remaining members get the new member list at once, and --keep-size replaces it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, test } from 'node:test';
import { OPEN_POLICY } from '../../src/auth/policy.js';
import { signObject } from '../../src/auth/signed-object.js';
import { generateUser } from '../../src/auth/user-identity.js';
import { generateIdentity } from '../../src/node/identity.js';
import { silentLogger } from '../../src/node/logger.js';
import { FREE, SliceMembership } from '../../src/slices/membership.js';
import { GRANT_PURPOSE, type SliceAddress } from '../../src/slices/messages.js';
import { grantPayload } from '../../src/slices/owner.js';
import { SliceService } from '../../src/slices/slice-service.js';
import { parseSliceSpec } from '../../src/slices/spec.js';
import { specToWire } from '../../src/slices/spec-wire.js';
import { sampleNode } from './query-fixtures.js';

const LEASE_MS = 3_000;
/** How long a request to a hung node takes to fail (the daemon's slice request timeout). */
const HANG_MS = 5_000;

interface Node {
  readonly address: SliceAddress;
  readonly service: SliceService;
  readonly membership: SliceMembership;
  state: 'up' | 'down' | 'hung';
}

const timers = {
  schedule: (fn: () => void, ms: number) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

let running: Node[] = [];
afterEach(() => {
  for (const n of running) n.service.stop();
  running = [];
});

function network(n: number): Node[] {
  const nodes: Node[] = [];
  const byId = new Map<string, Node>();
  for (let i = 0; i < n; i++) {
    const address = { nodeId: generateIdentity().nodeId, host: '127.0.0.1', port: 20_000 + i };
    const membership = new SliceMembership(() => Date.now(), FREE);
    const node: Node = { address, membership, state: 'up', service: undefined as unknown as SliceService };
    (node as { service: SliceService }).service = new SliceService({
      self: address,
      membership,
      attributes: () => sampleNode({ cores: 4, cpuScore: 1000 }),
      rank: () => 0.5,
      policy: () => OPEN_POLICY,
      now: () => Date.now(),
      timers,
      randomPeers: (k) => nodes.filter((m) => m !== node && m.state === 'up').sort(() => Math.random() - 0.5).slice(0, k).map((m) => m.address),
      networkSize: () => n,
      request: async (to, bytes) => {
        await Promise.resolve();
        const target = byId.get(to.nodeId);
        if (target === undefined || target.state === 'down') throw new Error(`${to.nodeId} unreachable`);
        if (target.state === 'hung') {
          await new Promise((r) => setTimeout(r, HANG_MS).unref());
          throw new Error(`${to.nodeId}: timeout`);
        }
        return target.service.handle(address.nodeId, Uint8Array.from(bytes));
      },
      logger: silentLogger(),
      leaseMs: LEASE_MS,
      windowMs: 300,
      holdMs: 2_000,
    });
    nodes.push(node);
    byId.set(address.nodeId, node);
  }
  running = nodes;
  for (const node of nodes) node.service.start();
  return nodes;
}

async function create(owner: Node, input: Parameters<typeof parseSliceSpec>[0]) {
  const user = generateUser('alice');
  const spec = parseSliceSpec(input);
  const sliceId = randomBytes(16).toString('hex');
  const grant = signObject(user, GRANT_PURPOSE, grantPayload(sliceId, spec, owner.address.nodeId, specToWire(spec)));
  return owner.service.owner.create(sliceId, spec, grant, user.userId);
}

async function waitUntil(what: string, timeoutMs: number, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a member that hangs does not cost the others their lease; it is dropped and --keep-size replaces it', async () => {
  const nodes = network(7);
  const slice = await create(nodes[0], { name: 'k', nodes: 3, keepSize: true });
  const members = nodes.filter((n) => slice.members.has(n.address.nodeId) && n !== nodes[0]);
  const hung = members[0];
  hung.state = 'hung';
  const others = () => [...slice.members.keys()].filter((id) => id !== hung.address.nodeId).map((id) => nodes.find((n) => n.address.nodeId === id)!);
  // Longer than a lease: the others must have been renewed meanwhile, although every renewal of
  // the hung member took HANG_MS to fail.
  await new Promise((r) => setTimeout(r, LEASE_MS + 1_500));
  for (const n of others()) assert.equal(n.membership.slice()?.sliceId, slice.ref.sliceId, 'a member that answers keeps its lease');
  await waitUntil('the hung member to be dropped and replaced', 3 * HANG_MS, () => !slice.members.has(hung.address.nodeId) && slice.members.size === 3);
  for (const n of others()) assert.equal(n.membership.slice()?.sliceId, slice.ref.sliceId);
});

test('a dead member is dropped after one quick retry, and the others get the new member list', async () => {
  const nodes = network(6);
  const slice = await create(nodes[0], { name: 'd', nodes: 4 });
  const members = nodes.filter((n) => slice.members.has(n.address.nodeId));
  const dead = members.find((n) => n !== nodes[0])!;
  dead.state = 'down';
  await waitUntil('the dead member to be dropped', 2 * LEASE_MS, () => !slice.members.has(dead.address.nodeId));
  assert.equal(slice.members.size, 3, 'without --keep-size the slice stays smaller');
  const alive = members.filter((n) => n !== dead);
  await waitUntil('the survivors to know the new member list', LEASE_MS, () =>
    alive.every((n) => n.service.agent.knownMembers().length === 3 && n.service.agent.knownMembers().every((a) => a.nodeId !== dead.address.nodeId)),
  );
});
