/**
 * Descriptors by digest, so that gossip messages can name a node by an 8-byte reference instead of
 * its ~130-byte signed descriptor (DESCRIPTOR_REF_BYTES in src/network/codec/descriptor.ts).
 *
 * Why: a node's descriptor changes rarely (a new address, or a re-signing every 15 minutes) while it
 * travels in every peer sampling message, ~15 times per exchange. With references a Newscast
 * exchange shrinks by about ten times; a receiver that does not hold a referenced descriptor fetches
 * it once from the sender (the runtime's DESCRIPTORS request), and keeps it here.
 *
 * What is kept: only descriptors whose signature was verified (by the peer directory) and our own.
 * Everything we send by reference is kept too, so we can answer a peer that asks for it. The store is
 * a bounded LRU: a peer that floods us with valid descriptors of its own only evicts older entries,
 * which costs at most a refetch.
 */
import { DESCRIPTOR_REF_BYTES, type DescriptorRef, type WireDescriptor, descriptorDigest, descriptorRef } from '../network/codec/descriptor.js';

export const DEFAULT_STORE_CAPACITY = 4096;

export class DescriptorStore {
  readonly capacity: number;
  /** Digest (as a latin1 string of its 8 bytes) → descriptor, least recently used first. */
  private readonly byDigest = new Map<string, WireDescriptor>();
  /** Digests already computed, per descriptor object (descriptors are immutable). */
  private readonly digests = new WeakMap<WireDescriptor, Uint8Array>();

  constructor(capacity = DEFAULT_STORE_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`store capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** The 8-byte digest of a descriptor (computed once per object). */
  digestOf(d: WireDescriptor): Uint8Array {
    let digest = this.digests.get(d);
    if (digest === undefined) {
      digest = descriptorDigest(d.encoded);
      this.digests.set(d, digest);
    }
    return digest;
  }

  /** Keeps `d` (trusted: verified or our own) and returns its digest. */
  add(d: WireDescriptor): Uint8Array {
    const digest = this.digestOf(d);
    const key = digestKey(digest);
    const held = this.byDigest.get(key);
    if (held !== undefined) this.byDigest.delete(key);
    this.byDigest.set(key, held ?? d);
    if (this.byDigest.size > this.capacity) {
      const oldest = this.byDigest.keys().next().value as string;
      this.byDigest.delete(oldest);
    }
    return digest;
  }

  /** The reference item to send for `d`; keeps `d` so that a peer can fetch it from us. */
  refFor(d: WireDescriptor): DescriptorRef {
    return descriptorRef(this.add(d));
  }

  /** The descriptor with this digest, or undefined. */
  get(digest: Uint8Array): WireDescriptor | undefined {
    if (digest.length !== DESCRIPTOR_REF_BYTES) return undefined;
    const key = digestKey(digest);
    const d = this.byDigest.get(key);
    if (d !== undefined) {
      this.byDigest.delete(key);
      this.byDigest.set(key, d);
    }
    return d;
  }
}

/** A Map key for a digest. */
export function digestKey(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.length).toString('latin1');
}
