import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentResult } from '../experiments/experiment.js';

/** Writes result.json and cycles.csv for one experiment; returns the file names written. */
export function writeResultFiles(result: ExperimentResult, dir: string): string[] {
  writeFileSync(join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  const keys = [...new Set(result.cycles.flatMap((r) => Object.keys(r)))];
  const csv = [keys.join(','), ...result.cycles.map((r) => keys.map((k) => r[k] ?? '').join(','))].join('\n');
  writeFileSync(join(dir, 'cycles.csv'), `${csv}\n`);
  return ['result.json', 'cycles.csv'];
}
