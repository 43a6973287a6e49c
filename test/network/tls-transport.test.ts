import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { generateIdentity } from '../../src/node/identity.js';
import { TransportError, type TransportErrorCode } from '../../src/network/transport.js';
import { MAX_CONNECTIONS_PER_PEER } from '../../src/network/connection-pool.js';
import { type TestNode, bytes, closeAll, delay, rawTlsClient, startNode, text, waitFor } from './transport-helpers.js';

async function rejectsCode(promise: Promise<unknown>, code: TransportErrorCode, pattern?: RegExp): Promise<TransportError> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof TransportError, `expected a TransportError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

/** An echo handler that reports the caller and answers after a short, varying delay. */
function echoWithDelay(node: TestNode, maxConcurrentPerCaller: Map<string, number>): void {
  const current = new Map<string, number>();
  node.transport.onRequest(async (from, type, payload) => {
    const n = (current.get(from.nodeId) ?? 0) + 1;
    current.set(from.nodeId, n);
    maxConcurrentPerCaller.set(from.nodeId, Math.max(maxConcurrentPerCaller.get(from.nodeId) ?? 0, n));
    await delay(type % 3);
    current.set(from.nodeId, (current.get(from.nodeId) ?? 1) - 1);
    return bytes(`${node.identity.nodeId}|${from.nodeId}|${type}|${text(payload)}`);
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('two transports exchange requests both ways and know who called', async () => {
  const a = await startNode();
  const b = await startNode();
  try {
    a.transport.onRequest((from, type, payload) => bytes(`a got ${type}:${text(payload)} from ${from.nodeId}`));
    b.transport.onRequest(async (from, type, payload) => {
      assert.equal(from.remoteAddress.host, '127.0.0.1');
      assert.deepEqual(from.publicKey, a.identity.publicKey);
      return bytes(`b got ${type}:${text(payload)} from ${from.nodeId}`);
    });
    assert.equal(text(await a.transport.request(b.address, 7, bytes('hi'))), `b got 7:hi from ${a.identity.nodeId}`);
    assert.equal(text(await b.transport.request(a.address, 65535, bytes('yo'))), `a got 65535:yo from ${b.identity.nodeId}`);
    assert.equal((await a.transport.request(b.address, 0, new Uint8Array(0))).length > 0, true);
  } finally {
    await closeAll([a, b]);
  }
});

test('three transports, hundreds of concurrent requests every way, in-flight bounded, one connection per pair', async () => {
  const maxInFlightRequests = 16;
  const nodes = await Promise.all([0, 1, 2].map(() => startNode({ maxInFlightRequests })));
  const concurrency = nodes.map(() => new Map<string, number>());
  nodes.forEach((n, i) => echoWithDelay(n, concurrency[i]));
  try {
    // Warm up one connection per pair first, so the count below is about reuse, not dial races.
    await Promise.all([[0, 1], [0, 2], [1, 2]].map(([i, j]) => nodes[i].transport.request(nodes[j].address, 1, bytes('warm'))));
    const perPair = 200;
    const calls: Promise<void>[] = [];
    for (const [i, from] of nodes.entries()) {
      for (const [j, to] of nodes.entries()) {
        if (i === j) continue;
        for (let k = 0; k < perPair; k++) {
          calls.push(from.transport.request(to.address, k, bytes(`m${k}`)).then((res) => {
            assert.equal(text(res), `${to.identity.nodeId}|${from.identity.nodeId}|${k}|m${k}`);
          }));
        }
      }
    }
    await Promise.all(calls);
    for (const [i, node] of nodes.entries()) {
      const stats = node.transport.stats();
      assert.equal(stats.connectionsOpen, 2, `node ${i} has one connection to each of the two others`);
      assert.equal(stats.connectionsDialled + stats.connectionsAccepted, 2, `node ${i} made or took exactly two connections`);
      assert.equal(stats.requestsFailed, 0);
      assert.equal(stats.requestsHandled, 2 * perPair + 2 - (i === 0 ? 2 : i === 1 ? 1 : 0));
      assert.ok(stats.bytesIn > 0 && stats.bytesOut > 0);
      for (const [caller, max] of concurrency[i]) {
        assert.ok(max <= maxInFlightRequests, `${caller} had ${max} requests in flight at node ${i}`);
      }
    }
    // The bound was actually reached, so the queueing path ran.
    assert.ok([...concurrency[0].values()].some((m) => m === maxInFlightRequests));
  } finally {
    await closeAll(nodes);
  }
});

test('connection reuse: many requests, both directions, one TLS connection', async () => {
  const a = await startNode();
  const b = await startNode();
  a.transport.onRequest(() => bytes('from a'));
  b.transport.onRequest(() => bytes('from b'));
  try {
    for (let i = 0; i < 200; i++) await a.transport.request(b.address, 1, bytes('x'));
    await Promise.all(Array.from({ length: 200 }, () => b.transport.request(a.address, 1, bytes('y'))));
    assert.equal(a.transport.stats().connectionsDialled, 1);
    assert.equal(a.transport.stats().connectionsAccepted, 0);
    assert.equal(b.transport.stats().connectionsAccepted, 1);
    assert.equal(b.transport.stats().connectionsDialled, 0, 'b answered over the connection a dialled');
    assert.equal(b.transport.stats().requestsHandled, 200);
    assert.equal(a.transport.stats().requestsHandled, 200);
  } finally {
    await closeAll([a, b]);
  }
});

test('simultaneous dials from both sides settle on one connection without failing a request', async () => {
  for (let round = 0; round < 5; round++) {
    const a = await startNode();
    const b = await startNode();
    a.transport.onRequest(() => bytes('a'));
    b.transport.onRequest(() => bytes('b'));
    try {
      const calls = [];
      for (let i = 0; i < 50; i++) {
        calls.push(a.transport.request(b.address, 1, bytes('')), b.transport.request(a.address, 1, bytes('')));
      }
      const results = await Promise.all(calls);
      assert.equal(results.length, 100);
      assert.equal(a.transport.stats().connectionsDialled, 1, 'both sides dialled');
      assert.equal(b.transport.stats().connectionsDialled, 1, 'both sides dialled');
      // Both dialled; the duplicate is retired by both sides and closes once drained.
      await waitFor(() => a.transport.stats().connectionsOpen === 1 && b.transport.stats().connectionsOpen === 1, 'one connection per side');
      await a.transport.request(b.address, 1, bytes(''));
      await b.transport.request(a.address, 1, bytes(''));
      assert.equal(a.transport.stats().connectionsOpen, 1);
      assert.equal(a.transport.stats().requestsFailed + b.transport.stats().requestsFailed, 0);
    } finally {
      await closeAll([a, b]);
    }
  }
});

test('a node whose key does not match the dialled node id is refused; the server keeps serving', async () => {
  const a = await startNode();
  const b = await startNode();
  const c = await startNode();
  b.transport.onRequest((from) => bytes(`hello ${from.nodeId}`));
  try {
    const impostor = { nodeId: c.identity.nodeId, host: b.address.host, port: b.address.port };
    await rejectsCode(a.transport.request(impostor, 1, bytes('')), 'PEER_KEY_MISMATCH', new RegExp(`proved the key of ${b.identity.nodeId}, not of ${c.identity.nodeId}`));
    await rejectsCode(a.transport.openStream(impostor, 'bulk'), 'PEER_KEY_MISMATCH');
    assert.ok(a.logs.some((l) => l.includes(`is ${b.identity.nodeId}, not ${c.identity.nodeId}`)));
    assert.equal(text(await a.transport.request(b.address, 1, bytes(''))), `hello ${a.identity.nodeId}`);
    assert.equal(text(await c.transport.request(b.address, 1, bytes(''))), `hello ${c.identity.nodeId}`);
    assert.equal(a.transport.stats().connectionsOpen, 1);
  } finally {
    await closeAll([a, b, c]);
  }
});

test('a request to a peer that never answers times out; the connection stays usable', async () => {
  const a = await startNode();
  const b = await startNode();
  b.transport.onRequest((_from, type) => (type === 1 ? new Promise<Uint8Array>(() => {}) : bytes('ok')));
  try {
    await rejectsCode(a.transport.request(b.address, 1, bytes(''), { timeoutMs: 100 }), 'TIMEOUT', /timed out after 100 ms/);
    assert.equal(text(await a.transport.request(b.address, 2, bytes(''))), 'ok');
    assert.equal(a.transport.stats().connectionsDialled, 1);
    assert.equal(a.transport.stats().requestsFailed, 1);
  } finally {
    await closeAll([a, b]);
  }
});

test('an aborted request rejects with ABORTED', async () => {
  const a = await startNode();
  const b = await startNode();
  b.transport.onRequest(() => new Promise<Uint8Array>(() => {}));
  try {
    const controller = new AbortController();
    const pending = a.transport.request(b.address, 1, bytes(''), { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await rejectsCode(pending, 'ABORTED');
    await rejectsCode(a.transport.request(b.address, 1, bytes(''), { signal: AbortSignal.abort() }), 'ABORTED');
  } finally {
    await closeAll([a, b]);
  }
});

test('an unreachable address fails fast with UNREACHABLE', async () => {
  const a = await startNode();
  try {
    const nowhere = { nodeId: generateIdentity().nodeId, host: '127.0.0.1', port: await freePort() };
    await rejectsCode(a.transport.request(nowhere, 1, bytes(''), { timeoutMs: 60_000 }), 'UNREACHABLE', /ECONNREFUSED/);
    await rejectsCode(a.transport.openStream(nowhere, 'bulk'), 'UNREACHABLE');
    assert.equal(a.transport.stats().connectionsOpen, 0);
  } finally {
    await a.transport.close();
  }
});

test('handler errors reach the caller as REMOTE_ERROR with the message; the transport is unaffected', async () => {
  const a = await startNode();
  const b = await startNode();
  b.transport.onRequest((_from, type) => {
    if (type === 1) throw new Error('sync failure in handler');
    if (type === 2) return Promise.reject(new Error('async failure in handler'));
    if (type === 3) return 'not bytes' as unknown as Uint8Array;
    if (type === 4) return new Uint8Array(2 * 1024 * 1024);
    return bytes('fine');
  });
  try {
    await rejectsCode(a.transport.request(b.address, 1, bytes('')), 'REMOTE_ERROR', /sync failure in handler/);
    await rejectsCode(a.transport.request(b.address, 2, bytes('')), 'REMOTE_ERROR', /async failure in handler/);
    await rejectsCode(a.transport.request(b.address, 3, bytes('')), 'REMOTE_ERROR', /returned string, not bytes/);
    await rejectsCode(a.transport.request(b.address, 4, bytes('')), 'FRAME_TOO_LARGE', /response of 2097152 bytes/);
    assert.equal(text(await a.transport.request(b.address, 5, bytes(''))), 'fine');
    assert.equal(a.transport.stats().connectionsDialled, 1, 'errors did not cost the connection');
  } finally {
    await closeAll([a, b]);
  }
});

test('no handler, oversized requests and an overloaded peer give their own errors', async () => {
  const a = await startNode({ maxInFlightRequests: 8, maxFrameBytes: 4096 });
  const b = await startNode({ maxInFlightRequests: 2 });
  try {
    await rejectsCode(a.transport.request(b.address, 1, bytes('')), 'NO_HANDLER');
    await rejectsCode(a.transport.request(b.address, 1, new Uint8Array(4096)), 'FRAME_TOO_LARGE', /exceeds the maximum of 4088/);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    b.transport.onRequest(async () => {
      await gate;
      return bytes('done');
    });
    const results = Array.from({ length: 6 }, () => a.transport.request(b.address, 1, bytes('')).then(
      () => 'ok',
      (err: TransportError) => err.code,
    ));
    await waitFor(() => b.transport.stats().requestsHandled >= 2 && a.transport.stats().requestsFailed >= 5, 'busy answers');
    release();
    const outcomes = await Promise.all(results);
    assert.equal(outcomes.filter((o) => o === 'ok').length, 2);
    assert.equal(outcomes.filter((o) => o === 'BUSY').length, 4);
  } finally {
    await closeAll([a, b]);
  }
});

test('bad arguments are RangeErrors', async () => {
  const a = await startNode();
  try {
    const peer = { nodeId: generateIdentity().nodeId, host: '127.0.0.1', port: 1 };
    await assert.rejects(a.transport.request({ ...peer, nodeId: 'pcnope' }, 1, bytes('')), RangeError);
    await assert.rejects(a.transport.request(a.address, 1, bytes('')), /is this node/);
    await assert.rejects(a.transport.request(peer, 70000, bytes('')), /type must be an integer in 0..65535/);
    await assert.rejects(a.transport.request(peer, 1.5, bytes('')), RangeError);
    await assert.rejects(a.transport.request({ ...peer, port: 0 }, 1, bytes('')), /port/);
    await assert.rejects(a.transport.request(peer, 1, 'x' as unknown as Uint8Array), /payload/);
    await assert.rejects(a.transport.request(peer, 1, bytes(''), { timeoutMs: -1 }), /timeoutMs/);
    await assert.rejects(a.transport.openStream(peer, 'no spaces'), /invalid purpose/);
    await assert.rejects(a.transport.listen({ host: '127.0.0.1', port: 0 }), /already listening/);
  } finally {
    await a.transport.close();
  }
});

test('idle connections are retired with GOAWAY and closed on both sides; the next request redials', async () => {
  const a = await startNode({ idleTimeoutMs: 100 });
  const b = await startNode({ idleTimeoutMs: 60_000 });
  b.transport.onRequest(() => bytes('b'));
  const closes: (TransportError | undefined)[] = [];
  b.transport.on('connection-close', (e) => closes.push(e.reason));
  try {
    await a.transport.request(b.address, 1, bytes(''));
    await waitFor(() => a.transport.stats().connectionsOpen === 0 && b.transport.stats().connectionsOpen === 0, 'idle close');
    assert.deepEqual(closes, [undefined], 'an orderly close, no error');
    await a.transport.request(b.address, 1, bytes(''));
    assert.equal(a.transport.stats().connectionsDialled, 2);
  } finally {
    await closeAll([a, b]);
  }
});

test('at the connection limit an idle connection makes room; with none idle the dial is refused', async () => {
  const a = await startNode({ maxConnections: 1 });
  const b = await startNode();
  const c = await startNode();
  b.transport.onRequest((_f, type) => (type === 9 ? new Promise<Uint8Array>(() => {}) : bytes('b')));
  c.transport.onRequest(() => bytes('c'));
  try {
    await a.transport.request(b.address, 1, bytes(''));
    assert.equal(text(await a.transport.request(c.address, 1, bytes(''))), 'c');
    await waitFor(() => a.transport.stats().connectionsOpen === 1, 'the idle connection to b closed');
    // Keep the connection to b busy: now nothing can be retired for c.
    const hanging = a.transport.request(b.address, 9, bytes(''), { timeoutMs: 60_000 }).catch((e: TransportError) => e.code);
    await waitFor(() => b.transport.stats().requestsHandled >= 2, 'the hanging request reached b');
    await rejectsCode(a.transport.request(c.address, 1, bytes('')), 'TOO_MANY_CONNECTIONS');
    await a.transport.close();
    assert.equal(await hanging, 'CLOSED');
  } finally {
    await closeAll([a, b, c]);
  }
});

test('inbound connections beyond the limit are refused and counted', async () => {
  const b = await startNode({ maxInboundConnections: 1 });
  const a = await startNode();
  const c = await startNode();
  b.transport.onRequest(() => new Promise<Uint8Array>(() => {}));
  try {
    const hanging = a.transport.request(b.address, 1, bytes(''), { timeoutMs: 60_000 }).catch((e: TransportError) => e.code);
    await waitFor(() => b.transport.stats().requestsHandled === 1, 'a holds the only inbound slot');
    const refused = await c.transport.request(b.address, 1, bytes('')).catch((e: TransportError) => e.code);
    assert.equal(refused, 'CONNECTION_LOST');
    assert.equal(b.transport.stats().connectionsRejected, 1);
    assert.ok(b.logs.some((l) => /rejected connection .*limit of 1 inbound/.test(l)));
    await a.transport.close();
    assert.equal(await hanging, 'CLOSED');
  } finally {
    await closeAll([a, b, c]);
  }
});

test('a peer that keeps reconnecting holds at most a few connections', async () => {
  const b = await startNode();
  b.transport.onRequest(() => bytes('b'));
  const caller = generateIdentity();
  const sockets = [];
  try {
    for (let i = 0; i < 6; i++) {
      // Each raw connection from the same identity supersedes the previous one, which only drains.
      const socket = await rawTlsClient(b.address.port, caller);
      socket.on('error', () => {});
      sockets.push(socket);
      await waitFor(() => b.transport.stats().connectionsAccepted === i + 1, 'the connection to be taken');
    }
    await waitFor(() => b.transport.stats().connectionsOpen <= MAX_CONNECTIONS_PER_PEER, 'old connections to be dropped');
    assert.equal(b.transport.stats().connectionsOpen, MAX_CONNECTIONS_PER_PEER);
  } finally {
    for (const s of sockets) s.destroy();
    await b.transport.close();
  }
});

test('close() fails pending requests with CLOSED, refuses new ones and is idempotent', async () => {
  const a = await startNode();
  const b = await startNode();
  b.transport.onRequest(() => new Promise<Uint8Array>(() => {}));
  try {
    const pending = a.transport.request(b.address, 1, bytes(''));
    await waitFor(() => b.transport.stats().requestsHandled === 1, 'the request reached b');
    const closing = a.transport.close();
    await rejectsCode(pending, 'CLOSED');
    await closing;
    await a.transport.close();
    await rejectsCode(a.transport.request(b.address, 1, bytes('')), 'CLOSED');
    await assert.rejects(a.transport.listen({ host: '127.0.0.1', port: 0 }), (e: TransportError) => e.code === 'CLOSED');
    // b notices the connection went away.
    await waitFor(() => b.transport.stats().connectionsOpen === 0, 'b saw the close');
  } finally {
    await closeAll([a, b]);
  }
});
