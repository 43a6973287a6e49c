/**
 * The COUNT instances of every node (Jelasity, Montresor, Babaoglu, ACM TOCS 23(3), 2005, §4.3):
 * each instance is an averaging started by one leader with value 1 (everyone else 0), so its value
 * converges to 1/N. Instances are identified by a random 32-bit key drawn by their leader (handles
 * are local to a process in the daemon, so they cannot name an instance).
 *
 * A node keeps at most K instances, those with the smallest keys, sorted by key in a flat slice
 * [self·K, self·K + size) of typed arrays. Because every node keeps "the K smallest keys it has
 * seen", an instance among the K smallest keys of the epoch is never dropped anywhere, so its mass
 * is conserved; larger ones die out everywhere. A node that has not heard of an instance yet holds 0
 * of it, which is exactly what a non-leader starts with, so hearing of it late loses nothing.
 *
 * Combining: with k known instances of values v_1..v_k, N̂ = k / Σ v_i. This pools the instances
 * into one averaging of k units of mass started at k leaders, so (a) an instance whose value at this
 * node is still 0 contributes a finite amount instead of an infinite 1/v_i, and (b) the initial
 * variance is spread over k peaks, which converges faster than any single instance.
 */
import type { PeerHandle } from '../../core/handles.js';
import { resized } from '../../core/typed-arrays.js';

export class CountInstances {
  keys: Uint32Array;
  values: Float64Array;
  sizes: Uint8Array;
  // Scratch for merges: exchanges are handled one at a time.
  private readonly mergedKeys: Uint32Array;
  private readonly mergedValues: Float64Array;

  constructor(readonly k: number) {
    this.keys = new Uint32Array(0);
    this.values = new Float64Array(0);
    this.sizes = new Uint8Array(0);
    this.mergedKeys = new Uint32Array(k);
    this.mergedValues = new Float64Array(k);
  }

  ensureCapacity(capacity: number): void {
    if (capacity <= this.sizes.length) return;
    this.keys = resized(this.keys, capacity * this.k);
    this.values = resized(this.values, capacity * this.k);
    this.sizes = resized(this.sizes, capacity);
  }

  clear(self: PeerHandle): void {
    this.sizes[self] = 0;
  }

  /** `self` leads a new instance: it holds all of its mass. */
  lead(self: PeerHandle, key: number): void {
    const base = self * this.k;
    this.keys[base] = key;
    this.values[base] = 1;
    this.sizes[self] = 1;
  }

  size(self: PeerHandle): number {
    return this.sizes[self];
  }

  /** Σ v_i over the instances `self` knows. */
  mass(self: PeerHandle): number {
    const base = self * this.k;
    const n = this.sizes[self];
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.values[base + i];
    return sum;
  }

  /** N̂ = k / Σ v_i, or NaN when `self` knows no instance or holds no mass of any yet. */
  estimate(self: PeerHandle): number {
    const n = this.sizes[self];
    if (n === 0) return Number.NaN;
    const m = this.mass(self);
    return m > 0 ? n / m : Number.NaN;
  }

  /** Appends `self`'s instances (sorted by key) to a message. */
  write(self: PeerHandle, keys: number[], values: number[]): void {
    const base = self * this.k;
    const n = this.sizes[self];
    for (let i = 0; i < n; i++) {
      keys.push(this.keys[base + i]);
      values.push(this.values[base + i]);
    }
  }

  /**
   * Passive side of an exchange: for every instance in the union of `self`'s and the request's
   * (the K smallest keys), reply with `self`'s old value (0 if unknown) and set
   * v_self = (v_self + v_sender) / 2, a missing value counting as 0.
   */
  respond(self: PeerHandle, reqKeys: readonly number[], reqValues: readonly number[], outKeys: number[], outValues: number[]): void {
    const base = self * this.k;
    const n = this.sizes[self];
    const m = reqKeys.length;
    const keys = this.keys;
    const values = this.values;
    const mk = this.mergedKeys;
    const mv = this.mergedValues;
    let i = 0;
    let j = 0;
    let w = 0;
    while ((i < n || j < m) && w < this.k) {
      const mine = i < n ? keys[base + i] : 0xffffffff + 1;
      const theirs = j < m ? reqKeys[j] : 0xffffffff + 1;
      const key = mine < theirs ? mine : theirs;
      let own = 0;
      let other = 0;
      if (mine === key) own = values[base + i++];
      if (theirs === key) other = reqValues[j++];
      outKeys.push(key);
      outValues.push(own);
      mk[w] = key;
      mv[w++] = (own + other) / 2;
    }
    this.store(self, w);
  }

  /**
   * Active side, on the reply: for every instance in the reply, move by half the difference between
   * the peer's old value and what `self` sent (0 if it did not send that instance). When nothing
   * changed locally since sending this is the plain average; when the node took part in other
   * exchanges meanwhile (event-driven mode), it still conserves mass exactly. Instances `self` holds
   * that are not in the reply are kept; the result is cut to the K smallest keys.
   */
  settle(
    self: PeerHandle,
    sentKeys: readonly number[],
    sentValues: readonly number[],
    resKeys: readonly number[],
    resValues: readonly number[],
  ): void {
    const base = self * this.k;
    const n = this.sizes[self];
    const r = resKeys.length;
    const s = sentKeys.length;
    const keys = this.keys;
    const values = this.values;
    const mk = this.mergedKeys;
    const mv = this.mergedValues;
    let i = 0;
    let j = 0;
    let l = 0;
    let w = 0;
    while ((i < n || j < r) && w < this.k) {
      const mine = i < n ? keys[base + i] : 0xffffffff + 1;
      const theirs = j < r ? resKeys[j] : 0xffffffff + 1;
      if (mine < theirs) {
        mk[w] = mine;
        mv[w++] = values[base + i++];
        continue;
      }
      const key = theirs;
      const old = resValues[j++];
      const current = mine === key ? values[base + i++] : 0;
      while (l < s && sentKeys[l] < key) l++;
      const sent = l < s && sentKeys[l] === key ? sentValues[l] : 0;
      mk[w] = key;
      mv[w++] = current === sent ? (sent + old) / 2 : current + (old - sent) / 2;
    }
    this.store(self, w);
  }

  private store(self: PeerHandle, n: number): void {
    const base = self * this.k;
    for (let i = 0; i < n; i++) {
      this.keys[base + i] = this.mergedKeys[i];
      this.values[base + i] = this.mergedValues[i];
    }
    this.sizes[self] = n;
  }
}
