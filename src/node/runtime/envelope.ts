/**
 * The runtime's framing of gossip inside transport requests (the transport's 16-bit `type` says
 * which request it is). Every layout starts with a version byte; all integers are unsigned, u16
 * big-endian.
 *
 *   ROUND request:  u8 version | sender ref (8) | u8 n | n × rumor (8) | parts
 *   ROUND response: u8 version | u8 n | n × rumor (8) | parts
 *     parts = u8 count | count × (u8 protocol | u16 length | protocol message body)
 *     protocol: 1 peer sampling, 2 aggregation, 3 ranking, 4 T-Man; each at most once per message
 *
 * A *round* is one cycle's exchanges of one or more protocols with one peer, in one request (peer
 * sampling alone; aggregation and ranking together; T-Man alone). Each protocol still sees its own
 * exchange; one request instead of several saves messages, their framing and their CPU. A part is
 * the protocol's body as the wire codec encodes it (src/network/codec, wire version 2) without the
 * codec's envelope: the part says the protocol, the round the direction, this version byte the
 * version — ~10 bytes less per part.
 *
 *   HELLO request:   u8 version | u8 flags | u16 length | the sender's full encoded SignedDescriptor
 *   HELLO response:  the same, then with flag VIEW: u8 n | n × (u16 age | u16 length | SignedDescriptor)
 *     flags: bit 0 RUMORED (response: "the descriptor you sent is rumored dead: re-sign it and
 *     retry"), bit 1 WANT_VIEW (request: "I am joining: send me your view"), bit 2 VIEW (response:
 *     the responder's peer sampling view follows, full descriptors and their ages)
 *   DESCRIPTORS request:            u8 version | u8 n | n × ref (8)
 *   DESCRIPTORS response:           u8 version | u8 n | n × (u16 length | encoded SignedDescriptor)
 *
 * - The *sender ref* is the digest of the sender's current descriptor. The transport authenticates
 *   the sender's node id, but the protocols need its handle, and a handle needs its descriptor (the
 *   signed address); a receiver that does not hold that version fetches it (DESCRIPTORS).
 * - *Rumors* are digests of descriptors whose nodes did not answer someone (failure-rumors.ts).
 * - Protocol messages send descriptors by reference too (DescriptorStore); DESCRIPTORS is how a
 *   peer fetches the ones it lacks, from whoever referred to them, over the same connection.
 * - HELLO carries full descriptors: it is the first contact, when nothing can be assumed known. A
 *   joining node asks for its contact's view in the same round trip (Serf's push-pull on join), so
 *   its view is full at once instead of after a few exchanges.
 */
import { DESCRIPTOR_REF_BYTES } from '../../network/codec/descriptor.js';
import { CodecError } from '../../network/codec/errors.js';
import { MAX_RUMORS_PER_MESSAGE } from './failure-rumors.js';

export const MESSAGE_TYPES = Object.freeze({ hello: 1, round: 2, descriptors: 4 });
export type GossipProtocolName = 'sampling' | 'aggregation' | 'ranking' | 'tman';

/** Protocols in the order a round runs them; the wire id is the index + 1. */
export const ROUND_PROTOCOLS: readonly GossipProtocolName[] = Object.freeze(['sampling', 'aggregation', 'ranking', 'tman']);

/** One protocol's message in a round. */
export interface RoundPart {
  readonly protocol: GossipProtocolName;
  readonly body: Uint8Array;
}

export const ENVELOPE_VERSION = 3;
/** Descriptors asked for in one DESCRIPTORS request at most. */
export const MAX_FETCH = 255;

export interface RequestEnvelope {
  /** Digest of the sender's current descriptor. */
  readonly senderRef: Uint8Array;
  readonly rumors: Uint8Array[];
  /** The encoded protocol message (a view into the input). */
  readonly body: Uint8Array;
}

export interface ResponseEnvelope {
  readonly rumors: Uint8Array[];
  readonly body: Uint8Array;
}

export function encodeRequest(senderRef: Uint8Array, rumors: readonly Uint8Array[], body: Uint8Array): Uint8Array {
  if (senderRef.length !== DESCRIPTOR_REF_BYTES) throw new RangeError(`sender ref must be ${DESCRIPTOR_REF_BYTES} bytes`);
  const head = 1 + DESCRIPTOR_REF_BYTES;
  const out = new Uint8Array(head + rumorBytes(rumors) + body.length);
  out[0] = ENVELOPE_VERSION;
  out.set(senderRef, 1);
  const at = writeRumors(out, head, rumors);
  out.set(body, at);
  return out;
}

export function decodeRequest(payload: Uint8Array): RequestEnvelope {
  checkVersion(payload, 'request', 1 + DESCRIPTOR_REF_BYTES + 1);
  const senderRef = new Uint8Array(payload.subarray(1, 1 + DESCRIPTOR_REF_BYTES));
  const { rumors, end } = readRumors(payload, 1 + DESCRIPTOR_REF_BYTES, 'request');
  return { senderRef, rumors, body: payload.subarray(end) };
}

export function encodeResponse(rumors: readonly Uint8Array[], body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + rumorBytes(rumors) + body.length);
  out[0] = ENVELOPE_VERSION;
  const at = writeRumors(out, 1, rumors);
  out.set(body, at);
  return out;
}

export function decodeResponse(payload: Uint8Array): ResponseEnvelope {
  checkVersion(payload, 'response', 2);
  const { rumors, end } = readRumors(payload, 1, 'response');
  return { rumors, body: payload.subarray(end) };
}

/** One entry of a view sent in a HELLO response. */
export interface HelloViewEntry {
  /** A full encoded SignedDescriptor (still to be decoded and verified). */
  readonly descriptor: Uint8Array;
  /** Its age in the sender's view, in cycles. */
  readonly age: number;
}

export interface Hello {
  /** The sender's full encoded SignedDescriptor. */
  readonly descriptor: Uint8Array;
  /** Set in a response: the requester's descriptor is rumored dead (see failure-rumors.ts). */
  readonly rumored: boolean;
  /** Set in a request: the sender is joining and wants the responder's view. */
  readonly wantView: boolean;
  /** In a response to a request that wanted it: the responder's view; null when not sent. */
  readonly view: readonly HelloViewEntry[] | null;
}

const HELLO_RUMORED = 1;
const HELLO_WANT_VIEW = 2;
const HELLO_VIEW = 4;
/** Entries of a HELLO view at most (the count is a byte; views are at most 255 entries anyway). */
export const MAX_HELLO_VIEW = 255;
const MAX_AGE_ON_WIRE = 0xffff;

/** HELLO in both directions: the version byte, flags, a full descriptor and, in a response, maybe a view. */
export function encodeHello(descriptor: Uint8Array, options: { rumored?: boolean; wantView?: boolean; view?: readonly HelloViewEntry[] } = {}): Uint8Array {
  if (descriptor.length > 0xffff) throw new RangeError(`descriptor of ${descriptor.length} bytes does not fit a HELLO`);
  const view = options.view;
  if (view !== undefined && view.length > MAX_HELLO_VIEW) throw new RangeError(`at most ${MAX_HELLO_VIEW} view entries per HELLO, got ${view.length}`);
  let size = 4 + descriptor.length + (view === undefined ? 0 : 1);
  for (const e of view ?? []) {
    if (e.descriptor.length > 0xffff) throw new RangeError(`descriptor of ${e.descriptor.length} bytes does not fit a HELLO`);
    size += 4 + e.descriptor.length;
  }
  const out = new Uint8Array(size);
  out[0] = ENVELOPE_VERSION;
  out[1] = (options.rumored ? HELLO_RUMORED : 0) | (options.wantView ? HELLO_WANT_VIEW : 0) | (view !== undefined ? HELLO_VIEW : 0);
  writeU16(out, 2, descriptor.length);
  out.set(descriptor, 4);
  let at = 4 + descriptor.length;
  if (view !== undefined) {
    out[at++] = view.length;
    for (const e of view) {
      writeU16(out, at, Math.min(MAX_AGE_ON_WIRE, Math.max(0, Math.floor(e.age))));
      writeU16(out, at + 2, e.descriptor.length);
      out.set(e.descriptor, at + 4);
      at += 4 + e.descriptor.length;
    }
  }
  return out;
}

/** Throws a CodecError naming what is wrong; descriptors are views into `payload`, each at most `maxDescriptorBytes`. */
export function decodeHello(payload: Uint8Array, maxDescriptorBytes: number): Hello {
  checkVersion(payload, 'hello', 5);
  const flags = payload[1];
  if ((flags & ~(HELLO_RUMORED | HELLO_WANT_VIEW | HELLO_VIEW)) !== 0) throw new CodecError('hello.flags', `unknown flags ${flags}`);
  const length = readU16(payload, 2);
  if (length > maxDescriptorBytes) throw new CodecError('hello.descriptor', `descriptor is ${length} bytes, at most ${maxDescriptorBytes} allowed`);
  if (4 + length > payload.length) throw new CodecError('hello.descriptor', `length ${length} exceeds the ${payload.length - 4} bytes that follow`);
  const descriptor = payload.subarray(4, 4 + length);
  let at = 4 + length;
  let view: HelloViewEntry[] | null = null;
  if ((flags & HELLO_VIEW) !== 0) {
    if (at >= payload.length) throw new CodecError('hello.view', 'missing entry count');
    const n = payload[at++];
    view = [];
    for (let i = 0; i < n; i++) {
      const field = `hello.view[${i}]`;
      if (at + 4 > payload.length) throw new CodecError(field, 'truncated entry header');
      const age = readU16(payload, at);
      const len = readU16(payload, at + 2);
      if (len > maxDescriptorBytes) throw new CodecError(field, `descriptor is ${len} bytes, at most ${maxDescriptorBytes} allowed`);
      if (at + 4 + len > payload.length) throw new CodecError(field, `length ${len} exceeds the ${payload.length - at - 4} bytes that follow`);
      view.push({ age, descriptor: payload.subarray(at + 4, at + 4 + len) });
      at += 4 + len;
    }
  }
  if (at !== payload.length) throw new CodecError('hello', `${payload.length - at} bytes after the last field`);
  return { descriptor, rumored: (flags & HELLO_RUMORED) !== 0, wantView: (flags & HELLO_WANT_VIEW) !== 0, view };
}

export function encodeFetchRequest(refs: readonly Uint8Array[]): Uint8Array {
  if (refs.length > MAX_FETCH) throw new RangeError(`at most ${MAX_FETCH} descriptors per fetch, got ${refs.length}`);
  const out = new Uint8Array(2 + refs.length * DESCRIPTOR_REF_BYTES);
  out[0] = ENVELOPE_VERSION;
  out[1] = refs.length;
  refs.forEach((r, i) => {
    if (r.length !== DESCRIPTOR_REF_BYTES) throw new RangeError(`refs[${i}] must be ${DESCRIPTOR_REF_BYTES} bytes`);
    out.set(r, 2 + i * DESCRIPTOR_REF_BYTES);
  });
  return out;
}

export function decodeFetchRequest(payload: Uint8Array): Uint8Array[] {
  checkVersion(payload, 'descriptors.request', 2);
  const n = payload[1];
  if (payload.length !== 2 + n * DESCRIPTOR_REF_BYTES) {
    throw new CodecError('descriptors.request', `${n} refs need ${2 + n * DESCRIPTOR_REF_BYTES} bytes, got ${payload.length}`);
  }
  const refs: Uint8Array[] = [];
  for (let i = 0; i < n; i++) refs.push(new Uint8Array(payload.subarray(2 + i * DESCRIPTOR_REF_BYTES, 2 + (i + 1) * DESCRIPTOR_REF_BYTES)));
  return refs;
}

export function encodeFetchResponse(descriptors: readonly Uint8Array[]): Uint8Array {
  if (descriptors.length > MAX_FETCH) throw new RangeError(`at most ${MAX_FETCH} descriptors per answer`);
  let size = 2;
  for (const d of descriptors) {
    if (d.length > 0xffff) throw new RangeError(`descriptor of ${d.length} bytes does not fit`);
    size += 2 + d.length;
  }
  const out = new Uint8Array(size);
  out[0] = ENVELOPE_VERSION;
  out[1] = descriptors.length;
  let at = 2;
  for (const d of descriptors) {
    out[at] = d.length >>> 8;
    out[at + 1] = d.length & 0xff;
    out.set(d, at + 2);
    at += 2 + d.length;
  }
  return out;
}

/** The encoded descriptors of a DESCRIPTORS answer (views into the input; each still to be decoded and verified). */
export function decodeFetchResponse(payload: Uint8Array, maxDescriptorBytes: number): Uint8Array[] {
  checkVersion(payload, 'descriptors.response', 2);
  const n = payload[1];
  const out: Uint8Array[] = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    if (at + 2 > payload.length) throw new CodecError(`descriptors.response[${i}]`, 'truncated length');
    const length = (payload[at] << 8) | payload[at + 1];
    if (length > maxDescriptorBytes) throw new CodecError(`descriptors.response[${i}]`, `descriptor is ${length} bytes, at most ${maxDescriptorBytes} allowed`);
    if (at + 2 + length > payload.length) throw new CodecError(`descriptors.response[${i}]`, `length ${length} exceeds the ${payload.length - at - 2} bytes that follow`);
    out.push(payload.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  if (at !== payload.length) throw new CodecError('descriptors.response', `${payload.length - at} bytes after the last descriptor`);
  return out;
}

// ---- helpers ------------------------------------------------------------------------------------

function writeU16(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 8;
  out[at + 1] = value & 0xff;
}

function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

function checkVersion(payload: Uint8Array, field: string, minLength: number): void {
  if (!(payload instanceof Uint8Array) || payload.length < minLength) {
    throw new CodecError(field, `${payload?.length ?? 0} bytes is shorter than the ${minLength}-byte header`);
  }
  if (payload[0] !== ENVELOPE_VERSION) throw new CodecError(`${field}.version`, `unsupported envelope version ${payload[0]} (this node speaks ${ENVELOPE_VERSION})`);
}

function rumorBytes(rumors: readonly Uint8Array[]): number {
  if (rumors.length > MAX_RUMORS_PER_MESSAGE) throw new RangeError(`at most ${MAX_RUMORS_PER_MESSAGE} rumors per message, got ${rumors.length}`);
  return 1 + rumors.length * DESCRIPTOR_REF_BYTES;
}

function writeRumors(out: Uint8Array, at: number, rumors: readonly Uint8Array[]): number {
  out[at] = rumors.length;
  rumors.forEach((r, i) => {
    if (r.length !== DESCRIPTOR_REF_BYTES) throw new RangeError(`rumors[${i}] must be ${DESCRIPTOR_REF_BYTES} bytes`);
    out.set(r, at + 1 + i * DESCRIPTOR_REF_BYTES);
  });
  return at + 1 + rumors.length * DESCRIPTOR_REF_BYTES;
}

function readRumors(payload: Uint8Array, at: number, field: string): { rumors: Uint8Array[]; end: number } {
  if (at >= payload.length) throw new CodecError(`${field}.rumors`, 'missing rumor count');
  const n = payload[at];
  if (n > MAX_RUMORS_PER_MESSAGE) throw new CodecError(`${field}.rumors`, `${n} rumors, at most ${MAX_RUMORS_PER_MESSAGE} allowed`);
  const end = at + 1 + n * DESCRIPTOR_REF_BYTES;
  if (end > payload.length) throw new CodecError(`${field}.rumors`, `${n} rumors need ${n * DESCRIPTOR_REF_BYTES} bytes, ${payload.length - at - 1} follow`);
  const rumors: Uint8Array[] = [];
  for (let i = 0; i < n; i++) rumors.push(new Uint8Array(payload.subarray(at + 1 + i * DESCRIPTOR_REF_BYTES, at + 1 + (i + 1) * DESCRIPTOR_REF_BYTES)));
  return { rumors, end };
}

/** The parts of a round, after an envelope header. */
export function encodeParts(parts: readonly RoundPart[]): Uint8Array {
  if (parts.length > ROUND_PROTOCOLS.length) throw new RangeError(`at most ${ROUND_PROTOCOLS.length} parts per round`);
  let size = 1;
  for (const p of parts) {
    if (p.body.length > 0xffff) throw new RangeError(`${p.protocol} message of ${p.body.length} bytes does not fit a round`);
    size += 3 + p.body.length;
  }
  const out = new Uint8Array(size);
  out[0] = parts.length;
  let at = 1;
  for (const p of parts) {
    const id = ROUND_PROTOCOLS.indexOf(p.protocol) + 1;
    if (id === 0) throw new RangeError(`unknown protocol ${p.protocol}`);
    out[at] = id;
    out[at + 1] = p.body.length >>> 8;
    out[at + 2] = p.body.length & 0xff;
    out.set(p.body, at + 3);
    at += 3 + p.body.length;
  }
  return out;
}

/** Splits the parts of a round (bodies are views into the input); throws a CodecError naming what is wrong. */
export function decodeParts(bytes: Uint8Array, field: string): RoundPart[] {
  if (bytes.length < 1) throw new CodecError(`${field}.parts`, 'missing part count');
  const n = bytes[0];
  if (n > ROUND_PROTOCOLS.length) throw new CodecError(`${field}.parts`, `${n} parts, at most ${ROUND_PROTOCOLS.length} allowed`);
  const parts: RoundPart[] = [];
  let at = 1;
  for (let i = 0; i < n; i++) {
    if (at + 3 > bytes.length) throw new CodecError(`${field}.parts[${i}]`, 'truncated part header');
    const protocol = ROUND_PROTOCOLS[bytes[at] - 1];
    if (protocol === undefined) throw new CodecError(`${field}.parts[${i}].protocol`, `unknown protocol ${bytes[at]}`);
    if (parts.some((p) => p.protocol === protocol)) throw new CodecError(`${field}.parts[${i}].protocol`, `${protocol} appears twice`);
    const length = (bytes[at + 1] << 8) | bytes[at + 2];
    if (at + 3 + length > bytes.length) throw new CodecError(`${field}.parts[${i}]`, `length ${length} exceeds the ${bytes.length - at - 3} bytes that follow`);
    parts.push({ protocol, body: bytes.subarray(at + 3, at + 3 + length) });
    at += 3 + length;
  }
  if (at !== bytes.length) throw new CodecError(`${field}.parts`, `${bytes.length - at} bytes after the last part`);
  return parts;
}
