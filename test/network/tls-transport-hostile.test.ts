/**
 * Misbehaving clients against a live transport: each must cost only its own connection (closed,
 * counted, logged) while a well-behaved peer keeps being served.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { generateIdentity } from '../../src/node/identity.js';
import { FrameKind, encodeFrame } from '../../src/network/framing.js';
import { ALPN_STREAM } from '../../src/network/tls-transport.js';
import {
  type TestNode,
  bytes,
  closedSocket,
  rawTcpClient,
  rawTlsClient,
  startNode,
  text,
  waitFor,
} from './transport-helpers.js';

let server: TestNode;
let good: TestNode;

before(async () => {
  server = await startNode({ idleTimeoutMs: 300 });
  good = await startNode();
  server.transport.onRequest((from, _type, payload) => bytes(`${from.nodeId}:${text(payload)}`));
});

after(async () => {
  await Promise.all([server.transport.close(), good.transport.close()]);
});

/** The well-behaved peer still gets answers. */
async function stillServes(): Promise<void> {
  assert.equal(text(await good.transport.request(server.address, 1, bytes('ping'))), `${good.identity.nodeId}:ping`);
}

/** Runs `misbehave`, then checks the server closed that connection, counted it once and logged `reason`. */
async function expectRejected(counter: 'framesRejected' | 'connectionsRejected', reason: RegExp, misbehave: () => Promise<import('node:net').Socket>): Promise<void> {
  const before = server.transport.stats()[counter];
  const logsBefore = server.logs.length;
  const socket = await misbehave();
  await closedSocket(socket);
  await waitFor(() => server.transport.stats()[counter] === before + 1, `${counter} to be incremented`);
  const newLogs = server.logs.slice(logsBefore);
  assert.ok(newLogs.some((l) => reason.test(l)), `expected a log matching ${reason}, got ${JSON.stringify(newLogs)}`);
  await stillServes();
}

test('a raw TCP client sending garbage fails the handshake', async () => {
  await expectRejected('connectionsRejected', /TLS handshake failed/, async () => {
    const socket = await rawTcpClient(server.address.port);
    socket.write(randomBytes(512));
    return socket;
  });
});

test('a TCP client that connects and says nothing is dropped by the handshake timeout', async () => {
  const node = await startNode({ connectTimeoutMs: 200 });
  try {
    const socket = await rawTcpClient(node.address.port);
    await closedSocket(socket);
    await waitFor(() => node.transport.stats().connectionsRejected === 1, 'the rejection');
  } finally {
    await node.transport.close();
  }
});

test('a TLS client without a certificate is refused', async () => {
  await expectRejected('connectionsRejected', /presented no certificate/, () => rawTlsClient(server.address.port, undefined));
});

test('a TLS client offering no peercloud protocol is refused', async () => {
  await expectRejected('connectionsRejected', /no peercloud protocol/, () => rawTlsClient(server.address.port, generateIdentity(), null));
});

test('a frame announcing 2 GiB closes the connection without allocating it', async () => {
  await expectRejected('framesRejected', /2147483648 bytes exceeds the maximum of 1048576/, async () => {
    const socket = await rawTlsClient(server.address.port, generateIdentity());
    socket.write(Buffer.from([0x80, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1]));
    return socket;
  });
});

test('a truncated frame (connection ended mid-frame) is rejected', async () => {
  await expectRejected('framesRejected', /truncated frame/, async () => {
    const socket = await rawTlsClient(server.address.port, generateIdentity());
    const frame = encodeFrame(FrameKind.Request, 1, 1, new Uint8Array(100));
    socket.end(frame.subarray(0, 60));
    return socket;
  });
});

test('a frame that stalls half-way is rejected after the idle timeout', async () => {
  await expectRejected('framesRejected', /frame stalled/, async () => {
    const socket = await rawTlsClient(server.address.port, generateIdentity());
    socket.write(encodeFrame(FrameKind.Request, 1, 1, new Uint8Array(100)).subarray(0, 30));
    return socket;
  });
});

test('random bytes after a valid handshake close the connection', async () => {
  for (let i = 0; i < 5; i++) {
    await expectRejected('framesRejected', /closing connection with pc/, async () => {
      const socket = await rawTlsClient(server.address.port, generateIdentity());
      // A first byte of 0xff makes the length exceed the maximum whatever follows.
      socket.write(Buffer.concat([Buffer.from([0xff]), randomBytes(4096)]));
      return socket;
    });
  }
});

test('malformed frames inside valid lengths are protocol errors', async () => {
  const cases: [string, Buffer, RegExp][] = [
    ['bad version', Buffer.from([0, 0, 0, 8, 9, 0, 0, 0, 0, 1, 0, 1]), /unsupported frame version 9/],
    ['unknown kind', Buffer.from([0, 0, 0, 8, 1, 77, 0, 0, 0, 1, 0, 1]), /unknown frame kind 77/],
    ['length shorter than the header', Buffer.from([0, 0, 0, 3, 1, 0, 0]), /shorter than the 8-byte header/],
    ['request id 0', encodeFrame(FrameKind.Request, 0, 1, new Uint8Array(0)), /reserved id 0/],
    ['GOAWAY with a payload', encodeFrame(FrameKind.GoAway, 0, 0, new Uint8Array(3)), /malformed GOAWAY/],
    ['error frame with garbage', encodeFrame(FrameKind.Error, 5, 1, new Uint8Array([200])), /unknown remote error code 200/],
  ];
  for (const [name, frame, reason] of cases) {
    await expectRejected('framesRejected', reason, async () => {
      const socket = await rawTlsClient(server.address.port, generateIdentity());
      socket.write(frame);
      return socket;
    }).catch((err: Error) => {
      throw new Error(`${name}: ${err.message}`);
    });
  }
});

test('a stream with a bad header is refused', async () => {
  await expectRejected('framesRejected', /refused stream .*stream purpose length 0/, async () => {
    const socket = await rawTlsClient(server.address.port, generateIdentity(), ALPN_STREAM);
    socket.write(Buffer.from([1, 0]));
    socket.resume();
    return socket;
  });
});

test('a well-formed request from a raw client is answered, so the cases above fail for their own reason', async () => {
  const caller = generateIdentity();
  const socket = await rawTlsClient(server.address.port, caller);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const expected = encodeFrame(FrameKind.Response, 1, 1, bytes(`${caller.nodeId}:raw`));
  socket.write(encodeFrame(FrameKind.Request, 1, 1, bytes('raw')));
  await waitFor(() => Buffer.concat(chunks).length >= expected.length, 'a response');
  assert.deepEqual(Buffer.concat(chunks), expected);
  // PING is answered by a PONG with the same id and payload.
  chunks.length = 0;
  socket.write(encodeFrame(FrameKind.Ping, 77, 0, bytes('hello')));
  const pong = encodeFrame(FrameKind.Pong, 77, 0, bytes('hello'));
  await waitFor(() => Buffer.concat(chunks).length >= pong.length, 'a pong');
  assert.deepEqual(Buffer.concat(chunks), pong);
  socket.destroy();
});
