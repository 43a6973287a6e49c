import type { PeerHandle } from '../../core/handles.js';

/**
 * Per-node caches of slicing descriptors (peer, attribute a, random value r, age), in flat typed
 * arrays. mod-JK (Jelasity & Kermarrec, P2P 2006, §4.2) chooses its swap partner among neighbours
 * whose (a, r) it knows; in the paper those come from the Newscast descriptors, here they come from
 * the slicing messages themselves: every message carries the sender's own descriptor and a few
 * cached ones, so the cache is a small gossiped view of fresh (a, r) pairs. a and r are stored as
 * 32-bit floats: they only guide the choice of a partner, the swap itself re-checks exact values.
 */
export class DescriptorCache {
  ids: Int32Array;
  attrs: Float32Array;
  rs: Float32Array;
  ages: Uint16Array;
  sizes: Uint8Array;
  private cap = 0;

  constructor(readonly k: number) {
    if (!Number.isInteger(k) || k < 1 || k > 255) throw new RangeError(`descriptor cache size must be an integer in 1..255, got ${k}`);
    this.ids = new Int32Array(0);
    this.attrs = new Float32Array(0);
    this.rs = new Float32Array(0);
    this.ages = new Uint16Array(0);
    this.sizes = new Uint8Array(0);
  }

  ensureCapacity(capacity: number): void {
    if (capacity <= this.cap) return;
    let next = Math.max(1, this.cap);
    while (next < capacity) next *= 2;
    const k = this.k;
    const grow = <T extends Int32Array | Float32Array | Uint16Array | Uint8Array>(old: T, make: (n: number) => T, n: number): T => {
      const a = make(n);
      a.set(old);
      return a;
    };
    this.ids = grow(this.ids, (n) => new Int32Array(n), next * k);
    this.attrs = grow(this.attrs, (n) => new Float32Array(n), next * k);
    this.rs = grow(this.rs, (n) => new Float32Array(n), next * k);
    this.ages = grow(this.ages, (n) => new Uint16Array(n), next * k);
    this.sizes = grow(this.sizes, (n) => new Uint8Array(n), next);
    this.cap = next;
  }

  clear(node: PeerHandle): void {
    this.sizes[node] = 0;
  }

  /** Ages every entry of a node by one step (saturating). */
  age(node: PeerHandle): void {
    const base = node * this.k;
    const n = this.sizes[node];
    for (let i = 0; i < n; i++) if (this.ages[base + i] < 0xffff) this.ages[base + i]++;
  }

  /**
   * Records a descriptor: refreshes the entry of the same peer if this one is at least as young,
   * else fills a free slot, else replaces the oldest entry when the new one is younger.
   */
  put(node: PeerHandle, peer: PeerHandle, attr: number, r: number, age: number): void {
    if (peer === node || peer < 0) return;
    const base = node * this.k;
    const n = this.sizes[node];
    let oldest = -1;
    for (let i = 0; i < n; i++) {
      if (this.ids[base + i] === peer) {
        if (age <= this.ages[base + i]) this.write(base + i, peer, attr, r, age);
        return;
      }
      if (oldest < 0 || this.ages[base + i] > this.ages[base + oldest]) oldest = i;
    }
    if (n < this.k) {
      this.write(base + n, peer, attr, r, age);
      this.sizes[node] = n + 1;
    } else if (oldest >= 0 && age < this.ages[base + oldest]) {
      this.write(base + oldest, peer, attr, r, age);
    }
  }

  remove(node: PeerHandle, peer: PeerHandle): void {
    const base = node * this.k;
    const n = this.sizes[node];
    for (let i = 0; i < n; i++) {
      if (this.ids[base + i] !== peer) continue;
      const last = base + n - 1;
      this.write(base + i, this.ids[last], this.attrs[last], this.rs[last], this.ages[last]);
      this.sizes[node] = n - 1;
      return;
    }
  }

  private write(at: number, peer: PeerHandle, attr: number, r: number, age: number): void {
    this.ids[at] = peer;
    this.attrs[at] = attr;
    this.rs[at] = r;
    this.ages[at] = Math.min(age, 0xffff);
  }
}
