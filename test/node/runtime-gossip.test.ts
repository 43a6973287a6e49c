import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { SeededRandom } from '../../src/core/random.js';
import { type PeerAddress, type RemotePeer, type RequestHandler, type Transport, TransportError, type TransportStats } from '../../src/network/transport.js';
import { generateIdentity } from '../../src/node/identity.js';
import { silentLogger } from '../../src/node/logger.js';
import { LOCAL_HANDLE } from '../../src/node/peer-directory.js';
import { MESSAGE_TYPES, encodeFetchRequest, encodeHello, encodeParts, encodeRequest } from '../../src/node/runtime/envelope.js';
import { GossipNode, GossipRequestError } from '../../src/node/runtime/gossip-node.js';

const NOW = 1_760_000_000_000;

/** An in-memory Transport: requests call the target's handler directly (asynchronously). */
class FakeNetwork {
  readonly handlers = new Map<string, { handler?: RequestHandler; publicKey: Uint8Array }>();
  readonly down = new Set<string>();

  transport(nodeId: string, publicKey: Uint8Array): Transport {
    this.handlers.set(nodeId, { publicKey });
    const net = this;
    const stats: TransportStats = {
      connectionsOpen: 0, streamsOpen: 0, connectionsAccepted: 0, connectionsDialled: 0, connectionsRejected: 0, framesRejected: 0,
      framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, requestsSent: 0, requestsFailed: 0, requestsHandled: 0,
    };
    return {
      nodeId,
      listen: async (a) => a,
      close: async () => {},
      async request(peer: PeerAddress, type: number, payload: Uint8Array): Promise<Uint8Array> {
        await Promise.resolve();
        const target = net.handlers.get(peer.nodeId);
        if (target?.handler === undefined || net.down.has(peer.nodeId)) throw new TransportError('UNREACHABLE', `${peer.nodeId} is down`, { peer: peer.nodeId });
        const from: RemotePeer = { nodeId, publicKey, remoteAddress: { host: '127.0.0.1', port: 1 } };
        try {
          return await target.handler(from, type, Uint8Array.from(payload));
        } catch (err) {
          throw new TransportError('REMOTE_ERROR', (err as Error).message, { peer: peer.nodeId });
        }
      },
      onRequest(handler) {
        net.handlers.get(nodeId)!.handler = handler;
      },
      probe: () => Promise.reject(new TransportError('UNREACHABLE', 'no addresses here')),
      openStream: () => Promise.reject(new TransportError('NO_HANDLER', 'no streams here')),
      onStream: () => {},
      stats: () => stats,
      on: () => {},
      off: () => {},
    };
  }
}

/** Timers that never fire: the test drives cycles with runCycle. */
const noTimers = { schedule: () => () => {} };

function makeNodes(n: number, seed = 1) {
  const clock = new ManualClock(NOW);
  const net = new FakeNetwork();
  const nodes = Array.from({ length: n }, (_, i) => {
    const identity = generateIdentity();
    const node = new GossipNode({
      identity,
      transport: net.transport(identity.nodeId, identity.publicKey),
      advertise: { host: '127.0.0.1', port: 7000 + i },
      peerSampling: { protocol: 'newscast', viewSize: 8, shuffleLength: 4 },
      epochLength: 10,
      cyclePeriodMs: 1000,
      cycleJitter: 0.1,
      inputs: () => ({ freeCores: i + 1, memoryFreeBytes: 1000, diskFreeBytes: 2000, loadAverage: 0.5 }),
      capacity: () => 100 * (i + 1),
      clock,
      timers: noTimers,
      random: new SeededRandom(seed * 100 + i),
      logger: silentLogger(),
    });
    node.start();
    return node;
  });
  return { clock, net, nodes };
}

function address(node: GossipNode, i: number): PeerAddress {
  return { nodeId: node.nodeId, host: '127.0.0.1', port: 7000 + i };
}

test('hello makes both sides know each other, and one exchange drives both sides of peer sampling', async () => {
  const { nodes } = makeNodes(3);
  const [a, b, c] = nodes;
  assert.equal(await b.hello(address(a, 0)), a.nodeId);
  assert.deepEqual(b.view().map((p) => p.nodeId), [a.nodeId]);
  assert.deepEqual(a.view().map((p) => p.nodeId), [b.nodeId], 'the responder adds the newcomer');
  await c.hello(address(a, 0));
  // c exchanges with its only peer a: a's view (with b) reaches c, and c's descriptor reaches a.
  await c.runCycle('sampling');
  assert.equal(c.stats.exchangesCompleted, 1);
  assert.ok(a.stats.requestsHandled >= 2);
  assert.ok(c.view().some((p) => p.nodeId === b.nodeId), 'c learned of b through a');
  assert.ok(a.view().some((p) => p.nodeId === c.nodeId));
});

test('aggregation over the fake transport: every node estimates the network size', async () => {
  const { nodes } = makeNodes(5, 2);
  for (let i = 1; i < nodes.length; i++) await nodes[i].hello(address(nodes[0], 0));
  for (let round = 0; round < 60; round++) {
    for (const node of nodes) await node.runCycle();
  }
  for (const node of nodes) {
    const size = node.protocols.aggregation.publishedCount(LOCAL_HANDLE);
    assert.ok(Math.abs(size - 5) <= 0.5, `size estimate ${size}`);
    const cores = node.protocols.aggregation.publishedEstimate(LOCAL_HANDLE, 'freeCores', 'average');
    assert.ok(Math.abs(cores - 3) < 0.3, `average free cores ${cores}, expected 3`);
    assert.equal(node.stats.requestsRejected, 0);
    assert.ok(node.stats.exchangesCompleted > 50);
  }
});

test('garbage and forged requests are rejected one by one, counted, and change nothing', async () => {
  const { net, nodes } = makeNodes(3, 3);
  const [a, b, c] = nodes;
  await b.hello(address(a, 0));
  const handler = net.handlers.get(a.nodeId)!.handler!;
  const from: RemotePeer = { nodeId: c.nodeId, publicKey: new Uint8Array(32), remoteAddress: { host: '127.0.0.1', port: 9 } };
  const bDescriptor = b.directory.descriptorOf(LOCAL_HANDLE).encoded;
  const bRef = b.directory.digestOf(LOCAL_HANDLE);
  const cRef = c.directory.digestOf(LOCAL_HANDLE);
  const bad: [number, Uint8Array][] = [
    [MESSAGE_TYPES.round, new Uint8Array(0)],
    [MESSAGE_TYPES.round, Uint8Array.from([0xff, 0xff, 1, 2, 3])],
    [MESSAGE_TYPES.round, encodeRequest(cRef, [], Uint8Array.from([9, 9, 9, 9]))],
    [MESSAGE_TYPES.round, encodeRequest(cRef, [], encodeParts([{ protocol: 'aggregation', body: Uint8Array.from([9, 9, 9, 9]) }]))],
    // A round with no protocol message in it.
    [MESSAGE_TYPES.round, encodeRequest(cRef, [], encodeParts([]))],
    // A sampling part that carries a ranking message.
    [MESSAGE_TYPES.round, encodeRequest(cRef, [], encodeParts([{ protocol: 'sampling', body: c.codec.encode({ protocol: 'ranking', kind: 'request', body: { a: 1 } }) }]))],
    // c presents b's descriptor as its own: the transport authenticated c.
    [MESSAGE_TYPES.hello, encodeHello(bDescriptor)],
    // c claims b's descriptor reference as its own sender reference (an empty sampling buffer).
    [MESSAGE_TYPES.round, encodeRequest(bRef, [], encodeParts([{ protocol: 'sampling', body: c.codec.encode({ protocol: 'sampling', kind: 'request', body: { ids: [], ages: [] } }) }]))],
    [MESSAGE_TYPES.descriptors, Uint8Array.from([2, 1, 0])],
    [999, encodeRequest(cRef, [], new Uint8Array(0))],
  ];
  for (const [type, payload] of bad) {
    await assert.rejects(async () => handler(from, type, payload), GossipRequestError, `type ${type}`);
  }
  assert.equal(a.stats.requestsRejected, bad.length);
  assert.deepEqual(a.view().map((p) => p.nodeId), [b.nodeId]);
  // a still works.
  await c.hello(address(a, 0));
  await c.runCycle('sampling');
  assert.equal(c.stats.exchangesCompleted, 1);
});

test('a round with an unreachable peer fails the protocol steps instead of throwing', async () => {
  const { net, nodes } = makeNodes(2, 4);
  const [a, b] = nodes;
  await b.hello(address(a, 0));
  net.down.add(a.nodeId);
  await b.runCycle();
  assert.equal(b.stats.exchangesFailed, 1);
  assert.equal(b.stats.exchangesCompleted, 0);
  assert.deepEqual(b.view(), [], 'the unreachable peer left the view');
  await b.runCycle('sampling');
  assert.equal(b.stats.exchangesStarted, 1, 'no peer left to try');
});

test('a peer that could not be reached is not gossiped back into the view until it contacts us', async () => {
  const { net, nodes } = makeNodes(3, 5);
  const [a, b, c] = nodes;
  await b.hello(address(a, 0));
  await c.hello(address(a, 0));
  await b.runCycle('sampling'); // b learns of c through a
  assert.ok(b.view().some((p) => p.nodeId === c.nodeId));
  net.down.add(c.nodeId);
  let failedAt = -1;
  for (let cycle = 0; cycle < 40; cycle++) {
    await b.runCycle();
    if (failedAt < 0 && b.stats.exchangesFailed > 0) failedAt = cycle;
    if (failedAt >= 0) assert.ok(!b.view().some((p) => p.nodeId === c.nodeId), `c came back at cycle ${cycle}`);
  }
  assert.ok(failedAt >= 0, 'b never tried c');
  assert.equal(b.stats.rumorsStarted, 1);
  assert.ok(!a.view().some((p) => p.nodeId === c.nodeId), 'a dropped c on hearing b\'s rumor, without trying c itself');
  assert.ok(a.stats.rumorsHeard >= 1);
  net.down.delete(c.nodeId);
  await c.hello(address(b, 1));
  assert.equal(c.stats.refutations, 1, 'b told c it is rumored dead; c re-signed its descriptor');
  assert.ok(b.view().some((p) => p.nodeId === c.nodeId), 'the re-signed descriptor is accepted');
});

test('descriptors travel by reference: a receiver fetches the ones it lacks once, then resolves them', async () => {
  const { nodes } = makeNodes(6, 6);
  for (let i = 1; i < nodes.length; i++) await nodes[i].hello(address(nodes[0], 0));
  for (let round = 0; round < 10; round++) for (const node of nodes) await node.runCycle('sampling');
  const fetched = nodes.map((n) => n.stats.descriptorsFetched);
  assert.ok(fetched.some((f) => f > 0), 'somebody fetched a descriptor it lacked');
  for (const n of nodes) assert.ok(n.directory.stats.resolved > 0, 'references were resolved from the store');
  for (let round = 0; round < 10; round++) for (const node of nodes) await node.runCycle('sampling');
  // Every node now holds every descriptor: nothing more to fetch, and every view is full.
  assert.deepEqual(nodes.map((n) => n.stats.descriptorsFetched), fetched);
  for (const n of nodes) {
    assert.equal(n.viewSize(), 5);
    assert.equal(n.stats.requestsRejected, 0);
  }
});

test('a DESCRIPTORS answer that is not what was asked for is refused', async () => {
  const { net, nodes } = makeNodes(2, 7);
  const [a, b] = nodes;
  await b.hello(address(a, 0));
  const handler = net.handlers.get(a.nodeId)!.handler!;
  const from: RemotePeer = { nodeId: b.nodeId, publicKey: new Uint8Array(32), remoteAddress: { host: '127.0.0.1', port: 9 } };
  const answer = await handler(from, MESSAGE_TYPES.descriptors, encodeFetchRequest([a.directory.digestOf(LOCAL_HANDLE), new Uint8Array(8)]));
  // a answers with what it holds (itself) and leaves out the unknown reference.
  assert.equal(answer[1], 1);
});

test('slicing by rank: nodes ranked by capacity estimate their slice from their exchanges', async () => {
  const { nodes } = makeNodes(8, 8);
  for (let i = 1; i < nodes.length; i++) await nodes[i].hello(address(nodes[0], 0));
  for (let round = 0; round < 100; round++) for (const node of nodes) await node.runCycle();
  // Node i has capacity 100·(i + 1): i of the 7 others are lower (true rank i/7, at least 0.07
  // from the middle), so the lower four are in slice 0 of 2 and the upper four in slice 1.
  const ranks = nodes.map((n) => n.protocols.ranking.estimatedRank(LOCAL_HANDLE));
  ranks.forEach((r, i) => assert.ok(Math.abs(r - i / 7) < 0.07, `node ${i}: rank estimate ${r}, true ${i / 7}`));
  assert.deepEqual(nodes.map((n) => n.protocols.ranking.slice(LOCAL_HANDLE, 2)), [0, 0, 0, 0, 1, 1, 1, 1]);
  for (const n of nodes) assert.equal(n.stats.requestsRejected, 0);
});
