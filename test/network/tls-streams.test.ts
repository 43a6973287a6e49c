import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import type { RemotePeer, TransportError } from '../../src/network/transport.js';
import { closeAll, delay, startNode, waitFor } from './transport-helpers.js';

interface Accepted {
  from: RemotePeer;
  purpose: string;
  stream: Duplex;
}

/**
 * Reads a stream's readable side to its end without destroying it (a for-await loop would, and so
 * close the writable side the test still needs).
 */
function consume(stream: Duplex, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('data', onChunk);
    stream.once('end', resolve);
    stream.once('error', reject);
  });
}

async function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await consume(stream, (c) => chunks.push(c));
  return Buffer.concat(chunks);
}

test('a 64 MiB stream arrives intact, and the sender is held back while the receiver does not read', async () => {
  const a = await startNode();
  const b = await startNode();
  try {
    const accepted = new Promise<Accepted>((resolve) => b.transport.onStream((from, purpose, stream) => resolve({ from, purpose, stream })));
    const stream = await a.transport.openStream(b.address, 'vm-image/v1');
    const total = 64 * 1024 * 1024;
    const chunkBytes = 64 * 1024;
    let produced = 0;
    const sentHash = createHash('sha256');
    const source = new Readable({
      read() {
        if (produced >= total) {
          this.push(null);
          return;
        }
        const chunk = randomBytes(chunkBytes);
        produced += chunk.length;
        sentHash.update(chunk);
        this.push(chunk);
      },
    });
    // The sender does not end the stream: it expects the receiver's hash back, then the end.
    const sending = pipeline(source, stream, { end: false });
    const incoming = await accepted;
    assert.equal(incoming.from.nodeId, a.identity.nodeId);
    assert.equal(incoming.purpose, 'vm-image/v1');

    // The receiver reads nothing yet: wait until the sender stops producing, then check it stopped
    // early. Without backpressure all 64 MiB would be produced and buffered.
    let last = -1;
    let stableSamples = 0;
    while (stableSamples < 5) {
      await delay(40);
      stableSamples = produced === last ? stableSamples + 1 : 0;
      last = produced;
    }
    assert.ok(produced < total / 4, `the sender produced ${produced} bytes while the receiver was not reading`);
    assert.equal(stream.writableNeedDrain, true, 'the sender is waiting for drain');

    const receivedHash = createHash('sha256');
    let received = 0;
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        receivedHash.update(chunk);
        received += chunk.length;
        if (received >= total) {
          incoming.stream.off('data', onData);
          resolve();
        }
      };
      incoming.stream.on('data', onData);
    });
    await sending;
    assert.equal(received, total);
    const digest = receivedHash.digest();
    incoming.stream.end(digest);
    const reply = await readAll(stream);
    assert.deepEqual(reply, sentHash.digest(), 'the receiver hashed what the sender sent');
    await waitFor(() => a.transport.stats().streamsOpen === 0 && b.transport.stats().streamsOpen === 0, 'streams to close');
    assert.ok(b.transport.stats().bytesIn >= total);
    assert.equal(a.transport.stats().connectionsOpen, 0, 'streams do not use message connections');
  } finally {
    await closeAll([a, b]);
  }
});

test('streams are refused without a handler and beyond the limits', async () => {
  const a = await startNode({ maxStreams: 2 });
  const b = await startNode({ maxStreams: 1 });
  const c = await startNode();
  try {
    await assert.rejects(a.transport.openStream(b.address, 'x'), (e: TransportError) => e.code === 'NO_HANDLER' && /no handler for stream x/.test(e.message));
    const held: Duplex[] = [];
    b.transport.onStream((_from, _purpose, stream) => held.push(stream));
    c.transport.onStream((_from, _purpose, stream) => held.push(stream));
    const first = await a.transport.openStream(b.address, 'x');
    await waitFor(() => held.length === 1, 'b to take the stream');
    await assert.rejects(a.transport.openStream(b.address, 'x'), (e: TransportError) => e.code === 'BUSY');
    assert.equal(b.transport.stats().connectionsRejected, 1);
    const second = await a.transport.openStream(c.address, 'y');
    await assert.rejects(a.transport.openStream(c.address, 'z'), (e: TransportError) => e.code === 'TOO_MANY_CONNECTIONS');
    assert.equal(a.transport.stats().streamsOpen, 2);
    first.destroy();
    second.destroy();
    await waitFor(() => a.transport.stats().streamsOpen === 0, 'streams closed');
  } finally {
    await closeAll([a, b, c]);
  }
});

test('a stream handler that throws loses only its stream', async () => {
  const a = await startNode();
  const b = await startNode();
  try {
    b.transport.onStream((_from, purpose, stream) => {
      if (purpose === 'bad') throw new Error('handler bug');
      stream.end(Buffer.from('ok'));
    });
    const bad = await a.transport.openStream(b.address, 'bad');
    bad.on('error', () => {});
    // The acceptor's side is gone: the opener reads the end of the stream (and gets no data).
    assert.equal((await readAll(bad)).length, 0);
    await new Promise((resolve) => (bad.closed ? resolve(undefined) : bad.once('close', resolve)));
    assert.ok(b.logs.some((l) => /stream handler for bad .* threw: handler bug/.test(l)));
    const good = await a.transport.openStream(b.address, 'good');
    assert.equal((await readAll(good)).toString(), 'ok');
  } finally {
    await closeAll([a, b]);
  }
});

test('close() tears down open streams on both ends', async () => {
  const a = await startNode();
  const b = await startNode();
  try {
    const accepted = new Promise<Duplex>((resolve) => b.transport.onStream((_from, _purpose, stream) => resolve(stream)));
    const stream = await a.transport.openStream(b.address, 'long');
    const incoming = await accepted;
    incoming.on('error', () => {});
    const incomingClosed = new Promise((resolve) => incoming.once('close', resolve));
    await a.transport.close();
    assert.equal(stream.destroyed, true);
    await incomingClosed;
    await waitFor(() => b.transport.stats().streamsOpen === 0, 'b to count the stream closed');
  } finally {
    await closeAll([a, b]);
  }
});
