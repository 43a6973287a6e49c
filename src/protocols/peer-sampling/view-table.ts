import type { PeerHandle } from '../../core/handles.js';
import { grownCapacity, resized } from '../../core/typed-arrays.js';

/** Largest age stored; ages saturate here instead of wrapping. */
export const MAX_AGE = 0xffff;

/**
 * The partial views of many nodes in three flat typed arrays: node `n` owns slots
 * [n*c, n*c + size(n)) of `ids` and `ages`. One table holds a whole simulated population
 * (10^6 nodes x c=30 is 180 MB) or, in the daemon, the single local node.
 */
export class ViewTable {
  ids: Int32Array;
  ages: Int32Array;
  sizes: Uint8Array;
  private cap: number;

  constructor(
    readonly c: number,
    capacity = 1,
  ) {
    if (!Number.isInteger(c) || c < 1 || c > 255) throw new RangeError(`view size c must be an integer in 1..255, got ${c}`);
    this.cap = Math.max(1, capacity);
    this.ids = new Int32Array(this.cap * c);
    this.ages = new Int32Array(this.cap * c);
    this.sizes = new Uint8Array(this.cap);
  }

  get capacity(): number {
    return this.cap;
  }

  ensureCapacity(capacity: number): void {
    if (capacity <= this.cap) return;
    const next = grownCapacity(this.cap, capacity);
    this.ids = resized(this.ids, next * this.c);
    this.ages = resized(this.ages, next * this.c);
    this.sizes = resized(this.sizes, next);
    this.cap = next;
  }

  size(node: PeerHandle): number {
    return this.sizes[node];
  }

  clear(node: PeerHandle): void {
    this.sizes[node] = 0;
  }

  peerAt(node: PeerHandle, i: number): PeerHandle {
    return this.ids[node * this.c + i];
  }

  ageAt(node: PeerHandle, i: number): number {
    return this.ages[node * this.c + i];
  }

  indexOf(node: PeerHandle, peer: PeerHandle): number {
    const base = node * this.c;
    const n = this.sizes[node];
    for (let i = 0; i < n; i++) if (this.ids[base + i] === peer) return i;
    return -1;
  }

  /** Adds a descriptor if there is room and it is not already present (keeps the younger age). */
  add(node: PeerHandle, peer: PeerHandle, age = 0): boolean {
    if (peer === node) return false;
    const base = node * this.c;
    const i = this.indexOf(node, peer);
    if (i >= 0) {
      if (age < this.ages[base + i]) this.ages[base + i] = age;
      return false;
    }
    const n = this.sizes[node];
    if (n >= this.c) return false;
    this.ids[base + n] = peer;
    this.ages[base + n] = Math.min(age, MAX_AGE);
    this.sizes[node] = n + 1;
    return true;
  }

  /** Removes entry i; order of the remaining entries is preserved. */
  removeAt(node: PeerHandle, i: number): void {
    const base = node * this.c;
    const n = this.sizes[node];
    this.ids.copyWithin(base + i, base + i + 1, base + n);
    this.ages.copyWithin(base + i, base + i + 1, base + n);
    this.sizes[node] = n - 1;
  }

  /** The peers in a node's view, as a fresh array (for observers and APIs, not hot paths). */
  peers(node: PeerHandle): PeerHandle[] {
    const base = node * this.c;
    return Array.from(this.ids.subarray(base, base + this.sizes[node]));
  }
}
