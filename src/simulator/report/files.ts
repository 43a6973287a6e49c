import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentResult } from '../experiments/experiment.js';
import { experimentCharts } from './charts.js';
import { lineChart } from './plot.js';

/**
 * Writes result.json, cycles.csv and an SVG per main figure of the experiment (see charts.ts);
 * returns the file names written. Async because rendering the charts is.
 */
export async function writeResultFiles(result: ExperimentResult, dir: string): Promise<string[]> {
  writeFileSync(join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  const keys = [...new Set(result.cycles.flatMap((r) => Object.keys(r)))];
  const csv = [keys.join(','), ...result.cycles.map((r) => keys.map((k) => r[k] ?? '').join(','))].join('\n');
  writeFileSync(join(dir, 'cycles.csv'), `${csv}\n`);
  const files = ['result.json', 'cycles.csv'];
  if (result.cycles.length === 0) return files;
  for (const { file, chart } of experimentCharts(result)) {
    writeFileSync(join(dir, file), await lineChart(chart));
    files.push(file);
  }
  return files;
}
