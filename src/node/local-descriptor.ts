/**
 * This node's own signed descriptor, re-signed whenever it changes or grows old.
 *
 * Sequence numbers: each re-signing takes max(previous + 1, now in ms). Peers keep the highest
 * sequence they have seen per node id, so a node restarted without any saved state must still
 * outrank its earlier descriptors; taking the clock for the sequence does that as long as the clock
 * has not gone back. `initialSequence` lets a daemon that does persist its last sequence pass it in,
 * and `supersede` is called when a peer shows us a descriptor of ours with a higher sequence (from an
 * earlier life, e.g. before a clock step back), so the next one outranks it.
 */
import type { Clock } from '../core/clock.js';
import { type AddressPolicy, type NodeAddress, defaultAddressPolicy, normalizeAddress } from '../network/codec/address.js';
import { type DescriptorLimits } from '../network/codec/descriptor.js';
import { defaultCodecLimits } from '../network/codec/limits.js';
import { type DescriptorSigner, type NodeDescriptor, signDescriptor } from './signed-descriptor.js';
import { nodeIdFromPublicKey } from './identity.js';

export interface LocalDescriptorOptions {
  /** Where peers can reach this node (1..4); normalized and checked against the address policy. */
  readonly addresses: readonly NodeAddress[];
  /** Re-sign when the current descriptor is this old (freshness; default 15 min). */
  readonly refreshIntervalMs?: number;
  /** The last sequence number this node used, if it saved one. */
  readonly initialSequence?: number;
  readonly limits?: DescriptorLimits;
}

export const DEFAULT_REFRESH_INTERVAL_MS = 15 * 60_000;

export class LocalDescriptor {
  readonly nodeId: string;
  readonly refreshIntervalMs: number;
  private readonly limits: DescriptorLimits;
  private addresses: readonly NodeAddress[];
  private descriptor: NodeDescriptor;

  constructor(
    private readonly signer: DescriptorSigner,
    private readonly clock: Clock,
    options: LocalDescriptorOptions,
  ) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    if (!(this.refreshIntervalMs > 0)) throw new RangeError(`refreshIntervalMs must be positive, got ${this.refreshIntervalMs}`);
    const initial = options.initialSequence ?? 0;
    if (!Number.isSafeInteger(initial) || initial < 0) throw new RangeError(`initialSequence must be a non-negative safe integer, got ${initial}`);
    this.limits = options.limits ?? defaultCodecLimits;
    this.nodeId = nodeIdFromPublicKey(signer.publicKey);
    this.addresses = this.normalized(options.addresses);
    this.descriptor = this.sign(initial);
  }

  /** The current descriptor, re-signed first if it is older than the refresh interval. */
  current(): NodeDescriptor {
    const age = this.clock.now() - this.descriptor.issuedAt;
    // A clock that jumped back also calls for a new descriptor: ours would look "from the future".
    if (age >= this.refreshIntervalMs || age < 0) this.descriptor = this.sign(this.descriptor.sequence);
    return this.descriptor;
  }

  /** Re-signs with new addresses (no-op if they are the same). */
  setAddresses(addresses: readonly NodeAddress[]): NodeDescriptor {
    const next = this.normalized(addresses);
    const same = next.length === this.addresses.length && next.every((a, i) => a.host === this.addresses[i].host && a.port === this.addresses[i].port);
    if (!same) {
      this.addresses = next;
      this.descriptor = this.sign(this.descriptor.sequence);
    }
    return this.descriptor;
  }

  /** Makes sure the current descriptor's sequence is above `sequence` (re-signing if needed). */
  supersede(sequence: number): NodeDescriptor {
    if (sequence >= this.descriptor.sequence) this.descriptor = this.sign(sequence);
    return this.descriptor;
  }

  private sign(previousSequence: number): NodeDescriptor {
    const now = Math.floor(this.clock.now());
    const issuedAt = Math.max(0, now);
    const sequence = Math.max(previousSequence + 1, issuedAt);
    return signDescriptor(this.signer, { addresses: this.addresses, issuedAt, sequence }, this.limits);
  }

  private normalized(addresses: readonly NodeAddress[]): NodeAddress[] {
    const max = this.limits.maxAddresses;
    if (!Array.isArray(addresses) || addresses.length < 1 || addresses.length > max) {
      throw new RangeError(`a node needs 1..${max} addresses, got ${Array.isArray(addresses) ? addresses.length : typeof addresses}`);
    }
    const policy: AddressPolicy = this.limits.addressPolicy ?? defaultAddressPolicy;
    return addresses.map((a) => normalizeAddress(a, policy));
  }
}
