/**
 * Decides which accepted announcements reach the daemon. A node announcing on schedule is passed on
 * at most once per `minNotifyGapMs`, so a peer that multicasts in a tight loop (buggy or hostile)
 * costs the daemon one callback per gap, not one per datagram. Memory is bounded: at most
 * `maxTracked` node ids are remembered, an id is forgotten `forgetAfterMs` after it was last heard,
 * and while the table is full of live ids, new ids are refused (a flood of invented ids cannot push
 * out the real peers, and cannot grow the table).
 */
import type { Clock } from '../../core/clock.js';

export interface PeerNotifyLimiterOptions {
  readonly clock: Clock;
  /** Least time between two notifications for one node id. */
  readonly minNotifyGapMs: number;
  /** An id not heard from for this long is forgotten (and is new again if it comes back). */
  readonly forgetAfterMs: number;
  readonly maxTracked: number;
}

/** `notify`: pass it on (`isNew` if the id was not remembered). Otherwise why not. */
export type LimiterVerdict = { readonly notify: true; readonly isNew: boolean } | { readonly notify: false; readonly reason: 'rateLimited' | 'tooManyPeers' };

interface Entry {
  lastHeard: number;
  lastNotified: number;
}

export class PeerNotifyLimiter {
  /** Insertion order is last-heard order (entries are re-inserted when heard), oldest first. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: PeerNotifyLimiterOptions) {
    if (!(options.minNotifyGapMs >= 0)) throw new RangeError(`minNotifyGapMs must be >= 0, got ${options.minNotifyGapMs}`);
    if (!(options.forgetAfterMs >= options.minNotifyGapMs)) {
      throw new RangeError(`forgetAfterMs (${options.forgetAfterMs}) must be at least minNotifyGapMs (${options.minNotifyGapMs})`);
    }
    if (!(Number.isInteger(options.maxTracked) && options.maxTracked >= 1)) throw new RangeError(`maxTracked must be a positive integer, got ${options.maxTracked}`);
  }

  /** Records that `nodeId` announced itself now, and says whether to tell the daemon. */
  heard(nodeId: string): LimiterVerdict {
    const now = this.options.clock.now();
    this.forgetOld(now);
    const entry = this.entries.get(nodeId);
    if (entry === undefined) {
      if (this.entries.size >= this.options.maxTracked) return { notify: false, reason: 'tooManyPeers' };
      this.entries.set(nodeId, { lastHeard: now, lastNotified: now });
      return { notify: true, isNew: true };
    }
    entry.lastHeard = now;
    this.entries.delete(nodeId);
    this.entries.set(nodeId, entry);
    if (now - entry.lastNotified < this.options.minNotifyGapMs) return { notify: false, reason: 'rateLimited' };
    entry.lastNotified = now;
    return { notify: true, isNew: false };
  }

  /** Node ids currently remembered. */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private forgetOld(now: number): void {
    // Oldest first, so this stops at the first live entry: amortized O(1) per call.
    for (const [nodeId, entry] of this.entries) {
      if (now - entry.lastHeard < this.options.forgetAfterMs) break;
      this.entries.delete(nodeId);
    }
  }
}
