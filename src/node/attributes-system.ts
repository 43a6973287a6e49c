/**
 * What the attribute monitor reads from the host, and how it waits: both injected, so tests run
 * the monitor with a fake machine and a fake clock instead of waiting for real minutes.
 */
import { statfs } from 'node:fs/promises';
import { availableParallelism, freemem, loadavg, totalmem } from 'node:os';

export interface DiskSpace {
  /** Bytes an unprivileged process can still write (statfs bavail × bsize). */
  readonly freeBytes: number;
  readonly totalBytes: number;
}

export interface SystemProbe {
  /** Logical CPUs this process may use. */
  cores(): number;
  totalMemoryBytes(): number;
  /** Memory available to new work (Linux: MemAvailable, which counts reclaimable cache). */
  freeMemoryBytes(): number;
  /** 1-minute load average (0 on Windows, which has none). */
  loadAverage(): number;
  /** Free and total space of the file system holding `path`. */
  diskSpace(path: string): Promise<DiskSpace>;
}

/** The real host, through node:os and fs.statfs. */
export const hostSystem: SystemProbe = {
  cores: () => availableParallelism(),
  totalMemoryBytes: () => totalmem(),
  freeMemoryBytes: () => freemem(),
  loadAverage: () => loadavg()[0],
  diskSpace: async (path) => {
    const s = await statfs(path);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  },
};

/** Cancels a scheduled callback; calling it after the callback ran, or twice, does nothing. */
export type Cancel = () => void;

export interface Timers {
  /** Runs `callback` once after `delayMs`. */
  schedule(callback: () => void, delayMs: number): Cancel;
}

/**
 * Real timers, unref'd: the monitor's periodic work must never be what keeps a process alive (the
 * daemon's sockets do that), so a test or CLI that forgets to close it still exits.
 */
export const realTimers: Timers = {
  schedule(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
