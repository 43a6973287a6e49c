import type { CycleRow } from '../engine/engine.js';
import type { ExperimentResult } from '../experiments/experiment.js';
import type { LineChart, Series } from './plot.js';

/**
 * Which figures `peercloud sim X --out DIR` draws for each experiment: the main metrics the papers
 * plot per cycle. Metric names follow the experiments' contract; a known experiment whose rows lack
 * one of its plotted metrics is an error (the figure would silently be missing otherwise).
 */

/** A chart and the file it is written to. */
export interface NamedChart {
  file: string;
  chart: LineChart;
}

interface MetricPlot {
  file: string;
  title: string;
  metrics: string[];
  yLabel: string;
  yScale: 'linear' | 'log';
}

const plots: Record<string, MetricPlot[]> = {
  aggregation: [{ file: 'variance.svg', title: 'Variance of the values per cycle', metrics: ['variance'], yLabel: 'variance', yScale: 'log' }],
  count: [{ file: 'count-range.svg', title: 'Network size estimates: min and max over nodes', metrics: ['countMin', 'countMax'], yLabel: 'estimated size', yScale: 'log' }],
  sampling: [
    { file: 'dead-links.svg', title: 'Dead links in views', metrics: ['deadLinks'], yLabel: 'dead links', yScale: 'linear' },
    { file: 'largest-cluster.svg', title: 'Largest connected cluster', metrics: ['largestCluster'], yLabel: 'fraction of live nodes', yScale: 'linear' },
  ],
  tman: [{ file: 'missing-links.svg', title: 'Missing target (ring) links', metrics: ['missingLinks'], yLabel: 'missing links', yScale: 'log' }],
  slices: [
    { file: 'slice-members.svg', title: 'Slice members (live nodes in a slice, by their own account)', metrics: ['members'], yLabel: 'members', yScale: 'linear' },
    { file: 'ring-neighbours.svg', title: 'Members whose ring neighbours are not live members of their slice / not their true neighbours', metrics: ['ringBad', 'ringWrong'], yLabel: 'members', yScale: 'log' },
  ],
  slicing: [
    { file: 'gdm.svg', title: 'Global disorder measure (GDM)', metrics: ['gdm'], yLabel: 'GDM', yScale: 'log' },
    { file: 'sdm.svg', title: 'Slice disorder measure (SDM)', metrics: ['sdm'], yLabel: 'SDM', yScale: 'log' },
  ],
};

/** The per-cycle figures of one experiment result. */
export function experimentCharts(result: ExperimentResult): NamedChart[] {
  const subtitle = runLabel(result);
  const known = plots[result.experiment];
  const list: MetricPlot[] =
    known ??
    // An experiment without a chart definition still gets every metric plotted, one chart each.
    metricNames(result.cycles).map((m) => ({ file: `${safeFileName(m)}.svg`, title: m, metrics: [m], yLabel: m, yScale: 'linear' as const }));
  const charts: NamedChart[] = [];
  for (const p of list) {
    const series = p.metrics.map((m) => metricSeries(result, m));
    if (result.experiment === 'aggregation') series.push(...theoreticalVariance(result));
    // Log axes cannot show rows that are all zero (e.g. no dead links at all): plot them linearly.
    const yScale = p.yScale === 'log' && series.every((s) => s.points.some(([, y]) => y > 0)) ? p.yScale : 'linear';
    charts.push({ file: p.file, chart: { title: p.title, subtitle, series, xLabel: 'cycle', yLabel: p.yLabel, yScale } });
  }
  return charts;
}

/** One metric over the cycles; throws when no row has it. */
export function metricSeries(result: ExperimentResult, metric: string, name = metric): Series {
  const points: [number, number][] = [];
  for (const row of result.cycles) {
    const v = row[metric];
    if (typeof v === 'number') points.push([row.cycle, v]);
  }
  if (points.length === 0) {
    throw new Error(`experiment ${result.experiment} reported no metric "${metric}" (have: ${metricNames(result.cycles).join(', ') || 'none'})`);
  }
  return { name, points };
}

/** variance(0) · factor^t with the theoretical factor, when the experiment reports it. */
function theoreticalVariance(result: ExperimentResult): Series[] {
  const factor = result.summary.theoreticalFactor;
  const v0 = result.cycles[0]?.variance;
  if (typeof factor !== 'number' || typeof v0 !== 'number' || !(v0 > 0)) return [];
  return [{ name: `theory: factor ${factor.toFixed(3)} per cycle`, dashed: true, points: result.cycles.map((r) => [r.cycle, v0 * factor ** r.cycle] as [number, number]) }];
}

export function metricNames(rows: readonly CycleRow[]): string[] {
  return [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'cycle');
}

/** "N=… seed=… sampling=…", from the parameters echoed in the result. */
export function runLabel(result: ExperimentResult): string {
  const p = result.parameters;
  const parts = [`N=${p.nodes}`, `seed=${p.seed}`];
  if (p.sampling !== undefined) parts.push(`sampling=${p.sampling}${p.view !== undefined ? ` c=${p.view}` : ''}`);
  const opts = p.options as Record<string, string> | undefined;
  for (const [k, v] of Object.entries(opts ?? {})) if (k !== 'out') parts.push(`${k}=${v}`);
  return parts.join('  ');
}

export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}
