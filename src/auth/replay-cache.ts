/**
 * The nonces of recently accepted signed requests, bounded in memory.
 *
 * A signed request is acceptable only within the clock window around its timestamp, so a nonce
 * needs remembering only until its timestamp leaves the window (`keepUntilMs`); after that the
 * clock check refuses a replay by itself. Entries are dropped in that order (a min-heap on
 * `keepUntilMs`).
 *
 * When the cache is full of entries that are all still needed, it must forget one it cannot yet
 * afford to forget. It then raises a *floor*: any request whose timestamp is not above the forgotten
 * entry's timestamp is refused from then on, since we can no longer tell whether it was seen. That
 * keeps the guarantee (no request is ever accepted twice) at any memory bound; the price, under a
 * flood, is that older-but-in-window requests are refused and their clients must re-sign. Evicting
 * the soonest-to-expire entry keeps the floor as low as possible.
 *
 * A replay cache lives in one process: a node that restarts forgets it. `notBeforeMs` (e.g. the
 * start time) closes that gap, at the cost of refusing requests signed before the restart.
 */

export interface ReplayCacheOptions {
  /**
   * Most nonces held at once (default 20 000, about 7 MB). Entries live at most twice the clock
   * window (10 minutes by default), so the default absorbs ~33 signed requests per second sustained
   * before the floor starts refusing older-but-in-window requests.
   */
  readonly maxEntries?: number;
  /** Initial floor: requests timestamped at or before it are refused (default: none). */
  readonly notBeforeMs?: number;
}

/** `fresh`: first sighting, now recorded; `replayed`: seen before; `too-old`: at or below the floor. */
export type ReplayVerdict = 'fresh' | 'replayed' | 'too-old';

export const DEFAULT_REPLAY_CACHE_ENTRIES = 20_000;

interface Entry {
  readonly key: string;
  readonly timestampMs: number;
  readonly keepUntilMs: number;
}

export class ReplayCache {
  readonly maxEntries: number;
  private readonly keys = new Set<string>();
  private readonly heap: Entry[] = [];
  private floorMs: number;

  constructor(options: ReplayCacheOptions = {}) {
    const max = options.maxEntries ?? DEFAULT_REPLAY_CACHE_ENTRIES;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxEntries must be a positive integer, got ${max}`);
    this.maxEntries = max;
    this.floorMs = options.notBeforeMs ?? Number.NEGATIVE_INFINITY;
  }

  get size(): number {
    return this.keys.size;
  }

  /** Requests timestamped at or before this are refused as `too-old`. */
  get notBeforeMs(): number {
    return this.floorMs;
  }

  /**
   * Records `key` (user and nonce) unless it was seen or is below the floor. `keepUntilMs` is when
   * the clock check starts refusing this timestamp anyway; `nowMs` drops entries past theirs.
   */
  check(key: string, timestampMs: number, keepUntilMs: number, nowMs: number): ReplayVerdict {
    this.expire(nowMs);
    if (this.keys.has(key)) return 'replayed';
    if (timestampMs <= this.floorMs) return 'too-old';
    while (this.keys.size >= this.maxEntries) {
      const evicted = this.pop();
      this.floorMs = Math.max(this.floorMs, evicted.timestampMs);
    }
    // Making room may have raised the floor above this very request.
    if (timestampMs <= this.floorMs) return 'too-old';
    this.push({ key, timestampMs, keepUntilMs });
    return 'fresh';
  }

  private expire(nowMs: number): void {
    while (this.heap.length > 0 && this.heap[0].keepUntilMs < nowMs) this.pop();
  }

  // A binary min-heap on keepUntilMs, in `heap`, mirrored by `keys`.

  private push(entry: Entry): void {
    const heap = this.heap;
    this.keys.add(entry.key);
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].keepUntilMs <= entry.keepUntilMs) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    this.keys.delete(top.key);
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && heap[right].keepUntilMs < heap[left].keepUntilMs ? right : left;
        if (heap[child].keepUntilMs >= last.keepUntilMs) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
