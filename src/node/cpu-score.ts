/**
 * A CPU speed score, measured when the data directory is prepared (`peercloud init`, stored by
 * cpu-score-file.ts, not under the daemon's V8 flags): how fast one core runs a fixed, deterministic
 * workload, normalised so that one core of the reference machine (the project's 2-core development
 * and CI machine, Node 20) scores about 1000. Twice as fast scores ~2000. It is a single-core
 * score; a node's capacity is roughly cores × score.
 *
 * The workload mixes what the daemon and typical guest work do: integer hashing (xorshift,
 * multiply), floating point (multiply-add, division, square root: all correctly rounded in IEEE 754,
 * so the result is the same everywhere), data-dependent branches, and scattered reads and writes
 * over a 256 KiB table (larger than L1, smaller than L2 on most machines). Its checksum is fixed,
 * which proves the work was done and lets tests check that nothing changed the workload.
 *
 * Timing: several short rounds, and the score comes from the fastest, which filters out JIT
 * warm-up, GC pauses and other processes taking the core for a moment. About 8 rounds of ~15 ms on
 * the reference machine; a slow machine stops after its time budget (at least 3 rounds).
 */
import { performance } from 'node:perf_hooks';

/** Score of one reference core. */
export const REFERENCE_SCORE = 1000;
/**
 * Milliseconds the reference machine needs for one round at its fastest: the typical best round of
 * `measureCpuScore()` in fresh processes with a core to itself (11.9–12.4 ms, scores 990–1023); with
 * other processes competing for both cores the best round is 14–20 ms (scores 600–870).
 */
export const REFERENCE_ROUND_MS = 12.2;
/** The checksum one round yields on any correct JavaScript engine. */
export const WORKLOAD_CHECKSUM = 0xb7f724cf;

const TABLE_WORDS = 64 * 1024; // 256 KiB of Int32
const ITERATIONS = 1_200_000;

/** One round of the workload; returns its checksum (an unsigned 32-bit integer). */
export function cpuWorkload(): number {
  const table = new Int32Array(TABLE_WORDS);
  let x = 0x9e3779b9 | 0;
  let acc = 0;
  let f = 1.0;
  for (let i = 0; i < ITERATIONS; i++) {
    // xorshift32: the integer part.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    // A scattered read-modify-write over the table: the memory part.
    const slot = (x >>> 8) & (TABLE_WORDS - 1);
    const v = (table[slot] + Math.imul(x, 0x01000193)) | 0;
    table[slot] = v;
    // A data-dependent branch the predictor cannot learn.
    if ((v & 3) === 0) acc = (acc + (v >>> 3)) | 0;
    else acc ^= v;
    // The floating-point part, kept bounded so it never reaches infinity or denormals.
    f = f * 1.0000001 + (x & 1023) / 1024;
    if (f > 1e6) f = Math.sqrt(f);
  }
  // Fold the float's bits in, so it cannot be optimised away and must be bit-exact.
  const bits = new Float64Array([f]);
  const words = new Uint32Array(bits.buffer);
  return (acc ^ words[0] ^ Math.imul(words[1], 31) ^ table[x & (TABLE_WORDS - 1)]) >>> 0;
}

export interface CpuScoreOptions {
  /** Maximum rounds (default 8). */
  readonly rounds?: number;
  /** Stop after this many milliseconds once at least `minRounds` ran (default 400). */
  readonly budgetMs?: number;
  /** At least this many rounds (default 3). */
  readonly minRounds?: number;
  /** Monotonic high-resolution time in ms (default performance.now). */
  readonly now?: () => number;
  /** The workload (default cpuWorkload); tests substitute a trivial one. */
  readonly workload?: () => number;
}

export interface CpuScore {
  /** Normalised single-core score: REFERENCE_SCORE × reference time / fastest round. */
  readonly score: number;
  /** The fastest round, in ms. */
  readonly bestRoundMs: number;
  readonly rounds: number;
  /** Wall time of the whole measurement, in ms. */
  readonly elapsedMs: number;
  readonly checksum: number;
}

/** Largest score we report: a round faster than this would be a broken timer, not a fast CPU. */
const MAX_SCORE = 1_000_000;

/** Runs the workload and returns the score. Synchronous and CPU-bound: call it before serving. */
export function measureCpuScore(options: CpuScoreOptions = {}): CpuScore {
  const now = options.now ?? (() => performance.now());
  const workload = options.workload ?? cpuWorkload;
  const maxRounds = Math.max(1, options.rounds ?? 8);
  const minRounds = Math.min(maxRounds, Math.max(1, options.minRounds ?? 3));
  const budgetMs = options.budgetMs ?? 400;
  const start = now();
  let best = Infinity;
  let checksum = 0;
  let rounds = 0;
  while (rounds < maxRounds) {
    const t0 = now();
    const sum = workload();
    const t1 = now();
    if (rounds > 0 && sum !== checksum) throw new Error(`CPU workload is not deterministic: checksum ${sum} after ${checksum}`);
    checksum = sum;
    best = Math.min(best, t1 - t0);
    rounds++;
    if (rounds >= minRounds && t1 - start >= budgetMs) break;
  }
  const score = best > 0 ? Math.min(MAX_SCORE, Math.round((REFERENCE_SCORE * REFERENCE_ROUND_MS) / best)) : MAX_SCORE;
  return { score, bestRoundMs: best, rounds, elapsedMs: now() - start, checksum };
}
