import type { CycleRow } from '../engine/engine.js';
import type { WorldParams } from '../world.js';

/** Parameters of one experiment run: the world plus how long to run and experiment options. */
export interface ExperimentParams extends WorldParams {
  cycles: number;
  /** Experiment-specific options (`--opt key=value` on the CLI), validated by the experiment. */
  options: Record<string, string>;
}

/** The document `peercloud sim … --json` prints; stable field names, one row per cycle. */
export interface ExperimentResult {
  experiment: string;
  /** Every parameter that shaped the run, so the run can be repeated exactly. */
  parameters: Record<string, unknown>;
  /** Cycle 0 (initial state) then one row per cycle with the observers' metrics. */
  cycles: CycleRow[];
  summary: Record<string, number | string | boolean | null>;
}

/**
 * Reports progress on long runs (the CLI prints it to stderr). Composite experiments (the suite)
 * name the sub-run in progress with `stage`.
 */
export type Progress = (done: number, total: number, row: CycleRow, stage?: string) => void;

export interface Experiment {
  readonly name: string;
  /** One line for `peercloud sim --help`. */
  readonly description: string;
  /** Defaults that differ from the world defaults (e.g. more cycles). */
  readonly defaults?: Partial<ExperimentParams>;
  /** Options this experiment understands via `--opt key=value`, with their help text. */
  readonly optionHelp?: Record<string, string>;
  run(params: ExperimentParams, progress?: Progress): ExperimentResult;
  /**
   * Writes this experiment's files for `--out DIR` instead of the default result.json, cycles.csv
   * and per-cycle plots; returns the file names written. Kept apart from `run`, which is synchronous
   * and free of I/O, because rendering figures is asynchronous. Used by the suite for its report.
   */
  report?(result: ExperimentResult, dir: string): Promise<string[]>;
}

/** Reads a numeric experiment option, with a default and a clear error. */
export function numberOption(params: ExperimentParams, key: string, fallback: number, check?: (v: number) => boolean): number {
  const raw = params.options[key];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || (check && !check(v))) throw new RangeError(`option ${key}=${raw} is not valid`);
  return v;
}

/** The parameters echoed into a result document. */
export function describeParams(params: ExperimentParams): Record<string, unknown> {
  const { options, ...rest } = params;
  return { ...rest, options: { ...options } };
}
