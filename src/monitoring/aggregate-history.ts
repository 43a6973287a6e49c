/**
 * The recent past of this node's network aggregates, for the dashboard's charts: one sample per
 * `sampleMs` in a fixed ring buffer (default 15 minutes of 1-second samples, ~90 KiB), so the
 * charts show a history from the moment they open instead of starting empty.
 */
export const HISTORY_SERIES = [
  'size',
  'averageFreeCores',
  'totalFreeCores',
  'totalFreeMemoryBytes',
  'totalFreeDiskBytes',
  'averageLoad',
  'nodeLoad',
  'nodeFreeCores',
] as const;
export type HistorySeries = (typeof HISTORY_SERIES)[number];

/** One sample: a value per series; null where the node had no estimate yet. */
export type HistorySample = Readonly<Record<HistorySeries, number | null>>;

export interface HistoryReport {
  readonly sampleMs: number;
  /** Sample times (Unix ms), oldest first. */
  readonly t: readonly number[];
  /** One array per series, aligned with `t`. */
  readonly series: Readonly<Record<HistorySeries, readonly (number | null)[]>>;
}

export class AggregateHistory {
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity = 900,
    readonly sampleMs = 1_000,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    if (!Number.isFinite(sampleMs) || sampleMs <= 0) throw new RangeError(`sampleMs must be a positive number, got ${sampleMs}`);
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity * HISTORY_SERIES.length);
  }

  add(at: number, sample: HistorySample): void {
    this.times[this.next] = at;
    const base = this.next * HISTORY_SERIES.length;
    HISTORY_SERIES.forEach((name, i) => {
      const v = sample[name];
      // NaN marks "no estimate": it never occurs as a real aggregate value.
      this.values[base + i] = v === null || !Number.isFinite(v) ? Number.NaN : v;
    });
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** Samples taken after `since` (Unix ms; default: all). */
  report(since = -Infinity): HistoryReport {
    const t: number[] = [];
    const series = Object.fromEntries(HISTORY_SERIES.map((n) => [n, [] as (number | null)[]])) as Record<HistorySeries, (number | null)[]>;
    for (let k = 0; k < this.count; k++) {
      const slot = (this.next - this.count + k + this.capacity) % this.capacity;
      if (this.times[slot] <= since) continue;
      t.push(this.times[slot]);
      HISTORY_SERIES.forEach((name, i) => {
        const v = this.values[slot * HISTORY_SERIES.length + i];
        series[name].push(Number.isNaN(v) ? null : v);
      });
    }
    return { sampleMs: this.sampleMs, t, series };
  }
}
