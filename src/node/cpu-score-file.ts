/**
 * The CPU score, measured once when the data directory is prepared and kept in
 * `<dataDir>/cpu-score.json`, so the daemon does not measure it at every start.
 *
 * Why: the daemon runs without TurboFan (`--jitless` from `cluster up`, `--no-opt` at least; see cli/daemon-tuning.ts), and under the
 * interpreter the workload runs ~7× slower, so a score measured inside the daemon says ~130 where
 * the machine is worth ~1000, and costs ~0.5 s of CPU at every start. `peercloud init` and
 * `peercloud cluster up` run with normal V8 flags: they measure and store it. A daemon whose data
 * directory has no usable score (an older data dir, another machine, another Node major) measures
 * it in a short-lived child `node` with normal flags, which also leaves none of TurboFan's memory
 * in the daemon, and stores it for the next start.
 *
 * The file is small JSON checked by hand, so the daemon does not load a schema library for it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageFile } from '../core/package-files.js';
import { type CpuScore, WORKLOAD_CHECKSUM, measureCpuScore } from './cpu-score.js';

export const CPU_SCORE_FILE = 'cpu-score.json';
const FILE_VERSION = 1;

/** What a stored score is valid for: the same CPU, the same number of cores, the same Node major. */
export interface MachineFingerprint {
  readonly cpuModel: string;
  readonly cores: number;
  /** e.g. 20: a new V8 can run the workload at another speed. */
  readonly nodeMajor: number;
}

export interface StoredCpuScore extends MachineFingerprint {
  readonly version: typeof FILE_VERSION;
  readonly score: number;
  /** ISO 8601. */
  readonly measuredAt: string;
  /** Full version, e.g. v20.20.2 (informational; nodeMajor decides). */
  readonly nodeVersion: string;
}

/** This machine as the stored score is matched against. */
export function thisMachine(): MachineFingerprint {
  return {
    cpuModel: cpus()[0]?.model.trim() || 'unknown',
    cores: availableParallelism(),
    nodeMajor: Number(process.versions.node.split('.')[0]),
  };
}

export function cpuScorePath(dataDir: string): string {
  return join(dataDir, CPU_SCORE_FILE);
}

export type ReadCpuScoreResult =
  | { readonly kind: 'ok'; readonly stored: StoredCpuScore }
  | { readonly kind: 'missing' }
  /** Measured on another machine (or Node major): a reason to measure again, not a problem. */
  | { readonly kind: 'mismatch'; readonly reason: string }
  | { readonly kind: 'corrupt'; readonly reason: string };

/** Reads the stored score and checks it belongs to `machine`. Never throws. */
export async function readCpuScore(dataDir: string, machine: MachineFingerprint = thisMachine()): Promise<ReadCpuScoreResult> {
  let text: string;
  try {
    text = await readFile(cpuScorePath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', reason: `cannot read it: ${(err as Error).message}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'corrupt', reason: `not JSON: ${(err as Error).message}` };
  }
  const problem = invalid(value);
  if (problem) return { kind: 'corrupt', reason: problem };
  const stored = value as StoredCpuScore;
  const differs: string[] = [];
  if (stored.cpuModel !== machine.cpuModel) differs.push(`CPU "${stored.cpuModel}" ≠ "${machine.cpuModel}"`);
  if (stored.cores !== machine.cores) differs.push(`${stored.cores} cores ≠ ${machine.cores}`);
  if (stored.nodeMajor !== machine.nodeMajor) differs.push(`Node ${stored.nodeMajor} ≠ ${machine.nodeMajor}`);
  if (differs.length > 0) return { kind: 'mismatch', reason: differs.join(', ') };
  return { kind: 'ok', stored };
}

function invalid(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (o.version !== FILE_VERSION) return `unknown version ${JSON.stringify(o.version)} (expected ${FILE_VERSION})`;
  if (typeof o.score !== 'number' || !Number.isFinite(o.score) || o.score <= 0) return `score must be a positive number, got ${JSON.stringify(o.score)}`;
  if (typeof o.cpuModel !== 'string') return 'cpuModel must be a string';
  if (!Number.isInteger(o.cores) || (o.cores as number) < 1) return 'cores must be a positive integer';
  if (!Number.isInteger(o.nodeMajor)) return 'nodeMajor must be an integer';
  if (typeof o.measuredAt !== 'string' || typeof o.nodeVersion !== 'string') return 'measuredAt and nodeVersion must be strings';
  return undefined;
}

/** Writes the score atomically (a temporary file renamed over the old one): a crash leaves the old file or the new one. */
export async function writeCpuScore(dataDir: string, score: number, machine: MachineFingerprint = thisMachine(), measuredAt = new Date()): Promise<StoredCpuScore> {
  const stored: StoredCpuScore = { version: FILE_VERSION, score, measuredAt: measuredAt.toISOString(), nodeVersion: process.version, ...machine };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = cpuScorePath(dataDir);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return stored;
}

/** Measures in this process (call it where V8 runs with its normal flags) and stores the score. */
export async function measureAndStoreCpuScore(dataDir: string, measure: () => CpuScore = measureCpuScore): Promise<StoredCpuScore> {
  return writeCpuScore(dataDir, measure().score);
}

/**
 * Measures in a child `node` started with no V8 flags (NODE_OPTIONS still applies), so the score
 * reflects the machine and not the daemon's memory-saving flags. ~0.2 s wall on the reference machine.
 */
export async function measureCpuScoreInChild(timeoutMs = 30_000): Promise<CpuScore> {
  // The tsc output, not a chunk of the bundled CLI: the child needs a module that exports the workload.
  const moduleUrl = pathToFileURL(packageFile('dist', 'src', 'node', 'cpu-score.js')).href;
  const code = `import { measureCpuScore } from ${JSON.stringify(moduleUrl)}; process.stdout.write(JSON.stringify(measureCpuScore()));`;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', code], { timeout: timeoutMs, windowsHide: true }, (err, out, errOut) => {
      if (err) reject(new Error(`measuring the CPU score in a child process failed: ${err.message}${errOut ? `: ${errOut.trim()}` : ''}`));
      else resolve(out);
    });
  });
  const result = JSON.parse(stdout) as CpuScore;
  if (result.checksum !== WORKLOAD_CHECKSUM || !(result.score > 0)) throw new Error(`the child process returned an unusable CPU score: ${stdout}`);
  return result;
}

export interface StoredOrMeasuredOptions {
  /** Default: thisMachine(). */
  readonly machine?: MachineFingerprint;
  /** Default: measureCpuScoreInChild. */
  readonly measure?: () => Promise<CpuScore>;
  /** A corrupt file, a failed write. */
  readonly onWarning?: (message: string, error?: unknown) => void;
}

export interface ScoreOutcome {
  readonly score: number;
  /** 'stored': read from the file; 'measured': measured now (and stored, unless the write failed). */
  readonly source: 'stored' | 'measured';
}

/** The daemon's way to get its score: the stored one if it belongs to this machine, else measure and store. */
export async function storedOrMeasuredCpuScore(dataDir: string, options: StoredOrMeasuredOptions = {}): Promise<ScoreOutcome> {
  const machine = options.machine ?? thisMachine();
  const warn = options.onWarning ?? (() => undefined);
  const read = await readCpuScore(dataDir, machine);
  if (read.kind === 'ok') return { score: read.stored.score, source: 'stored' };
  if (read.kind === 'corrupt') warn(`ignoring ${cpuScorePath(dataDir)} (${read.reason}); measuring the CPU score again`);
  let measured: CpuScore;
  try {
    measured = await (options.measure ?? (() => measureCpuScoreInChild()))();
  } catch (err) {
    // Still give the node a score, but do not store it: measured here, under the daemon's
    // flags, it can be several times too low, and the next start should try again.
    warn('could not measure the CPU score in a child process; measuring it in this process, without storing it', err);
    return { score: measureCpuScore().score, source: 'measured' };
  }
  try {
    await writeCpuScore(dataDir, measured.score, machine);
  } catch (err) {
    warn(`could not store the CPU score in ${cpuScorePath(dataDir)}`, err);
  }
  return { score: measured.score, source: 'measured' };
}
