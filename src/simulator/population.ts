import type { PeerHandle } from '../core/handles.js';
import type { Random } from '../core/random.js';
import { grownCapacity, resized } from '../core/typed-arrays.js';

/**
 * The simulated nodes. Handles are never reused: a node that dies stays dead, and a joining node
 * gets a fresh handle, so a stale descriptor in some view points at a dead node (a "dead link"), as
 * in a real network, rather than silently at a newcomer.
 */
export class Population {
  private alive: Uint8Array;
  private list: Int32Array;
  private where: Int32Array;
  private liveCount = 0;
  private created = 0;

  constructor(capacity: number) {
    const cap = Math.max(1, capacity);
    this.alive = new Uint8Array(cap);
    this.list = new Int32Array(cap);
    this.where = new Int32Array(cap);
  }

  /** Number of live nodes. */
  get size(): number {
    return this.liveCount;
  }

  /** Number of handles ever created (live or dead); every handle is below this. */
  get handles(): number {
    return this.created;
  }

  get capacity(): number {
    return this.alive.length;
  }

  /** Creates a live node; returns its handle. Callers grow protocol state via `capacity`. */
  spawn(): PeerHandle {
    const h = this.created++;
    if (h >= this.alive.length) this.grow(h + 1);
    this.alive[h] = 1;
    this.where[h] = this.liveCount;
    this.list[this.liveCount++] = h;
    return h;
  }

  kill(h: PeerHandle): void {
    if (!this.alive[h]) return;
    this.alive[h] = 0;
    const at = this.where[h];
    const last = this.list[--this.liveCount];
    this.list[at] = last;
    this.where[last] = at;
  }

  isAlive(h: PeerHandle): boolean {
    return h >= 0 && h < this.created && this.alive[h] === 1;
  }

  /** The live handles; the view is only valid until the next spawn or kill. */
  live(): Int32Array {
    return this.list.subarray(0, this.liveCount);
  }

  /** A uniformly random live node, or -1 if none. */
  randomLive(rng: Random): PeerHandle {
    return this.liveCount === 0 ? -1 : this.list[rng.int(this.liveCount)];
  }

  /** Raw liveness flags indexed by handle (read-only use: observers' hot loops). */
  get aliveFlags(): Uint8Array {
    return this.alive;
  }

  private grow(min: number): void {
    const cap = grownCapacity(this.alive.length, min);
    this.alive = resized(this.alive, cap);
    this.list = resized(this.list, cap);
    this.where = resized(this.where, cap);
  }
}
