/**
 * Signed node descriptors: what a node says about itself (key, addresses, when, which version),
 * signed with its Ed25519 key so that nobody else can advertise an address under its node id.
 *
 * The signature covers a fixed context string followed by the exact encoded DescriptorBody bytes
 * that travel on the wire (not a re-encoding of decoded fields): a receiver verifies what it got,
 * byte for byte, and relays those same bytes, so fields added by a newer minor version stay signed
 * and intact through older nodes. The context string keeps a descriptor signature from ever being
 * valid as a signature of anything else made with the same key.
 *
 * Verification (`verifyDescriptor`), cheapest checks first:
 *  1. the encoding decodes and every field is valid (codec: key and signature lengths, 1..4
 *     addresses allowed by the address policy, integer ranges, size bound);
 *  2. the node id is the hash of the key (when the descriptor claims one: on the wire the id is
 *     never sent, it is derived from the key, so a descriptor cannot even state a false id);
 *  3. issuedAt is not further in the future than the allowed clock skew;
 *  4. issuedAt is not older than maxAgeMs (replayed or long-dead descriptors);
 *  5. the signature is valid for that key.
 */
import type { NodeAddress } from '../network/codec/address.js';
import { CodecError } from '../network/codec/errors.js';
import {
  type DescriptorLimits,
  type WireDescriptor,
  decodeDescriptor,
  detachDescriptor,
  encodeDescriptorBody,
  encodeSignedDescriptor,
} from '../network/codec/descriptor.js';
import { defaultCodecLimits } from '../network/codec/limits.js';
import { type NodeIdentity, nodeIdFromPublicKey, sign, verify } from './identity.js';

/** Prepended to the body bytes before signing (domain separation). */
export const DESCRIPTOR_SIGNING_CONTEXT: Uint8Array = new TextEncoder().encode('peercloud node descriptor v1\u0000');

/** A verified descriptor: the wire form plus the node id derived from its key. */
export interface NodeDescriptor extends WireDescriptor {
  readonly nodeId: string;
}

/** Whatever can sign for a node: its identity in the daemon (see `identitySigner`). */
export interface DescriptorSigner {
  readonly publicKey: Uint8Array;
  sign(bytes: Uint8Array): Uint8Array;
}

export function identitySigner(identity: NodeIdentity): DescriptorSigner {
  return { publicKey: identity.publicKey, sign: (bytes) => sign(identity, bytes) };
}

export interface DescriptorPolicy {
  /** How far issuedAt may be ahead of our clock (peers' clocks are not synchronized). */
  readonly maxClockSkewMs: number;
  /** Older descriptors are dropped (Infinity: never). Must exceed the re-signing interval. */
  readonly maxAgeMs: number;
  readonly limits: DescriptorLimits;
}

export const defaultDescriptorPolicy: DescriptorPolicy = Object.freeze({
  maxClockSkewMs: 60_000,
  maxAgeMs: 2 * 60 * 60_000,
  limits: defaultCodecLimits,
});

export type DescriptorRejection = 'fields' | 'node-id' | 'future' | 'expired' | 'signature';

/**
 * A descriptor that is forged, invalid or unusable. A CodecError, so that everything wrong with
 * what a peer sent can be caught as one class; `reason` says which check failed.
 */
export class DescriptorError extends CodecError {
  readonly reason: DescriptorRejection;
  constructor(field: string, reason: DescriptorRejection, problem: string, options?: { cause?: unknown }) {
    super(field, problem, options);
    this.name = 'DescriptorError';
    this.reason = reason;
  }
}

export interface DescriptorContent {
  readonly addresses: readonly NodeAddress[];
  readonly issuedAt: number;
  readonly sequence: number;
}

/** The bytes a signature covers: context ‖ body. */
export function signedBytes(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(DESCRIPTOR_SIGNING_CONTEXT.length + body.length);
  out.set(DESCRIPTOR_SIGNING_CONTEXT, 0);
  out.set(body, DESCRIPTOR_SIGNING_CONTEXT.length);
  return out;
}

/** Signs `content` as the signer's node. Throws a RangeError if a field is invalid (addresses must be canonical: see normalizeAddress). */
export function signDescriptor(signer: DescriptorSigner, content: DescriptorContent, limits: DescriptorLimits = defaultCodecLimits): NodeDescriptor {
  const publicKey = new Uint8Array(signer.publicKey);
  const addresses = content.addresses.map((a) => ({ host: a.host, port: a.port }));
  if (addresses.length > limits.maxAddresses) throw new RangeError(`descriptor needs 1..${limits.maxAddresses} addresses, got ${addresses.length}`);
  const fields = { publicKey, addresses, issuedAt: content.issuedAt, sequence: content.sequence };
  // Copies: protobufjs hands out slices of Node's shared buffer pool, which a kept view would pin.
  const body = new Uint8Array(encodeDescriptorBody(fields, limits.addressPolicy));
  const signature = new Uint8Array(signer.sign(signedBytes(body)));
  const encoded = encodeSignedDescriptor(body, signature);
  if (encoded.length > limits.maxDescriptorBytes) throw new RangeError(`descriptor is ${encoded.length} bytes, at most ${limits.maxDescriptorBytes} allowed`);
  return { nodeId: nodeIdFromPublicKey(publicKey), ...fields, body, signature, encoded: new Uint8Array(encoded) };
}

/**
 * Checks a descriptor from a peer and returns it verified, detached from the message it came in.
 * Only `encoded` is trusted as input: the fields are decoded again from it, so an object whose
 * fields disagree with its signed bytes cannot slip through. A `nodeId` on the input is a claim
 * that is checked against the key. Throws DescriptorError.
 */
export function verifyDescriptor(
  descriptor: WireDescriptor | (WireDescriptor & { readonly nodeId?: string }),
  now: number,
  policy: DescriptorPolicy = defaultDescriptorPolicy,
  field = 'descriptor',
): NodeDescriptor {
  if (typeof descriptor !== 'object' || descriptor === null || !(descriptor.encoded instanceof Uint8Array)) {
    throw new DescriptorError(field, 'fields', 'not a descriptor (no encoded bytes)');
  }
  let d: WireDescriptor;
  try {
    d = decodeDescriptor(descriptor.encoded, policy.limits, field);
  } catch (err) {
    if (err instanceof CodecError) throw new DescriptorError(err.field, 'fields', err.message.slice(err.field.length + 2), { cause: err });
    throw err;
  }
  const nodeId = nodeIdFromPublicKey(d.publicKey);
  const claimed = (descriptor as { nodeId?: unknown }).nodeId;
  if (claimed !== undefined && claimed !== nodeId) {
    throw new DescriptorError(`${field}.nodeId`, 'node-id', `claims node id ${String(claimed)} but its key belongs to ${nodeId}`);
  }
  if (d.issuedAt > now + policy.maxClockSkewMs) {
    throw new DescriptorError(`${field}.issuedAt`, 'future', `issued ${d.issuedAt - now} ms in the future (at most ${policy.maxClockSkewMs} ms of clock skew allowed)`);
  }
  if (d.issuedAt < now - policy.maxAgeMs) {
    throw new DescriptorError(`${field}.issuedAt`, 'expired', `issued ${now - d.issuedAt} ms ago (descriptors expire after ${policy.maxAgeMs} ms)`);
  }
  if (!verify(d.publicKey, signedBytes(d.body), d.signature)) {
    throw new DescriptorError(`${field}.signature`, 'signature', `is not a valid signature by the key of ${nodeId}`);
  }
  return { nodeId, ...detachDescriptor(d) };
}
