/**
 * Failure rumors: how a node that could not reach a peer tells the others, so every view drops a
 * dead node within a few cycles instead of each node waiting to fail to reach it itself.
 *
 * The idea is SWIM's suspicion with incarnation numbers, carried on the gossip we already send:
 *  - A rumor names one *descriptor* of a node (by its 8-byte digest), not the node. It means "the
 *    node that signed this descriptor did not answer". Every node that hears it drops that
 *    descriptor from its view and refuses it for `ttlMs`.
 *  - The accused node, if alive, refutes by re-signing its descriptor (a higher sequence, so a new
 *    digest) when it hears the rumor: the new descriptor is not covered and spreads as usual. So a
 *    false suspicion (a timeout, a partition, a malicious peer) costs a live node a few cycles out of
 *    some views, never its membership; a malicious peer cannot remove anyone for good, and cannot
 *    forge a newer descriptor for somebody else.
 *  - Each node relays a rumor it learned on its next `transmits` outgoing messages (SWIM's λ·log n
 *    retransmissions), newest rumors first, at most `perMessage` per message.
 */
import { DESCRIPTOR_REF_BYTES } from '../../network/codec/descriptor.js';
import { digestKey } from '../descriptor-store.js';

export interface FailureRumorOptions {
  /** How long a rumored descriptor stays refused (default 60 s). */
  readonly ttlMs?: number;
  /** Rumors carried per message at most (default 8). */
  readonly perMessage?: number;
  /** Rumors remembered at most; the oldest are forgotten first (default 1024). */
  readonly capacity?: number;
}

interface Rumor {
  readonly digest: Uint8Array;
  readonly learnedAt: number;
  transmitsLeft: number;
}

export const MAX_RUMORS_PER_MESSAGE = 16;

export class FailureRumors {
  readonly ttlMs: number;
  readonly perMessage: number;
  readonly capacity: number;
  /** Oldest first (insertion order). */
  private readonly rumors = new Map<string, Rumor>();

  constructor(options: FailureRumorOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.perMessage = options.perMessage ?? 8;
    this.capacity = options.capacity ?? 1024;
    if (!(this.ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${this.ttlMs}`);
    if (!Number.isInteger(this.perMessage) || this.perMessage < 0 || this.perMessage > MAX_RUMORS_PER_MESSAGE) {
      throw new RangeError(`perMessage must be an integer in 0..${MAX_RUMORS_PER_MESSAGE}, got ${this.perMessage}`);
    }
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${this.capacity}`);
  }

  get size(): number {
    return this.rumors.size;
  }

  /**
   * Records a rumor (ours or heard); returns true if it is new. A rumor heard again does not
   * restart its relaying: that would make rumors bounce around forever.
   */
  add(digest: Uint8Array, now: number, transmits: number): boolean {
    if (digest.length !== DESCRIPTOR_REF_BYTES) throw new RangeError(`a rumor names an ${DESCRIPTOR_REF_BYTES}-byte digest, got ${digest.length} bytes`);
    const key = digestKey(digest);
    if (this.rumors.has(key)) return false;
    this.rumors.set(key, { digest: new Uint8Array(digest), learnedAt: now, transmitsLeft: Math.max(0, Math.floor(transmits)) });
    if (this.rumors.size > this.capacity) this.rumors.delete(this.rumors.keys().next().value as string);
    return true;
  }

  /** Whether the descriptor with this digest is rumored dead (and the rumor not expired). */
  covers(digest: Uint8Array, now: number): boolean {
    const r = this.rumors.get(digestKey(digest));
    return r !== undefined && now - r.learnedAt < this.ttlMs;
  }

  /** The rumors to carry on the next message (newest first), counting one transmission each. */
  takeForMessage(now: number): Uint8Array[] {
    this.expire(now);
    const out: Uint8Array[] = [];
    const all = [...this.rumors.values()];
    for (let i = all.length - 1; i >= 0 && out.length < this.perMessage; i--) {
      const r = all[i];
      if (r.transmitsLeft <= 0) continue;
      r.transmitsLeft--;
      out.push(r.digest);
    }
    return out;
  }

  /** Forgets expired rumors. */
  expire(now: number): void {
    for (const [key, r] of this.rumors) {
      if (now - r.learnedAt < this.ttlMs) break; // insertion order is learning order
      this.rumors.delete(key);
    }
  }
}

/** SWIM's retransmission count: λ·⌈log2(n + 1)⌉ with λ = 3, for a network of about n nodes. */
export function retransmissions(networkSize: number): number {
  const n = Number.isFinite(networkSize) && networkSize > 1 ? networkSize : 2;
  return 3 * Math.ceil(Math.log2(n + 1));
}
