import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FRAME_HEADER_BYTES,
  FRAME_PREFIX_BYTES,
  type Frame,
  FrameDecoder,
  FrameKind,
  MAX_REMOTE_ERROR_MESSAGE_BYTES,
  RemoteErrorCode,
  decodeErrorPayload,
  encodeErrorPayload,
  encodeFrame,
} from '../../src/network/framing.js';
import { TransportError } from '../../src/network/transport.js';

function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) decoder.push(chunk, (f) => frames.push(f));
  return frames;
}

function throwsCode(fn: () => void, code: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof TransportError && err.code === code && pattern.test(err.message));
}

test('frames round-trip whole, byte by byte, and several per chunk', () => {
  const frames = [
    encodeFrame(FrameKind.Request, 1, 300, new Uint8Array([1, 2, 3])),
    encodeFrame(FrameKind.Response, 1, 300, new Uint8Array(0)),
    encodeFrame(FrameKind.Error, 0xffffffff, 0xffff, encodeErrorPayload(RemoteErrorCode.Busy, 'busy')),
  ];
  const all = Buffer.concat(frames);
  const expected = [
    { kind: FrameKind.Request, requestId: 1, type: 300, payload: [1, 2, 3] },
    { kind: FrameKind.Response, requestId: 1, type: 300, payload: [] },
    { kind: FrameKind.Error, requestId: 0xffffffff, type: 0xffff, payload: [...encodeErrorPayload(RemoteErrorCode.Busy, 'busy')] },
  ];
  const simplify = (fs: Frame[]) => fs.map((f) => ({ ...f, payload: [...f.payload] }));
  assert.deepEqual(simplify(decodeAll(new FrameDecoder(1024), [all])), expected);
  assert.deepEqual(simplify(decodeAll(new FrameDecoder(1024), [...all].map((b) => new Uint8Array([b])))), expected);
  assert.deepEqual(simplify(decodeAll(new FrameDecoder(1024), [all.subarray(0, 5), all.subarray(5, 17), all.subarray(17)])), expected);
});

test('a frame at the maximum size passes; one byte more is rejected from its length alone', () => {
  const max = 64;
  const fits = encodeFrame(FrameKind.Request, 1, 1, new Uint8Array(max - FRAME_HEADER_BYTES));
  assert.equal(decodeAll(new FrameDecoder(max), [fits]).length, 1);
  const tooBig = encodeFrame(FrameKind.Request, 1, 1, new Uint8Array(max - FRAME_HEADER_BYTES + 1));
  // Only the 4-byte prefix is needed to refuse it.
  throwsCode(() => decodeAll(new FrameDecoder(max), [tooBig.subarray(0, FRAME_PREFIX_BYTES)]), 'FRAME_TOO_LARGE', /65 bytes exceeds the maximum of 64/);
  const twoGiB = Buffer.from([0x80, 0, 0, 0]);
  throwsCode(() => decodeAll(new FrameDecoder(1024 * 1024), [twoGiB]), 'FRAME_TOO_LARGE', /2147483648 bytes/);
});

test('malformed headers are protocol errors', () => {
  const good = encodeFrame(FrameKind.Ping, 9, 0, new Uint8Array(4));
  const shortLength = Buffer.from(good);
  shortLength.writeUInt32BE(FRAME_HEADER_BYTES - 1, 0);
  throwsCode(() => decodeAll(new FrameDecoder(1024), [shortLength]), 'PROTOCOL_ERROR', /shorter than the 8-byte header/);
  const badVersion = Buffer.from(good);
  badVersion[4] = 2;
  throwsCode(() => decodeAll(new FrameDecoder(1024), [badVersion]), 'PROTOCOL_ERROR', /unsupported frame version 2/);
  const badKind = Buffer.from(good);
  badKind[5] = 200;
  throwsCode(() => decodeAll(new FrameDecoder(1024), [badKind]), 'PROTOCOL_ERROR', /unknown frame kind 200/);
});

test('midFrame tells a partial frame from a clean boundary', () => {
  const frame = encodeFrame(FrameKind.Request, 1, 1, new Uint8Array(10));
  const decoder = new FrameDecoder(1024);
  assert.equal(decoder.midFrame, false);
  decodeAll(decoder, [frame.subarray(0, 3)]);
  assert.equal(decoder.midFrame, true);
  decodeAll(decoder, [frame.subarray(3, 15)]);
  assert.equal(decoder.midFrame, true);
  assert.equal(decodeAll(decoder, [frame.subarray(15)]).length, 1);
  assert.equal(decoder.midFrame, false);
});

test('error payloads: round trip, length cap on a character boundary, strict validation', () => {
  assert.deepEqual(decodeErrorPayload(encodeErrorPayload(RemoteErrorCode.HandlerFailed, 'boom ✓')), { code: RemoteErrorCode.HandlerFailed, message: 'boom ✓' });
  const long = decodeErrorPayload(encodeErrorPayload(RemoteErrorCode.HandlerFailed, '✓'.repeat(1000)));
  assert.ok(Buffer.byteLength(long.message) <= MAX_REMOTE_ERROR_MESSAGE_BYTES);
  assert.ok(/^✓+$/.test(long.message));
  throwsCode(() => decodeErrorPayload(new Uint8Array(0)), 'PROTOCOL_ERROR', /0 bytes/);
  throwsCode(() => decodeErrorPayload(new Uint8Array([99])), 'PROTOCOL_ERROR', /unknown remote error code 99/);
  throwsCode(() => decodeErrorPayload(new Uint8Array([1, 0xff, 0xfe])), 'PROTOCOL_ERROR', /not valid UTF-8/);
  throwsCode(() => decodeErrorPayload(new Uint8Array(2 + MAX_REMOTE_ERROR_MESSAGE_BYTES).fill(1)), 'PROTOCOL_ERROR', /bytes/);
});
