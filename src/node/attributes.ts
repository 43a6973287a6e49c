/**
 * Node attributes: what this machine offers the cloud, as the aggregation and slicing protocols and
 * the user API see it. Static ones (cores, total memory) are read once at start, the CPU score is
 * read from the data directory (measured when it was prepared, see cpu-score-file.ts);
 * free memory, free disk, load and availability are refreshed periodically by the AttributeMonitor.
 *
 * Free cores = max(0, cores − 1-minute load average): what a new job could use right now. The
 * network sums and averages it ("total free cores").
 */
import type { Clock } from '../core/clock.js';
import { type SystemProbe, type Timers, hostSystem, realTimers, type Cancel } from './attributes-system.js';
import { type AvailabilitySummary, AvailabilityHistory, DEFAULT_SLOT_MS } from './availability.js';
import type { Labels } from './config-values.js';
import { type CpuScoreOptions, measureCpuScore } from './cpu-score.js';
import { storedOrMeasuredCpuScore } from './cpu-score-file.js';

export interface NodeAttributes {
  /** Logical CPUs available to the daemon. */
  readonly cores: number;
  /** Single-core speed, ~1000 on the reference machine (see cpu-score.ts). */
  readonly cpuScore: number;
  readonly memoryTotalBytes: number;
  readonly memoryFreeBytes: number;
  /** Of the file system holding the data directory. */
  readonly diskTotalBytes: number;
  readonly diskFreeBytes: number;
  /** 1-minute load average. */
  readonly loadAverage: number;
  /** max(0, cores − loadAverage). */
  readonly freeCores: number;
  /** Since this daemon started, ms. */
  readonly uptimeMs: number;
  readonly availability: AvailabilitySummary;
  readonly labels: Labels;
  /** When these values were read (clock ms). */
  readonly measuredAt: number;
}

export interface AttributeMonitorOptions {
  /** The data directory: its file system's free space is reported and the history lives there. It must exist. */
  readonly dataDir: string;
  readonly labels?: Labels;
  /** Default: the process clock (Date.now). */
  readonly clock?: Clock;
  /** Default: real (unref'd) timers. */
  readonly timers?: Timers;
  /** Default: the host. */
  readonly system?: SystemProbe;
  /**
   * A known score (tests), or options for measuring it in this process (tests). Default: the score
   * stored in the data directory (cpu-score-file.ts), measured in a child process and stored if
   * there is none for this machine.
   */
  readonly cpuScore?: number | CpuScoreOptions;
  /** How often free memory, disk and load are re-read (default 10 s). */
  readonly refreshIntervalMs?: number;
  /** How often availability is recorded (default 1 minute, the history's resolution). */
  readonly heartbeatIntervalMs?: number;
  /** Availability history resolution (default 1 minute). */
  readonly availabilitySlotMs?: number;
  /** Problems that do not stop the monitor: a failed disk read or history write, a discarded history. */
  readonly onError?: (message: string, error?: unknown) => void;
}

export type AttributesListener = (attributes: NodeAttributes) => void;

const systemClock: Clock = { now: () => Date.now() };

/**
 * Keeps NodeAttributes current. `start` reads (or measures) the CPU score, opens the availability history and
 * reads everything once; then refresh and heartbeat timers run until `close`. Periodic failures
 * (statfs on a vanished directory, a full disk for the history) are reported through `onError` and
 * the last good values are kept: attributes must never take the daemon down.
 */
export class AttributeMonitor {
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly system: SystemProbe;
  private readonly refreshIntervalMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly onError: (message: string, error?: unknown) => void;
  private readonly listeners = new Set<AttributesListener>();
  private readonly startedAt: number;
  private readonly cores: number;
  private readonly cpuScore: number;
  private labels: Labels;
  private latest: NodeAttributes;
  private cancels: { refresh?: Cancel; heartbeat?: Cancel } = {};
  /** The refresh or heartbeat in progress, so `settled` and `close` can wait for it. */
  private pending = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    private readonly options: AttributeMonitorOptions,
    private readonly history: AvailabilityHistory,
    cpuScore: number,
    clock: Clock,
  ) {
    this.clock = clock;
    this.timers = options.timers ?? realTimers;
    this.system = options.system ?? hostSystem;
    this.refreshIntervalMs = positive('refreshIntervalMs', options.refreshIntervalMs ?? 10_000);
    this.heartbeatIntervalMs = positive('heartbeatIntervalMs', options.heartbeatIntervalMs ?? DEFAULT_SLOT_MS);
    this.onError = options.onError ?? (() => undefined);
    this.startedAt = clock.now();
    this.cores = this.system.cores();
    this.cpuScore = cpuScore;
    this.labels = { ...(options.labels ?? {}) };
    this.latest = this.snapshot({ freeBytes: 0, totalBytes: 0 });
  }

  static async start(options: AttributeMonitorOptions): Promise<AttributeMonitor> {
    const clock = options.clock ?? systemClock;
    const score =
      typeof options.cpuScore === 'number'
        ? options.cpuScore
        : options.cpuScore !== undefined
          ? measureCpuScore(options.cpuScore).score
          : (await storedOrMeasuredCpuScore(options.dataDir, { onWarning: options.onError })).score;
    const history = await AvailabilityHistory.open(options.dataDir, {
      clock,
      slotMs: options.availabilitySlotMs,
      onWarning: (message) => options.onError?.(message),
    });
    const monitor = new AttributeMonitor(options, history, score, clock);
    await monitor.refresh();
    monitor.scheduleRefresh();
    monitor.scheduleHeartbeat();
    return monitor;
  }

  /** The latest values. */
  current(): NodeAttributes {
    return this.latest;
  }

  /** Called after each refresh with the new values. Returns a function that unsubscribes. */
  onUpdate(listener: AttributesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads the changing values now. Never rejects: a failed disk read keeps the previous disk values. */
  refresh(): Promise<NodeAttributes> {
    return this.track(this.doRefresh());
  }

  /** Resolves once no refresh or heartbeat is in progress (for tests driving fake timers). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops the timers and records a last heartbeat, so a clean stop loses no uptime. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancels.refresh?.();
    this.cancels.heartbeat?.();
    await this.settled();
    try {
      await this.history.heartbeat();
    } catch (err) {
      this.onError('could not record the final availability heartbeat', err);
    }
    this.listeners.clear();
  }

  private async doRefresh(): Promise<NodeAttributes> {
    let disk = { freeBytes: this.latest.diskFreeBytes, totalBytes: this.latest.diskTotalBytes };
    try {
      disk = await this.system.diskSpace(this.options.dataDir);
    } catch (err) {
      this.onError(`could not read free disk space of ${this.options.dataDir}`, err);
    }
    this.latest = this.snapshot(disk);
    for (const listener of this.listeners) {
      try {
        listener(this.latest);
      } catch (err) {
        this.onError('an attributes listener threw', err);
      }
    }
    return this.latest;
  }

  private snapshot(disk: { freeBytes: number; totalBytes: number }): NodeAttributes {
    const now = this.clock.now();
    const load = finiteOr(this.system.loadAverage(), 0);
    return {
      cores: this.cores,
      cpuScore: this.cpuScore,
      memoryTotalBytes: finiteOr(this.system.totalMemoryBytes(), 0),
      memoryFreeBytes: finiteOr(this.system.freeMemoryBytes(), 0),
      diskTotalBytes: disk.totalBytes,
      diskFreeBytes: disk.freeBytes,
      loadAverage: load,
      freeCores: Math.max(0, this.cores - load),
      uptimeMs: Math.max(0, now - this.startedAt),
      availability: this.history.summary(),
      labels: this.labels,
      measuredAt: now,
    };
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work)).catch(() => undefined);
    return work;
  }

  // Timers are re-armed after each run completes, so a slow disk never stacks runs up.
  private scheduleRefresh(): void {
    if (this.closed) return;
    this.cancels.refresh = this.timers.schedule(() => {
      void this.refresh().finally(() => this.scheduleRefresh());
    }, this.refreshIntervalMs);
  }

  private scheduleHeartbeat(): void {
    if (this.closed) return;
    this.cancels.heartbeat = this.timers.schedule(() => {
      const beat = this.history.heartbeat().catch((err: unknown) => this.onError(`could not write ${this.history.path}`, err));
      void this.track(beat).finally(() => this.scheduleHeartbeat());
    }, this.heartbeatIntervalMs);
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of ms, got ${value}`);
  return value;
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}
