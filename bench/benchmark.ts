import { parseArgs, type ParseArgsConfig } from 'node:util';
/** A benchmark `npm run bench -- <name>` can run (see run.ts). */
export interface Benchmark {
  name: string;
  /** One line for the usage text. */
  description: string;
  /** The options it takes, one line. */
  usage: string;
  /** Runs with the arguments after the name; resolves to the process exit code. */
  main(args: string[]): Promise<number>;
}

/** Median of a non-empty list (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Parses an integer option of a benchmark's command line, with a default and bounds. */
export function integerOption(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`--${name} must be an integer in ${min}..${max}, got "${text}"`);
  return v;
}

/**
 * Parses a benchmark's flags strictly (no positionals, unknown flags rejected); errors become
 * RangeErrors that end with the benchmark's usage line.
 */
export function parseBenchArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new RangeError(`${(err as Error).message}\nusage: ${usage}`);
  }
}
