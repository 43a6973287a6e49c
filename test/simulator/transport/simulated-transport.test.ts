import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../../src/core/random.js';
import { FRAME_HEADER_BYTES } from '../../../src/network/framing.js';
import { type PeerAddress, type RemotePeer, TransportError, type TransportErrorCode } from '../../../src/network/transport.js';
import type { NetworkModel } from '../../../src/simulator/network.js';
import { seededIdentity } from '../../../src/simulator/transport/seeded-identity.js';
import { SimulatedNetwork } from '../../../src/simulator/transport/simulated-network.js';
import type { SimulatedTransport, SimulatedTransportOptions } from '../../../src/simulator/transport/simulated-transport.js';
import { SimulationStalledError } from '../../../src/simulator/transport/virtual-scheduler.js';

/** Constant 10 ms one way: a connection takes 2 round trips (40 ms), a request one more (20 ms). */
const FIXED: NetworkModel = { requestLoss: 0, responseLoss: 0, latency: { kind: 'constant', ms: 10 } };

interface TestNode {
  transport: SimulatedTransport;
  address: PeerAddress;
}

function world(model: NetworkModel = FIXED, seed = 1) {
  const net = new SimulatedNetwork({ seed, model, startTime: 0 });
  const ids = new SeededRandom(seed);
  let hosts = 0;
  const node = async (options: SimulatedTransportOptions = {}): Promise<TestNode> => {
    const transport = net.createTransport(seededIdentity(ids), options);
    const bound = await transport.listen({ host: `10.0.0.${++hosts}`, port: 7000 });
    return { transport, address: { nodeId: transport.nodeId, ...bound } };
  };
  return { net, node };
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function rejectsWith(net: SimulatedNetwork, promise: Promise<unknown>, code: TransportErrorCode): Promise<TransportError> {
  try {
    await net.settle(promise);
  } catch (err) {
    assert.ok(err instanceof TransportError, `expected a TransportError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, but the promise resolved`);
}

test('a request reaches the handler with the authenticated sender and its answer comes back after the set-up and one round trip', async () => {
  const { net, node } = world();
  const a = await node();
  const b = await node();
  let seen: RemotePeer | undefined;
  b.transport.onRequest((from, type, payload) => {
    seen = from;
    return bytes(`${type}:${text(payload)}`);
  });
  const answer = await net.settle(a.transport.request(b.address, 7, bytes('ping')));
  assert.equal(text(answer), '7:ping');
  assert.equal(net.now(), 60, 'two round trips of set-up, then one for the request');
  assert.equal(seen?.nodeId, a.transport.nodeId);
  assert.deepEqual(seen?.publicKey, a.transport.publicKey);
  assert.equal(seen?.remoteAddress.host, '10.0.0.1');
  // The connection is reused: the second request costs one round trip.
  await net.settle(a.transport.request(b.address, 7, bytes('again')));
  assert.equal(net.now(), 80);
  // And b can use it the other way.
  a.transport.onRequest(() => bytes('back'));
  assert.equal(text(await net.settle(b.transport.request(a.address, 1, bytes('')))), 'back');
  assert.equal(net.now(), 100);
  const sa = a.transport.stats();
  const sb = b.transport.stats();
  assert.equal(sa.connectionsOpen, 1);
  assert.equal(sb.connectionsOpen, 1);
  assert.equal(sa.connectionsDialled, 1);
  assert.equal(sb.connectionsAccepted, 1);
  assert.equal(sa.requestsSent, 2);
  assert.equal(sb.requestsHandled, 2);
  assert.equal(sa.framesOut, 3);
  assert.equal(sa.framesIn, 3);
  const out = 2 * FRAME_HEADER_BYTES + 'ping'.length + 'again'.length + FRAME_HEADER_BYTES + 'back'.length;
  assert.equal(sa.bytesOut, out);
  assert.equal(sb.bytesIn, out);
  assert.equal(sa.bytesIn, sb.bytesOut);
});

test('async handlers answer when they resolve on virtual time; throws and rejections are REMOTE_ERROR', async () => {
  const { net, node } = world();
  const a = await node();
  const b = await node();
  b.transport.onRequest(async (_from, type) => {
    if (type === 1) throw new Error('handler says no');
    await new Promise<void>((resolve) => b.transport.timers.schedule(resolve, 500));
    if (type === 2) throw new Error('later no');
    return bytes('slow');
  });
  assert.equal(text(await net.settle(a.transport.request(b.address, 0, bytes('')))), 'slow');
  assert.equal(net.now(), 560);
  const e1 = await rejectsWith(net, a.transport.request(b.address, 1, bytes('')), 'REMOTE_ERROR');
  assert.match(e1.message, /handler says no/);
  assert.equal(e1.peer, b.address.nodeId);
  const e2 = await rejectsWith(net, a.transport.request(b.address, 2, bytes('')), 'REMOTE_ERROR');
  assert.match(e2.message, /later no/);
  b.transport.onRequest(() => 'not bytes' as unknown as Uint8Array);
  await rejectsWith(net, a.transport.request(b.address, 3, bytes('')), 'REMOTE_ERROR');
});

test('TIMEOUT when the answer is too late; the late answer is ignored', async () => {
  const { net, node } = world();
  const a = await node();
  const b = await node();
  b.transport.onRequest(() => new Promise((resolve) => b.transport.timers.schedule(() => resolve(bytes('late')), 1_000)));
  const err = await rejectsWith(net, a.transport.request(b.address, 0, bytes(''), { timeoutMs: 300 }), 'TIMEOUT');
  assert.match(err.message, /300 ms/);
  assert.equal(net.now(), 300);
  await net.runFor(2_000);
  assert.equal(a.transport.stats().requestsFailed, 1);
  assert.equal(a.transport.stats().framesIn, 1, 'the late answer arrived and was dropped');
});

test('UNREACHABLE: nobody at the address is refused after one round trip', async () => {
  const { net, node } = world();
  const a = await node();
  const ghost: PeerAddress = { nodeId: seededIdentity(new SeededRandom(99)).nodeId, host: '10.9.9.9', port: 7000 };
  const err = await rejectsWith(net, a.transport.request(ghost, 0, bytes('')), 'UNREACHABLE');
  assert.match(err.message, /refused/);
  assert.equal(net.now(), 20);
});

test('PEER_KEY_MISMATCH when another node answers at the address', async () => {
  const { net, node } = world();
  const a = await node();
  const b = await node();
  const c = await node();
  const handled: string[] = [];
  b.transport.onRequest((from) => {
    handled.push(from.nodeId);
    return bytes('');
  });
  const err = await rejectsWith(net, a.transport.request({ nodeId: c.address.nodeId, host: b.address.host, port: b.address.port }, 0, bytes('')), 'PEER_KEY_MISMATCH');
  assert.equal(err.peer, c.address.nodeId);
  assert.deepEqual(handled, [], 'nothing was sent to the impostor');
});

test('NO_HANDLER, BUSY and FRAME_TOO_LARGE', async () => {
  const { net, node } = world();
  const a = await node({ maxFrameBytes: 1_000 });
  const b = await node({ maxInFlightRequests: 1 });
  await rejectsWith(net, a.transport.request(b.address, 0, bytes('')), 'NO_HANDLER');
  b.transport.onRequest(() => new Promise((resolve) => b.transport.timers.schedule(() => resolve(bytes('ok')), 100)));
  const first = a.transport.request(b.address, 0, bytes(''));
  const second = a.transport.request(b.address, 0, bytes(''));
  await rejectsWith(net, second, 'BUSY');
  assert.equal(text(await net.settle(first)), 'ok');
  await rejectsWith(net, a.transport.request(b.address, 0, new Uint8Array(1_000)), 'FRAME_TOO_LARGE');
  // Too large for b's frames: b answers with an error.
  b.transport.onRequest(() => new Uint8Array(2_000_000));
  await rejectsWith(net, a.transport.request(b.address, 0, bytes('')), 'FRAME_TOO_LARGE');
  // Fits b's frames but not a's: a drops the connection, as TLS does with an oversized frame.
  b.transport.onRequest(() => new Uint8Array(2_000));
  await rejectsWith(net, a.transport.request(b.address, 0, bytes('')), 'FRAME_TOO_LARGE');
  assert.equal(a.transport.stats().framesRejected, 1);
  assert.equal(a.transport.stats().connectionsOpen, 0);
  await net.runFor(100);
  assert.equal(b.transport.stats().connectionsOpen, 0);
});

test('bad arguments are RangeErrors, and an abort signal rejects with ABORTED', async () => {
  const { net, node } = world();
  const a = await node();
  const b = await node();
  assert.throws(() => a.transport.request({ ...b.address, nodeId: 'nope' }, 0, bytes('')), RangeError);
  assert.throws(() => a.transport.request(a.address, 0, bytes('')), RangeError);
  assert.throws(() => a.transport.request(b.address, 70_000, bytes('')), RangeError);
  assert.throws(() => a.transport.request(b.address, 0, bytes(''), { timeoutMs: 0 }), RangeError);
  b.transport.onRequest(() => bytes(''));
  const controller = new AbortController();
  const pending = a.transport.request(b.address, 0, bytes(''), { signal: controller.signal });
  controller.abort();
  await rejectsWith(net, pending, 'ABORTED');
});

test('close: pending requests fail with CLOSED, the peer sees CONNECTION_LOST, the address is free again', async () => {
  const { net, node } = world();
  const a = await node();
  const b = await node();
  const closes: string[] = [];
  a.transport.on('connection-close', (e) => closes.push(`a:${e.direction}:${e.reason?.code ?? 'orderly'}`));
  b.transport.on('connection-close', (e) => closes.push(`b:${e.direction}:${e.reason?.code ?? 'orderly'}`));
  // b answers nothing, so a's request stays in flight; a answers b slowly.
  b.transport.onRequest(() => new Promise<Uint8Array>(() => {}));
  a.transport.onRequest(() => new Promise<Uint8Array>(() => {}));
  const fromA = a.transport.request(b.address, 0, bytes(''));
  await net.runFor(100);
  const fromB = b.transport.request(a.address, 0, bytes(''));
  await net.runFor(5);
  await a.transport.close();
  await a.transport.close(); // idempotent
  await rejectsWith(net, fromA, 'CLOSED');
  await rejectsWith(net, fromB, 'CONNECTION_LOST');
  await assert.rejects(a.transport.request(b.address, 0, bytes('')), (e: unknown) => e instanceof TransportError && e.code === 'CLOSED');
  await assert.rejects(a.transport.probe(b.address), (e: unknown) => e instanceof TransportError && e.code === 'CLOSED');
  assert.deepEqual(closes, ['a:outbound:orderly', 'b:inbound:orderly']);
  assert.equal(a.transport.stats().connectionsOpen, 0);
  assert.equal(b.transport.stats().connectionsOpen, 0);
  await rejectsWith(net, b.transport.request(a.address, 0, bytes('')), 'UNREACHABLE');
  // A new process at the same address, with the same identity, is reachable again.
  const a2 = net.createTransport(seededIdentity(new SeededRandom(1)), {});
  assert.equal(a2.nodeId, a.transport.nodeId);
  await a2.listen({ host: a.address.host, port: a.address.port });
  a2.onRequest(() => bytes('reborn'));
  assert.equal(text(await net.settle(b.transport.request(a.address, 0, bytes('')))), 'reborn');
});

test('crash (refuse): requests in flight to the node fail with CONNECTION_LOST, new ones UNREACHABLE; its timers and requests stop', async () => {
  const { net, node } = world();
  const a = await node();
  const b = await node();
  const c = await node();
  b.transport.onRequest(() => new Promise<Uint8Array>(() => {}));
  c.transport.onRequest(() => new Promise<Uint8Array>(() => {}));
  let ticks = 0;
  const tick = (): void => {
    ticks++;
    b.transport.timers.schedule(tick, 10);
  };
  b.transport.timers.schedule(tick, 10);
  const toB = a.transport.request(b.address, 0, bytes(''));
  const fromB = b.transport.request(c.address, 0, bytes(''));
  fromB.catch(() => undefined); // it fails at the crash, before the test looks at it
  await net.runFor(100);
  net.crash(b.address.nodeId);
  const crashedAt = net.now();
  const ticksAtCrash = ticks;
  const lost = await rejectsWith(net, toB, 'CONNECTION_LOST');
  assert.match(lost.message, /reset/);
  assert.equal(net.now(), crashedAt + 10, 'the reset takes one latency');
  await rejectsWith(net, fromB, 'CLOSED');
  await rejectsWith(net, a.transport.request(b.address, 0, bytes('')), 'UNREACHABLE');
  await net.runFor(1_000);
  assert.equal(ticks, ticksAtCrash, 'a crashed node runs no more timers');
  assert.throws(() => net.crash(b.address.nodeId), RangeError, 'a node crashes once');
});

test('crash (silent): requests time out; new connections are UNREACHABLE after the connect timeout', async () => {
  const { net, node } = world();
  const a = await node({ connectTimeoutMs: 2_000 });
  const b = await node();
  b.transport.onRequest(() => bytes('ok'));
  await net.settle(a.transport.request(b.address, 0, bytes('')));
  net.crash(b.address.nodeId, 'silent');
  const start = net.now();
  await rejectsWith(net, a.transport.request(b.address, 0, bytes(''), { timeoutMs: 500 }), 'TIMEOUT');
  assert.equal(net.now(), start + 500);
  assert.equal(a.transport.stats().connectionsOpen, 1, 'nothing told a that the connection is dead');
  const c = await node({ connectTimeoutMs: 2_000 });
  const t0 = net.now();
  const err = await rejectsWith(net, c.transport.request(b.address, 0, bytes(''), { timeoutMs: 10_000 }), 'UNREACHABLE');
  assert.match(err.message, /2000 ms/);
  assert.equal(net.now(), t0 + 2_000);
  await rejectsWith(net, c.transport.probe(b.address, { timeoutMs: 700 }), 'TIMEOUT');
});

test('probe tells who is at an address (our own included) and pins nothing', async () => {
  const { net, node } = world();
  const a = await node();
  const b = await node();
  const who = await net.settle(a.transport.probe({ host: b.address.host, port: b.address.port }));
  assert.equal(who.nodeId, b.address.nodeId);
  assert.deepEqual(who.publicKey, b.transport.publicKey);
  assert.equal(net.now(), 40);
  assert.equal(a.transport.stats().connectionsOpen, 0);
  assert.equal((await net.settle(a.transport.probe(a.address))).nodeId, a.address.nodeId);
  await rejectsWith(net, a.transport.probe({ host: '10.1.1.1', port: 1 }), 'UNREACHABLE');
  await assert.rejects(a.transport.probe({ host: '', port: 1 }), RangeError);
});

test('a partition drops everything between its sides until healed; connections survive it', async () => {
  const { net, node } = world();
  const a = await node();
  const b = await node();
  const c = await node();
  for (const n of [a, b, c]) n.transport.onRequest(() => bytes(n.address.host));
  await net.settle(a.transport.request(b.address, 0, bytes('')));
  net.partition([a.address.nodeId], [b.address.nodeId, c.address.nodeId]);
  assert.equal(net.reachable(a.address.nodeId, b.address.nodeId), false);
  assert.equal(net.reachable(b.address.nodeId, c.address.nodeId), true);
  await rejectsWith(net, a.transport.request(b.address, 0, bytes(''), { timeoutMs: 1_000 }), 'TIMEOUT');
  await rejectsWith(net, a.transport.request(c.address, 0, bytes(''), { timeoutMs: 1_000 }), 'TIMEOUT');
  assert.equal(text(await net.settle(b.transport.request(c.address, 0, bytes('')))), c.address.host);
  net.heal();
  assert.equal(text(await net.settle(a.transport.request(b.address, 0, bytes('')))), b.address.host);
  assert.ok(net.counters.dropped > 0);
});

test('loss: a lost request or response is a TIMEOUT for the caller', async () => {
  const lossy: NetworkModel = { requestLoss: 1, responseLoss: 0, latency: { kind: 'constant', ms: 10 } };
  const { net, node } = world(lossy);
  const a = await node();
  const b = await node();
  let handled = 0;
  b.transport.onRequest(() => {
    handled++;
    return bytes('');
  });
  await rejectsWith(net, a.transport.request(b.address, 0, bytes(''), { timeoutMs: 1_000 }), 'TIMEOUT');
  assert.equal(handled, 0);
  assert.equal(net.counters.lost, 1);
});

test('settle() reports a promise that nothing will ever settle', async () => {
  const { net } = world();
  await assert.rejects(net.settle(new Promise(() => {})), SimulationStalledError);
  net.timers.schedule(() => {}, 10_000);
  await assert.rejects(net.settle(new Promise(() => {}), 1_000), SimulationStalledError);
});

test('seeded identities are real, distinct and reproducible', () => {
  const a = seededIdentity(new SeededRandom(5));
  const b = seededIdentity(new SeededRandom(5));
  const c = seededIdentity(new SeededRandom(6));
  assert.equal(a.nodeId, b.nodeId);
  assert.notEqual(a.nodeId, c.nodeId);
  assert.equal(a.privateKey.asymmetricKeyType, 'ed25519');
});
