import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { SeededRandom } from '../../../src/core/random.js';
import { type PeerAddress, TransportError, type TransportErrorCode } from '../../../src/network/transport.js';
import { seededIdentity } from '../../../src/simulator/transport/seeded-identity.js';
import { SimulatedNetwork } from '../../../src/simulator/transport/simulated-network.js';
import type { SimulatedTransport, SimulatedTransportOptions } from '../../../src/simulator/transport/simulated-transport.js';

function world() {
  const net = new SimulatedNetwork({ seed: 3, model: { requestLoss: 0, responseLoss: 0, latency: { kind: 'constant', ms: 10 } }, startTime: 0 });
  const ids = new SeededRandom(3);
  let hosts = 0;
  const node = async (options: SimulatedTransportOptions = {}): Promise<{ transport: SimulatedTransport; address: PeerAddress }> => {
    const transport = net.createTransport(seededIdentity(ids), options);
    const bound = await transport.listen({ host: `10.0.0.${++hosts}`, port: 7000 });
    return { transport, address: { nodeId: transport.nodeId, ...bound } };
  };
  return { net, node };
}

/** Everything a stream delivers until it ends. */
function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

async function rejectsWith(net: SimulatedNetwork, promise: Promise<unknown>, code: TransportErrorCode): Promise<void> {
  await assert.rejects(net.settle(promise), (err: unknown) => err instanceof TransportError && err.code === code);
}

test('a stream carries a request and the acceptor\'s answer to its end, then both sides close', async () => {
  const { net, node } = world();
  const a = await node();
  const b = await node();
  let purposeSeen = '';
  b.transport.onStream((from, purpose, stream) => {
    purposeSeen = `${purpose} from ${from.nodeId}`;
    let got = '';
    stream.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.length === 5) stream.end(Buffer.from(`echo:${got}:${'x'.repeat(100_000)}`));
    });
  });
  const stream = await net.settle(a.transport.openStream(b.address, 'vm-image/v1'));
  assert.equal(purposeSeen, `vm-image/v1 from ${a.address.nodeId}`);
  assert.equal(a.transport.stats().streamsOpen, 1);
  assert.equal(b.transport.stats().streamsOpen, 1);
  stream.write('hello');
  const answer = await net.settle(readAll(stream));
  assert.equal(answer.toString().slice(0, 11), 'echo:hello:');
  assert.equal(answer.length, 11 + 100_000);
  await net.runFor(100);
  assert.equal(a.transport.stats().streamsOpen, 0, 'both sides closed');
  assert.equal(b.transport.stats().streamsOpen, 0);
  assert.equal(a.transport.stats().bytesIn, b.transport.stats().bytesOut);
  assert.equal(a.transport.stats().bytesOut, 5);
});

test('opening a stream: NO_HANDLER, UNREACHABLE, PEER_KEY_MISMATCH, stream limits, bad purpose', async () => {
  const { net, node } = world();
  const a = await node({ maxStreams: 1 });
  const b = await node({ maxStreams: 1 });
  const c = await node();
  await rejectsWith(net, a.transport.openStream(b.address, 'x'), 'NO_HANDLER');
  await rejectsWith(net, a.transport.openStream({ ...b.address, host: '10.9.9.9' }, 'x'), 'UNREACHABLE');
  await rejectsWith(net, a.transport.openStream({ ...b.address, nodeId: c.address.nodeId }, 'x'), 'PEER_KEY_MISMATCH');
  await assert.rejects(a.transport.openStream(b.address, 'no spaces'), RangeError);
  b.transport.onStream(() => {});
  c.transport.onStream(() => {});
  await net.settle(a.transport.openStream(b.address, 'one'));
  await rejectsWith(net, a.transport.openStream(c.address, 'two'), 'TOO_MANY_CONNECTIONS');
  await rejectsWith(net, c.transport.openStream(b.address, 'two'), 'BUSY');
  assert.equal(b.transport.stats().connectionsRejected, 1);
});

test('backpressure: a writer stalls while the reader does not read, and drains once it does', async () => {
  const { net, node } = world();
  const a = await node({ streamWindowBytes: 4_096 });
  const b = await node();
  let inbound: Duplex | undefined;
  b.transport.onStream((_from, _purpose, stream) => {
    inbound = stream;
    stream.pause();
  });
  const stream = await net.settle(a.transport.openStream(b.address, 'bulk'));
  // 100 KiB written at once: most of it must wait in the writer.
  const chunk = Buffer.alloc(1_024, 7);
  const written = 100 * chunk.length;
  let accepted = true;
  for (let i = 0; i < 100; i++) accepted = stream.write(chunk);
  assert.equal(accepted, false, 'write() says stop');
  let drained = false;
  stream.once('drain', () => {
    drained = true;
  });
  await net.runFor(5_000);
  assert.equal(drained, false, 'no drain while the reader sleeps');
  // What got through: the reader's buffer (16 KiB, Node's default) plus the 4 KiB window.
  assert.equal(b.transport.stats().bytesIn, 16_384 + 4_096);
  let received = 0;
  inbound!.on('data', (c: Buffer) => {
    received += c.length;
  });
  inbound!.resume();
  await net.settle(once(stream, 'drain'));
  await net.runFor(100);
  assert.equal(received, written);
});

test('a crashed peer resets its streams (refuse) or leaves them hanging (silent)', async () => {
  const { net, node } = world();
  const a = await node();
  const b = await node();
  const c = await node();
  for (const n of [b, c]) n.transport.onStream(() => {});
  const toB = await net.settle(a.transport.openStream(b.address, 's'));
  const toC = await net.settle(a.transport.openStream(c.address, 's'));
  const errors: string[] = [];
  toB.on('error', (e: Error) => errors.push(`b:${(e as TransportError).code}`));
  toC.on('error', (e: Error) => errors.push(`c:${(e as TransportError).code}`));
  net.crash(b.address.nodeId);
  net.crash(c.address.nodeId, 'silent');
  await net.runFor(1_000);
  assert.deepEqual(errors, ['b:CONNECTION_LOST']);
  assert.equal(toB.destroyed, true);
  assert.equal(toC.destroyed, false);
  await a.transport.close();
  assert.equal(toC.destroyed, true, 'close destroys our streams');
});
