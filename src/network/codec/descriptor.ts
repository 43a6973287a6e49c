/**
 * Node descriptors on the wire: `SignedDescriptor { body, signature }` where `body` is an encoded
 * `DescriptorBody`. The codec checks structure and field values (key and signature lengths,
 * addresses, integer ranges); whether the signature is right, the key hashes to the claimed node
 * id and the timestamps are plausible is checked by src/node/signed-descriptor.ts, which has the
 * crypto and the clock.
 */
import { createHash } from 'node:crypto';
import { type AddressPolicy, type NodeAddress, addressFromWire, addressProblem, addressToWire } from './address.js';
import { CodecError } from './errors.js';
import { bytes, checkCounts, decodeWith, encodeWith, list, uint64 } from './fields.js';
import { MAX_ADDRESSES } from './limits.js';
import { FIELD, wireTypes } from './schema.js';

export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/**
 * Length of a descriptor reference: the first 8 bytes of SHA-256 over the encoded SignedDescriptor.
 * A list item of exactly this length is a reference, anything else a full descriptor (a real one is
 * over 100 bytes). 64 bits: finding another descriptor with a given digest (a second preimage) is
 * out of reach, and colliding two descriptors of one's own only confuses peers about one's own node.
 */
export const DESCRIPTOR_REF_BYTES = 8;

/** What a node states about itself. */
export interface DescriptorFields {
  /** Raw 32-byte Ed25519 public key; the node id is derived from it. */
  readonly publicKey: Uint8Array;
  /** 1..4 addresses to reach the node at. */
  readonly addresses: readonly NodeAddress[];
  /** When the node signed this, in ms since the Unix epoch (its own clock). */
  readonly issuedAt: number;
  /** Increases with every re-signing by the node; the highest known one is current. */
  readonly sequence: number;
}

/** A descriptor as it travels: its fields, the signed bytes and the signature, and the whole encoding. */
export interface WireDescriptor extends DescriptorFields {
  /** The encoded DescriptorBody the signature covers (it may hold fields newer than this schema). */
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  /** The encoded SignedDescriptor, relayed verbatim. */
  readonly encoded: Uint8Array;
}

/**
 * A descriptor sent by reference: peers that already hold the descriptor with this digest use it,
 * the others fetch it from the sender (src/node/runtime). `encoded` is the reference itself, so lists
 * of items encode uniformly.
 */
export interface DescriptorRef {
  readonly ref: Uint8Array;
  readonly encoded: Uint8Array;
}

/** One entry of a descriptor list on the wire. */
export type WireDescriptorItem = WireDescriptor | DescriptorRef;

export function isDescriptorRef(d: WireDescriptorItem): d is DescriptorRef {
  return (d as Partial<DescriptorRef>).ref instanceof Uint8Array;
}

/** A reference item for an 8-byte digest (copied: it must not keep a message buffer alive). */
export function descriptorRef(ref: Uint8Array): DescriptorRef {
  if (!(ref instanceof Uint8Array) || ref.length !== DESCRIPTOR_REF_BYTES) throw new RangeError(`a descriptor reference is ${DESCRIPTOR_REF_BYTES} bytes`);
  const copy = new Uint8Array(ref);
  return { ref: copy, encoded: copy };
}

/** The reference bytes of an encoded SignedDescriptor. */
export function descriptorDigest(encoded: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(encoded).digest().subarray(0, DESCRIPTOR_REF_BYTES));
}

export interface DescriptorLimits {
  readonly maxDescriptorBytes: number;
  readonly maxAddresses: number;
  readonly addressPolicy: AddressPolicy;
}

/** The bytes a node signs: the encoded DescriptorBody of `fields`. Throws a RangeError on invalid fields. */
export function encodeDescriptorBody(fields: DescriptorFields, policy: AddressPolicy): Uint8Array {
  const problem = descriptorFieldsProblem(fields, policy, MAX_ADDRESSES);
  if (problem) throw new RangeError(`descriptor ${problem}`);
  return encodeWith(
    wireTypes().descriptorBody,
    {
      publicKey: fields.publicKey,
      addresses: fields.addresses.map(addressToWire),
      issuedAt: fields.issuedAt,
      sequence: fields.sequence,
    },
    'descriptor',
  );
}

/** The encoded SignedDescriptor of a body and its signature. */
export function encodeSignedDescriptor(body: Uint8Array, signature: Uint8Array): Uint8Array {
  return encodeWith(wireTypes().signedDescriptor, { body, signature }, 'descriptor');
}

/**
 * Decodes and checks one encoded SignedDescriptor from a peer. The result's byte arrays are views
 * into `encoded`; copy them (see `detachDescriptor`) before keeping the descriptor.
 */
export function decodeDescriptor(encoded: Uint8Array, limits: DescriptorLimits, field: string): WireDescriptor {
  if (encoded.length > limits.maxDescriptorBytes) {
    throw new CodecError(field, `descriptor is ${encoded.length} bytes, at most ${limits.maxDescriptorBytes} allowed`);
  }
  const t = wireTypes();
  const signed = decodeWith(t.signedDescriptor, encoded, field);
  const body = bytes(`${field}.body`, signed.body, {});
  const signature = bytes(`${field}.signature`, signed.signature, { length: SIGNATURE_BYTES });
  checkCounts(body, [{ id: FIELD.descriptorBodyAddresses, name: 'addresses', encoding: 'delimited', max: limits.maxAddresses }], field);
  const raw = decodeWith(t.descriptorBody, body, field);
  const publicKey = bytes(`${field}.publicKey`, raw.publicKey, { length: PUBLIC_KEY_BYTES });
  const rawAddresses = list(`${field}.addresses`, raw.addresses, limits.maxAddresses);
  if (rawAddresses.length === 0) throw new CodecError(`${field}.addresses`, 'a descriptor needs at least one address');
  const addresses = rawAddresses.map((a, i) => addressFromWire(a as Record<string, unknown>, limits.addressPolicy, `${field}.addresses[${i}]`));
  const issuedAt = uint64(`${field}.issuedAt`, raw.issuedAt);
  const sequence = uint64(`${field}.sequence`, raw.sequence);
  return { publicKey, addresses, issuedAt, sequence, body, signature, encoded };
}

/**
 * A copy of `d` that shares no memory with the message it came from (which it would keep alive).
 * `new Uint8Array(view)` copies; `.slice()` would not when the view is a Buffer (protobufjs returns
 * Buffer views of Buffer input, and Buffer#slice is a view).
 */
export function detachDescriptor(d: WireDescriptor): WireDescriptor {
  return {
    publicKey: new Uint8Array(d.publicKey),
    addresses: d.addresses.map((a) => ({ host: a.host, port: a.port })),
    issuedAt: d.issuedAt,
    sequence: d.sequence,
    body: new Uint8Array(d.body),
    signature: new Uint8Array(d.signature),
    encoded: new Uint8Array(d.encoded),
  };
}

/** Why `fields` cannot be a descriptor (for descriptors built locally), or null. */
export function descriptorFieldsProblem(fields: DescriptorFields, policy: AddressPolicy, maxAddresses: number): string | null {
  if (!(fields.publicKey instanceof Uint8Array) || fields.publicKey.length !== PUBLIC_KEY_BYTES) return `publicKey must be ${PUBLIC_KEY_BYTES} bytes`;
  if (!Array.isArray(fields.addresses) || fields.addresses.length < 1 || fields.addresses.length > maxAddresses) {
    return `needs 1..${maxAddresses} addresses, got ${Array.isArray(fields.addresses) ? fields.addresses.length : typeof fields.addresses}`;
  }
  for (let i = 0; i < fields.addresses.length; i++) {
    const problem = addressProblem(fields.addresses[i], policy);
    if (problem) return `addresses[${i}]: ${problem}`;
  }
  if (!Number.isSafeInteger(fields.issuedAt) || fields.issuedAt < 0) return `issuedAt must be a non-negative safe integer, got ${fields.issuedAt}`;
  if (!Number.isSafeInteger(fields.sequence) || fields.sequence < 0) return `sequence must be a non-negative safe integer, got ${fields.sequence}`;
  return null;
}
