/** Test doubles for the attribute monitor: a fake machine and timers driven by a manual clock. */
import type { ManualClock } from '../../src/core/clock.js';
import type { Cancel, DiskSpace, SystemProbe, Timers } from '../../src/node/attributes-system.js';

export class FakeSystem implements SystemProbe {
  coreCount = 4;
  total = 16 * 2 ** 30;
  free = 8 * 2 ** 30;
  load = 1.5;
  disk: DiskSpace = { freeBytes: 100 * 2 ** 30, totalBytes: 500 * 2 ** 30 };
  diskError: Error | undefined;
  diskReads: string[] = [];

  cores(): number {
    return this.coreCount;
  }
  totalMemoryBytes(): number {
    return this.total;
  }
  freeMemoryBytes(): number {
    return this.free;
  }
  loadAverage(): number {
    return this.load;
  }
  async diskSpace(path: string): Promise<DiskSpace> {
    this.diskReads.push(path);
    if (this.diskError) throw this.diskError;
    return this.disk;
  }
}

interface Entry {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** Timers that fire only when the test advances the clock. */
export class ManualTimers implements Timers {
  private entries: Entry[] = [];
  private seq = 0;
  constructor(private readonly clock: ManualClock) {}

  schedule(callback: () => void, delayMs: number): Cancel {
    const entry = { at: this.clock.now() + delayMs, seq: this.seq++, callback, cancelled: false };
    this.entries.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }

  /** Callbacks scheduled and neither run nor cancelled. */
  get pending(): number {
    return this.entries.filter((e) => !e.cancelled).length;
  }

  /**
   * Moves the clock forward by `ms`, running due callbacks in time order with the clock set to their
   * time, and awaiting `settle` after each (so async work a callback started, and the timer it
   * re-arms, happen before the next one fires).
   */
  async advance(ms: number, settle: () => Promise<void> = async () => undefined): Promise<void> {
    const end = this.clock.now() + ms;
    for (;;) {
      this.entries = this.entries.filter((e) => !e.cancelled);
      const due = this.entries.filter((e) => e.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.entries.splice(this.entries.indexOf(due), 1);
      this.clock.set(Math.max(this.clock.now(), due.at));
      due.callback();
      await settle();
    }
    this.clock.set(end);
  }
}
