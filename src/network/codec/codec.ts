/**
 * The wire codec: `WireMessage` ⇄ bytes, for the envelope `{major, minor, protocol, kind, body}` and
 * one body schema per protocol message (schema.ts). Encoding checks what we send with the same
 * rules decoding applies to what we receive.
 *
 * Untrusted input: `decode` throws nothing but CodecError, whose message names the offending field.
 * Memory stays bounded: the whole message is refused above `maxMessageBytes` before any parsing,
 * each list is counted against its limit before protobufjs allocates it, and everything protobufjs
 * does allocate is proportional to the (bounded) input; byte fields are views into the input.
 *
 * Versions: a message carries the sender's (major, minor). A major version other than ours is
 * refused (CodecError naming `envelope.major`); any minor version is accepted, and fields we do not
 * know are skipped, which is how minor versions add optional fields. A protocol or kind we do not
 * know is refused too: a newer minor version may add protocols, and an older node cannot run them.
 */
import type { AggregationMessage } from '../../protocols/aggregation/aggregation.js';
import type { AttributeMessage } from '../../protocols/slicing/rank-estimation.js';
import {
  decodeAggregation,
  decodeAttribute,
  decodeSampling,
  decodeSwapReply,
  decodeSwapRequest,
  decodeTMan,
  encodeAggregation,
  encodeAttribute,
  encodeSampling,
  encodeSwapReply,
  encodeSwapRequest,
  encodeTMan,
} from './bodies.js';
import { CodecError } from './errors.js';
import { bytes, decodeWith, encodeWith, show, uint } from './fields.js';
import { type CodecLimits, codecLimits } from './limits.js';
import {
  KIND_IDS,
  type MessageKind,
  PROTOCOL_IDS,
  type ProtocolName,
  type WireMessage,
  type WireSamplingBuffer,
  type WireSwapReply,
  type WireSwapRequest,
  type WireTManBuffer,
} from './messages.js';
import { wireTypes } from './schema.js';

/** The version this node speaks. */
export const WIRE_VERSION = Object.freeze({ major: 2, minor: 0 });

const PROTOCOL_BY_ID = new Map<number, ProtocolName>(Object.entries(PROTOCOL_IDS).map(([name, id]) => [id, name as ProtocolName]));
const KIND_BY_ID = new Map<number, MessageKind>(Object.entries(KIND_IDS).map(([name, id]) => [id, name as MessageKind]));

export class WireCodec {
  readonly limits: CodecLimits;

  constructor(limits: Partial<CodecLimits> = {}) {
    this.limits = codecLimits(limits);
  }

  /** The bytes of `message`; throws a CodecError naming the field if it breaks a limit or rule. */
  encode(message: WireMessage): Uint8Array {
    const field = `${message.protocol}.${message.kind}`;
    const protocol = PROTOCOL_IDS[message.protocol];
    const kind = KIND_IDS[message.kind];
    if (protocol === undefined) throw new CodecError('envelope.protocol', `unknown protocol ${show(message.protocol)}`);
    if (kind === undefined) throw new CodecError('envelope.kind', `unknown kind ${show(message.kind)}`);
    const body = this.encodeBody(message);
    const encoded = encodeWith(wireTypes().envelope, { major: WIRE_VERSION.major, minor: WIRE_VERSION.minor, protocol, kind, body }, 'envelope');
    if (encoded.length > this.limits.maxMessageBytes) {
      throw new CodecError(field, `message is ${encoded.length} bytes, at most ${this.limits.maxMessageBytes} allowed`);
    }
    return encoded;
  }

  /** The message in `encoded`, fully checked; throws only CodecError. */
  decode(encoded: Uint8Array): WireMessage {
    try {
      return this.decodeUnchecked(encoded);
    } catch (err) {
      if (err instanceof CodecError) throw err;
      // Every path above is meant to throw CodecError only; this keeps the promise if one does not.
      throw new CodecError('message', `undecodable (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
  }

  private decodeUnchecked(encoded: Uint8Array): WireMessage {
    if (!(encoded instanceof Uint8Array)) throw new CodecError('message', `must be bytes, got ${show(encoded)}`);
    if (encoded.length > this.limits.maxMessageBytes) {
      throw new CodecError('message', `is ${encoded.length} bytes, at most ${this.limits.maxMessageBytes} allowed`);
    }
    const env = decodeWith(wireTypes().envelope, encoded, 'envelope');
    const major = uint('envelope.major', env.major, 0, 0xffffffff);
    if (major === 0) throw new CodecError('envelope.major', 'missing version');
    if (major !== WIRE_VERSION.major) throw new CodecError('envelope.major', `unsupported major version ${major} (this node speaks ${WIRE_VERSION.major})`);
    const minor = uint('envelope.minor', env.minor, 0, 0xffffffff);
    const protocol = PROTOCOL_BY_ID.get(env.protocol as number);
    if (protocol === undefined) throw new CodecError('envelope.protocol', `unknown protocol ${show(env.protocol)}`);
    const kind = KIND_BY_ID.get(env.kind as number);
    if (kind === undefined) throw new CodecError('envelope.kind', `unknown kind ${show(env.kind)}`);
    const body = bytes('envelope.body', env.body, {});
    return { ...this.decodeBody(protocol, kind, body), minor };
  }

  /**
   * The body of `message` alone, without the envelope: for carriers that say the protocol, kind and
   * version themselves (the daemon's rounds, src/node/runtime/envelope.ts). Same checks as `encode`.
   */
  encodeBody(message: WireMessage): Uint8Array {
    const field = `${message.protocol}.${message.kind}`;
    const limits = this.limits;
    switch (message.protocol) {
      case 'sampling':
        return encodeSampling(message.body as WireSamplingBuffer, limits, field);
      case 'aggregation':
        return encodeAggregation(message.body as AggregationMessage, limits, field);
      case 'tman':
        return encodeTMan(message.body as WireTManBuffer, limits, field);
      case 'slicing':
        return message.kind === 'request'
          ? encodeSwapRequest(message.body as WireSwapRequest, limits, field)
          : encodeSwapReply(message.body as WireSwapReply, limits, field);
      case 'ranking':
        return encodeAttribute(message.body as AttributeMessage, limits, field);
      default:
        throw new CodecError('envelope.protocol', `unknown protocol ${show((message as { protocol: unknown }).protocol)}`);
    }
  }

  /** A body without its envelope (see `encodeBody`), fully checked; throws only CodecError. */
  decodeBody(protocol: ProtocolName, kind: MessageKind, body: Uint8Array): WireMessage {
    try {
      return this.decodeBodyUnchecked(protocol, kind, body);
    } catch (err) {
      if (err instanceof CodecError) throw err;
      throw new CodecError(`${protocol}.${kind}`, `undecodable (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
  }

  private decodeBodyUnchecked(protocol: ProtocolName, kind: MessageKind, body: Uint8Array): WireMessage {
    if (!(body instanceof Uint8Array)) throw new CodecError(`${protocol}.${kind}`, `must be bytes, got ${show(body)}`);
    if (body.length > this.limits.maxMessageBytes) throw new CodecError(`${protocol}.${kind}`, `is ${body.length} bytes, at most ${this.limits.maxMessageBytes} allowed`);
    const field = `${protocol}.${kind}`;
    const limits = this.limits;
    switch (protocol) {
      case 'sampling':
        return { protocol, kind, body: decodeSampling(body, limits, field) };
      case 'aggregation':
        return { protocol, kind, body: decodeAggregation(body, limits, field) };
      case 'tman':
        return { protocol, kind, body: decodeTMan(body, limits, field) };
      case 'slicing':
        return kind === 'request'
          ? { protocol, kind, body: decodeSwapRequest(body, limits, field) }
          : { protocol, kind, body: decodeSwapReply(body, limits, field) };
      case 'ranking':
        return { protocol, kind, body: decodeAttribute(body, limits, field) };
      default:
        throw new CodecError('envelope.protocol', `unknown protocol ${show(protocol)}`);
    }
  }
}
