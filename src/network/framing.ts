/**
 * Frames of a message connection. Each frame is
 *
 *   u32 length | u8 version | u8 kind | u32 request id | u16 message type | payload
 *
 * (big-endian), where `length` counts everything after itself (the 8-byte header and the payload)
 * and may not exceed the connection's maximum frame size. The decoder checks the length before
 * buffering anything, so a peer announcing 2 GiB costs us 4 bytes, not an allocation.
 */
import { TransportError } from './transport.js';

export const FRAME_VERSION = 1;
/** The u32 length prefix. */
export const FRAME_PREFIX_BYTES = 4;
/** version, kind, request id, message type. */
export const FRAME_HEADER_BYTES = 8;
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** The largest maximum we accept as an option: lengths must fit the u32 prefix, and memory. */
export const MAX_MAX_FRAME_BYTES = 64 * 1024 * 1024;
export const MAX_MESSAGE_TYPE = 0xffff;
export const MAX_REQUEST_ID = 0xffffffff;

export const FrameKind = {
  /** A request; the responder answers with RESPONSE or ERROR carrying the same request id. */
  Request: 0,
  Response: 1,
  /** A failed request; payload: u8 RemoteErrorCode, UTF-8 message. */
  Error: 2,
  /** Liveness probe; answered by PONG with the same request id and payload. */
  Ping: 3,
  Pong: 4,
  /**
   * "I send no new requests on this connection; send me none either." Each side closes once it has
   * sent and received GOAWAY and has nothing in flight, so closing an idle or duplicate connection
   * never races with a request the peer is about to send.
   */
  GoAway: 5,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];
const MAX_FRAME_KIND = FrameKind.GoAway;

export interface Frame {
  kind: FrameKind;
  requestId: number;
  type: number;
  payload: Uint8Array;
}

/** Header plus payload as one buffer, ready for a single socket write. */
export function encodeFrame(kind: FrameKind, requestId: number, type: number, payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + FRAME_HEADER_BYTES + payload.length);
  buf.writeUInt32BE(FRAME_HEADER_BYTES + payload.length, 0);
  buf.writeUInt8(FRAME_VERSION, 4);
  buf.writeUInt8(kind, 5);
  buf.writeUInt32BE(requestId, 6);
  buf.writeUInt16BE(type, 10);
  buf.set(payload, FRAME_PREFIX_BYTES + FRAME_HEADER_BYTES);
  return buf;
}

/** The largest payload a frame of at most `maxFrameBytes` can carry. */
export function maxPayloadBytes(maxFrameBytes: number): number {
  return maxFrameBytes - FRAME_HEADER_BYTES;
}

/**
 * Incremental decoder: feed it socket chunks, it calls `onFrame` for each complete frame and throws
 * a TransportError (FRAME_TOO_LARGE or PROTOCOL_ERROR) at the first byte that cannot be part of a
 * valid frame; the connection is then unusable and must be closed.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number;
  /** The length prefix and header, gathered across chunks. */
  private readonly head = Buffer.alloc(FRAME_PREFIX_BYTES + FRAME_HEADER_BYTES);
  private headFilled = 0;
  /** The payload being gathered, allocated once the header is known to be valid. */
  private body: Buffer | undefined;
  private bodyFilled = 0;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** True while a frame has started but not finished arriving. */
  get midFrame(): boolean {
    return this.headFilled > 0;
  }

  push(chunk: Uint8Array, onFrame: (frame: Frame) => void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.body === undefined) {
        const take = Math.min(this.head.length - this.headFilled, chunk.length - at);
        this.head.set(chunk.subarray(at, at + take), this.headFilled);
        this.headFilled += take;
        at += take;
        // Judge the length as soon as its 4 bytes are in, before waiting for the rest.
        if (this.headFilled >= FRAME_PREFIX_BYTES && this.headFilled - take < FRAME_PREFIX_BYTES) this.checkLength();
        if (this.headFilled < this.head.length) return;
        this.startBody();
      } else {
        const take = Math.min(this.body.length - this.bodyFilled, chunk.length - at);
        this.body.set(chunk.subarray(at, at + take), this.bodyFilled);
        this.bodyFilled += take;
        at += take;
      }
      if (this.body !== undefined && this.bodyFilled === this.body.length) this.finish(onFrame);
    }
  }

  private checkLength(): void {
    const length = this.head.readUInt32BE(0);
    if (length > this.maxFrameBytes) {
      throw new TransportError('FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the maximum of ${this.maxFrameBytes}`);
    }
    if (length < FRAME_HEADER_BYTES) {
      throw new TransportError('PROTOCOL_ERROR', `frame length ${length} is shorter than the ${FRAME_HEADER_BYTES}-byte header`);
    }
  }

  private startBody(): void {
    const version = this.head.readUInt8(4);
    if (version !== FRAME_VERSION) throw new TransportError('PROTOCOL_ERROR', `unsupported frame version ${version}`);
    const kind = this.head.readUInt8(5);
    if (kind > MAX_FRAME_KIND) throw new TransportError('PROTOCOL_ERROR', `unknown frame kind ${kind}`);
    this.body = Buffer.allocUnsafe(this.head.readUInt32BE(0) - FRAME_HEADER_BYTES);
    this.bodyFilled = 0;
  }

  private finish(onFrame: (frame: Frame) => void): void {
    const frame: Frame = {
      kind: this.head.readUInt8(5) as FrameKind,
      requestId: this.head.readUInt32BE(6),
      type: this.head.readUInt16BE(10),
      payload: this.body ?? new Uint8Array(0),
    };
    this.body = undefined;
    this.headFilled = 0;
    onFrame(frame);
  }
}

/** Why a request failed at the responder, as the first byte of an ERROR frame. */
export const RemoteErrorCode = {
  /** The handler threw or rejected. */
  HandlerFailed: 1,
  NoHandler: 2,
  /** The responder is at its limit of requests in flight on this connection. */
  Busy: 3,
  /** The response would not fit in a frame. */
  ResponseTooLarge: 4,
} as const;
export type RemoteErrorCode = (typeof RemoteErrorCode)[keyof typeof RemoteErrorCode];

/** Remote error messages are cut to this many bytes: enough to debug, too little to abuse. */
export const MAX_REMOTE_ERROR_MESSAGE_BYTES = 1024;

export function encodeErrorPayload(code: RemoteErrorCode, message: string): Uint8Array {
  let text = Buffer.from(message, 'utf8');
  if (text.length > MAX_REMOTE_ERROR_MESSAGE_BYTES) {
    // Cut on a character boundary so the peer's strict UTF-8 check accepts it.
    text = Buffer.from(new TextDecoder().decode(text.subarray(0, MAX_REMOTE_ERROR_MESSAGE_BYTES)).replace(/\uFFFD$/, ''), 'utf8');
  }
  const out = new Uint8Array(1 + text.length);
  out[0] = code;
  out.set(text, 1);
  return out;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes an ERROR payload; a malformed one is a protocol error. */
export function decodeErrorPayload(payload: Uint8Array): { code: RemoteErrorCode; message: string } {
  if (payload.length < 1 || payload.length > 1 + MAX_REMOTE_ERROR_MESSAGE_BYTES) {
    throw new TransportError('PROTOCOL_ERROR', `error frame payload of ${payload.length} bytes`);
  }
  const code = payload[0];
  if (code < RemoteErrorCode.HandlerFailed || code > RemoteErrorCode.ResponseTooLarge) {
    throw new TransportError('PROTOCOL_ERROR', `unknown remote error code ${code}`);
  }
  let message: string;
  try {
    message = strictUtf8.decode(payload.subarray(1));
  } catch {
    throw new TransportError('PROTOCOL_ERROR', 'error frame message is not valid UTF-8');
  }
  return { code: code as RemoteErrorCode, message };
}
