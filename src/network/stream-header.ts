/**
 * The small exchange that opens a bulk stream, before the raw bytes flow:
 *
 *   opener -> acceptor:  u8 version | u8 purpose length | purpose (ASCII)
 *   acceptor -> opener:  u8 status (StreamStatus)
 *
 * The opener only hands the stream to its caller once the acceptor has said yes, so nobody pushes
 * megabytes into a stream the other side is about to refuse.
 */
import type { Duplex } from 'node:stream';
import { TransportError } from './transport.js';

export const STREAM_HEADER_VERSION = 1;
export const MAX_STREAM_PURPOSE_LENGTH = 64;
const PURPOSE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

export const StreamStatus = {
  Accepted: 0,
  NoHandler: 1,
  Busy: 2,
  BadHeader: 3,
} as const;
export type StreamStatus = (typeof StreamStatus)[keyof typeof StreamStatus];

/** Purposes are short ASCII names such as `vm-image/v1`: letters, digits and `._:/-`. */
export function isValidStreamPurpose(purpose: unknown): purpose is string {
  return typeof purpose === 'string' && purpose.length <= MAX_STREAM_PURPOSE_LENGTH && PURPOSE_PATTERN.test(purpose);
}

export function encodeStreamHeader(purpose: string): Buffer {
  const bytes = Buffer.from(purpose, 'ascii');
  return Buffer.concat([Buffer.from([STREAM_HEADER_VERSION, bytes.length]), bytes]);
}

/** Reads and validates the opener's header; throws a PROTOCOL_ERROR TransportError if it is bad. */
export async function readStreamHeader(stream: Duplex, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const head = await readExactly(stream, 2, timeoutMs);
  if (head[0] !== STREAM_HEADER_VERSION) {
    throw new TransportError('PROTOCOL_ERROR', `unsupported stream header version ${head[0]}`);
  }
  if (head[1] === 0 || head[1] > MAX_STREAM_PURPOSE_LENGTH) {
    throw new TransportError('PROTOCOL_ERROR', `stream purpose length ${head[1]} is outside 1..${MAX_STREAM_PURPOSE_LENGTH}`);
  }
  const purpose = (await readExactly(stream, head[1], Math.max(1, deadline - Date.now()))).toString('latin1');
  if (!isValidStreamPurpose(purpose)) throw new TransportError('PROTOCOL_ERROR', `invalid stream purpose ${JSON.stringify(purpose)}`);
  return purpose;
}

/**
 * Exactly `n` bytes from a stream, read in paused mode so that whatever follows stays buffered in
 * the stream for its next reader. Rejects with PROTOCOL_ERROR if the stream ends first and with
 * TIMEOUT after `timeoutMs`.
 */
export function readExactly(stream: Duplex, n: number, timeoutMs: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
    };
    const onReadable = (): void => {
      const chunk = stream.read(n) as Buffer | null;
      if (chunk === null) return;
      cleanup();
      if (chunk.length < n) reject(new TransportError('PROTOCOL_ERROR', `stream ended after ${chunk.length} of ${n} header bytes`));
      else resolve(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      reject(new TransportError('PROTOCOL_ERROR', `stream ended within its ${n}-byte header`));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new TransportError('CONNECTION_LOST', `stream failed during its header: ${err.message}`, { cause: err }));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new TransportError('TIMEOUT', `no stream header within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
  });
}
