/**
 * How often a daemon runs its peer sampling round: every cycle while its neighbourhood changes,
 * every `quietPeriod` cycles once things have been quiet for `settleCycles`.
 *
 * Why: peer sampling is the largest part of a daemon's traffic (a Newscast buffer of c/2 references
 * each way, ~230 of ~400 bytes per cycle), and in a stable network a view that is reshuffled every
 * other cycle serves its users as well: aggregation converges as fast over a slowly changing random
 * overlay (the averaging theory only needs a random graph, not a new one each cycle), and dead peers
 * leave views by failure rumors, which ride on every message of every round. What needs the full
 * rate is change: a node joining (its descriptor must spread), a node failing (rumors, refilling
 * views), a view that is not full. Those `disturb` the pace and it runs every cycle again.
 */
export interface SamplingPaceOptions {
  /** Cycles between sampling rounds once quiet (default 2). */
  readonly quietPeriod?: number;
  /** Quiet cycles (full view, no disturbance) before slowing down (default 10). */
  readonly settleCycles?: number;
}

export class SamplingPace {
  readonly quietPeriod: number;
  readonly settleCycles: number;
  private quietFor = 0;
  private sinceRound = 0;

  constructor(options: SamplingPaceOptions = {}) {
    this.quietPeriod = options.quietPeriod ?? 2;
    this.settleCycles = options.settleCycles ?? 10;
    if (!Number.isInteger(this.quietPeriod) || this.quietPeriod < 1) throw new RangeError(`quietPeriod must be a positive integer, got ${this.quietPeriod}`);
    if (!Number.isInteger(this.settleCycles) || this.settleCycles < 0) throw new RangeError(`settleCycles must be a non-negative integer, got ${this.settleCycles}`);
  }

  /** Whether the pace is slowed down now. */
  get quiet(): boolean {
    return this.quietFor >= this.settleCycles;
  }

  /** Something changed (a join, a failure, a rumor): sample every cycle for a while. */
  disturb(): void {
    this.quietFor = 0;
  }

  /** Called once per cycle: whether this cycle's sampling round runs. `viewFull`: see GossipNode. */
  due(viewFull: boolean): boolean {
    const quiet = viewFull && this.quiet;
    if (!viewFull) this.quietFor = 0;
    else if (this.quietFor < this.settleCycles) this.quietFor++;
    this.sinceRound++;
    if (quiet && this.sinceRound < this.quietPeriod) return false;
    this.sinceRound = 0;
    return true;
  }
}
