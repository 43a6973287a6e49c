/**
 * Availability history: which minutes of the last 7 days this node was up, kept in a small file in
 * the data directory, so the node can advertise "up 97% of the last 24 h / 7 days" (a key input
 * for placing long-running work, as in BOINC's on-fraction).
 *
 * Format (`availability.bin`, 1296 bytes, little-endian): a header (magic "PCAV", version, slot
 * length, ring length, first and last slot), a bitmap with one bit per 1-minute slot over 7 days
 * used as a ring indexed by absolute slot number (time / slot length) modulo the ring length, and a
 * checksum. Its size never grows, whatever the uptime.
 *
 * Recording: at start, and at every heartbeat (once a minute), the node marks every slot from its
 * previous heartbeat *in this run* up to now. Nothing is marked between runs, so downtime shows as
 * unset slots. A gap between two heartbeats of the same run longer than `maxGapMs` (a suspended
 * laptop, a stopped VM) is treated as downtime too.
 *
 * Crash safety: each write goes to a temporary file that is then renamed over the old one, so a
 * kill -9 at any moment leaves either the previous or the new history, and loses at most the time
 * since the last heartbeat (the node under-reports, never over-reports). A file that is unreadable
 * or fails its checksum is replaced by a fresh history, with a warning.
 *
 * Fractions count only the time since the history began, so a node that has been up every minute
 * since it was first started reports 1, whatever its age; `trackedMs` says how much time backs the
 * number.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';

export const AVAILABILITY_FILE = 'availability.bin';

const MAGIC = 0x56414350; // "PCAV" little-endian
const VERSION = 1;
const HEADER_BYTES = 32;
const CHECKSUM_BYTES = 4;
export const DEFAULT_SLOT_MS = 60_000;
const DAY_MS = 24 * 3600_000;
const WEEK_MS = 7 * DAY_MS;

export interface AvailabilitySummary {
  /** Fraction of the last 24 h (or of the tracked time, if shorter) the node was up, 0..1. */
  readonly day: number;
  /** The same over the last 7 days. */
  readonly week: number;
  /** How much of the last 7 days the history covers (time since it began, at most 7 days), ms. */
  readonly trackedMs: number;
}

export interface AvailabilityOptions {
  readonly clock: Clock;
  /** Resolution (default 1 minute). Changing it discards an existing history. */
  readonly slotMs?: number;
  /** A longer silence between heartbeats of one run counts as downtime (default 3 minutes). */
  readonly maxGapMs?: number;
  /** Told when an existing file had to be discarded. */
  readonly onWarning?: (message: string) => void;
}

export class AvailabilityHistory {
  readonly path: string;
  readonly slotMs: number;
  private readonly slots: number;
  private readonly maxGapMs: number;
  private readonly clock: Clock;
  private readonly bitmap: Uint8Array;
  /** Absolute slot numbers; firstSlot = -1: empty history. */
  private firstSlot = -1;
  private lastSlot = -1;
  /** Time of the previous heartbeat of this run. */
  private lastBeat: number | undefined;
  /** Writes are chained so they land in order and never interleave. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(dir: string, options: AvailabilityOptions) {
    this.path = join(dir, AVAILABILITY_FILE);
    this.clock = options.clock;
    this.slotMs = options.slotMs ?? DEFAULT_SLOT_MS;
    if (!Number.isInteger(this.slotMs) || this.slotMs < 1000 || WEEK_MS % this.slotMs !== 0) {
      throw new RangeError(`slotMs must be an integer >= 1000 that divides 7 days, got ${this.slotMs}`);
    }
    this.slots = WEEK_MS / this.slotMs;
    this.maxGapMs = options.maxGapMs ?? 3 * this.slotMs;
    this.bitmap = new Uint8Array(Math.ceil(this.slots / 8));
  }

  /**
   * Loads the history of `dir` (or starts one), marks now as up and saves it. The data directory
   * must exist.
   */
  static async open(dir: string, options: AvailabilityOptions): Promise<AvailabilityHistory> {
    const history = new AvailabilityHistory(dir, options);
    await history.load(options.onWarning);
    await history.heartbeat();
    return history;
  }

  /** Marks the time since the previous heartbeat of this run as up, and saves. */
  heartbeat(): Promise<void> {
    const now = this.clock.now();
    const current = this.slotOf(now);
    const previous = this.lastBeat;
    // Within one run and without a long silence, the node was up all along since the last beat.
    const from = previous !== undefined && now - previous <= this.maxGapMs && now >= previous ? this.slotOf(previous) : current;
    this.mark(from, current);
    this.lastBeat = now;
    return this.save();
  }

  summary(): AvailabilitySummary {
    const now = this.clock.now();
    const current = this.slotOf(now);
    if (this.firstSlot < 0) return { day: 0, week: 0, trackedMs: 0 };
    const tracked = Math.min(this.slots, Math.max(0, current - this.firstSlot + 1));
    return {
      day: this.fraction(current, Math.min(tracked, DAY_MS / this.slotMs)),
      week: this.fraction(current, tracked),
      trackedMs: tracked * this.slotMs,
    };
  }

  /** Waits for pending writes (a crash test drops the object after this, without any close). */
  flush(): Promise<void> {
    return this.writing;
  }

  /** Size of the file in bytes: constant. */
  get fileBytes(): number {
    return HEADER_BYTES + this.bitmap.length + CHECKSUM_BYTES;
  }

  private slotOf(time: number): number {
    return Math.floor(time / this.slotMs);
  }

  /** Set slots in the `count` slots ending at `current`, divided by `count`. */
  private fraction(current: number, count: number): number {
    if (count <= 0) return 0;
    let up = 0;
    for (let s = current - count + 1; s <= current; s++) if (this.isSet(s)) up++;
    return up / count;
  }

  private isSet(slot: number): boolean {
    // Only slots in the ring's window (lastSlot - slots, lastSlot] hold data; older ones were
    // overwritten and newer ones have not happened yet as far as the file knows.
    if (slot > this.lastSlot || slot <= this.lastSlot - this.slots || slot < this.firstSlot) return false;
    const i = slot % this.slots;
    return (this.bitmap[i >>> 3] & (1 << (i & 7))) !== 0;
  }

  private mark(from: number, to: number): void {
    if (to < 0) return;
    if (this.firstSlot < 0) {
      this.firstSlot = to;
      this.lastSlot = to;
      from = to;
    }
    if (to > this.lastSlot) {
      // Moving the ring forward: clear the slots it now reuses, (lastSlot, to].
      const clearFrom = Math.max(this.lastSlot + 1, to - this.slots + 1);
      for (let s = clearFrom; s <= to; s++) this.setBit(s, false);
      this.lastSlot = to;
    }
    // The clock stepping back below the first slot restarts tracking there; slots older than the
    // ring's window cannot be recorded.
    const start = Math.max(from, this.lastSlot - this.slots + 1);
    if (start < this.firstSlot) this.firstSlot = start;
    for (let s = start; s <= to; s++) this.setBit(s, true);
  }

  private setBit(slot: number, value: boolean): void {
    const i = slot % this.slots;
    if (value) this.bitmap[i >>> 3] |= 1 << (i & 7);
    else this.bitmap[i >>> 3] &= ~(1 << (i & 7));
  }

  private encode(): Uint8Array {
    const out = new Uint8Array(this.fileBytes);
    const view = new DataView(out.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint8(4, VERSION);
    view.setUint32(8, this.slotMs, true);
    view.setUint32(12, this.slots, true);
    view.setFloat64(16, this.firstSlot, true);
    view.setFloat64(24, this.lastSlot, true);
    out.set(this.bitmap, HEADER_BYTES);
    out.set(checksum(out.subarray(0, out.length - CHECKSUM_BYTES)), out.length - CHECKSUM_BYTES);
    return out;
  }

  private async load(onWarning: ((message: string) => void) | undefined): Promise<void> {
    let data: Uint8Array;
    try {
      data = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const problem = this.decode(data);
    if (problem) onWarning?.(`${this.path}: ${problem}; starting a new availability history`);
  }

  /** Adopts the file's content; the reason if it is unusable. */
  private decode(data: Uint8Array): string | null {
    if (data.length < HEADER_BYTES) return `only ${data.length} bytes, not an availability history`;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (view.getUint32(0, true) !== MAGIC || view.getUint8(4) !== VERSION) return 'not an availability history (bad magic or version)';
    if (view.getUint32(8, true) !== this.slotMs || view.getUint32(12, true) !== this.slots) return 'recorded with another slot length';
    if (data.length !== this.fileBytes) return `expected ${this.fileBytes} bytes, found ${data.length}`;
    const sum = checksum(data.subarray(0, data.length - CHECKSUM_BYTES));
    if (!sum.every((b, i) => b === data[data.length - CHECKSUM_BYTES + i])) return 'checksum mismatch';
    const first = view.getFloat64(16, true);
    const last = view.getFloat64(24, true);
    const valid = (n: number): boolean => Number.isSafeInteger(n) && n >= -1;
    if (!valid(first) || !valid(last) || (first < 0) !== (last < 0) || first > last) return 'inconsistent slot range';
    this.firstSlot = first;
    this.lastSlot = last;
    this.bitmap.set(data.subarray(HEADER_BYTES, HEADER_BYTES + this.bitmap.length));
    return null;
  }

  private save(): Promise<void> {
    const bytes = this.encode(); // snapshot now, so chained writes save states in order
    const tmp = `${this.path}.tmp`;
    const write = async (): Promise<void> => {
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, this.path);
    };
    // A failed write must not poison the chain: the next heartbeat tries again.
    const next = this.writing.then(write, write);
    this.writing = next.catch(() => undefined);
    return next;
  }
}

function checksum(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest().subarray(0, CHECKSUM_BYTES);
}
