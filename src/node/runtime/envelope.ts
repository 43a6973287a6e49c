/**
 * The runtime's framing of gossip requests inside a transport request.
 *
 * Every request carries the sender's own signed descriptor in front of the protocol message:
 *   u16 (big-endian) descriptor length | encoded SignedDescriptor | encoded protocol message
 * Why: the transport authenticates the sender's node id, but the protocols need a *handle* for it,
 * and a handle needs a descriptor (its signed address). Peer sampling messages happen to carry the
 * sender's descriptor, aggregation messages do not; putting it in every request means the
 * responder can always intern the sender, at the cost of ~150 bytes per request (an unchanged
 * descriptor is recognized by its bytes and not verified again). Responses are the bare protocol
 * message: the initiator already knows whom it asked.
 *
 * Request types (the transport's 16-bit `type`):
 *  - HELLO: a descriptor exchange (body empty); the response is the responder's encoded descriptor.
 *    Used to join, both with a known node id and for trust-on-first-use.
 *  - SAMPLING, AGGREGATION: one exchange of that protocol.
 */
import { CodecError } from '../../network/codec/errors.js';

export const MESSAGE_TYPES = Object.freeze({ hello: 1, sampling: 2, aggregation: 3 });
export type GossipProtocolName = 'sampling' | 'aggregation';

const HEADER_BYTES = 2;

export interface RequestEnvelope {
  /** The sender's encoded SignedDescriptor (a view into the input). */
  readonly descriptor: Uint8Array;
  /** The encoded protocol message (a view into the input; empty for HELLO). */
  readonly body: Uint8Array;
}

export function encodeEnvelope(descriptor: Uint8Array, body: Uint8Array): Uint8Array {
  if (descriptor.length > 0xffff) throw new RangeError(`descriptor of ${descriptor.length} bytes does not fit the envelope`);
  const out = new Uint8Array(HEADER_BYTES + descriptor.length + body.length);
  out[0] = descriptor.length >>> 8;
  out[1] = descriptor.length & 0xff;
  out.set(descriptor, HEADER_BYTES);
  out.set(body, HEADER_BYTES + descriptor.length);
  return out;
}

/** Splits a request; throws a CodecError naming what is wrong. */
export function decodeEnvelope(payload: Uint8Array): RequestEnvelope {
  if (!(payload instanceof Uint8Array) || payload.length < HEADER_BYTES) throw new CodecError('envelope', `request of ${payload?.length ?? 0} bytes is shorter than the envelope header`);
  const length = (payload[0] << 8) | payload[1];
  if (length === 0) throw new CodecError('envelope.descriptor', 'the sender descriptor is missing');
  if (HEADER_BYTES + length > payload.length) throw new CodecError('envelope.descriptor', `descriptor length ${length} exceeds the ${payload.length - HEADER_BYTES} bytes that follow`);
  return {
    descriptor: payload.subarray(HEADER_BYTES, HEADER_BYTES + length),
    body: payload.subarray(HEADER_BYTES + length),
  };
}
