/**
 * The figures of the suite's report, per section: the per-cycle curves the papers plot, drawn from
 * the runs' rows, with the theoretical or published reference dashed where there is one.
 */
import type { CycleRow } from '../engine/engine.js';
import type { LineChart, Series } from './plot.js';
import { SuiteRuns, THEORETICAL_FACTOR, slope } from './suite-checks.js';
import { type SectionId, type SuiteResult, suiteSettings, tmanSizes } from './suite-plan.js';

export interface SuiteFigure {
  section: SectionId;
  /** SVG file name in the output directory. */
  file: string;
  caption: string;
  /** null when there is nothing to draw; `missing` then says why (shown in the report). */
  chart: LineChart | null;
  missing?: string;
}

/** One metric of one run as a series; `map` rescales values (e.g. estimate / N). */
function series(r: SuiteRuns, run: string, metric: string, name: string, map: (v: number, row: CycleRow) => number = (v) => v): Series {
  const points: [number, number][] = [];
  for (const row of r.rows(run)) {
    const v = row[metric];
    if (typeof v === 'number') points.push([row.cycle, map(v, row)]);
  }
  if (points.length === 0) throw new Error(`run ${run} reported no metric "${metric}" to plot`);
  return { name, points };
}

function constant(name: string, value: number, fromCycle: number, toCycle: number): Series {
  return { name, dashed: true, points: [[fromCycle, value], [toCycle, value]] };
}

const lastCycle = (r: SuiteRuns, run: string) => r.last(run).cycle;

function aggregationFigures(r: SuiteRuns, sub: string): SuiteFigure[] {
  const runs = [
    ['a-complete', 'complete graph'],
    ['a-newscast', 'Newscast c=30'],
    ['a-static', 'static 20-out'],
  ] as const;
  const v0 = r.at('a-complete', 0).variance;
  const T = lastCycle(r, 'a-complete');
  const theory: Series = { name: 'theory: 1/(2√e) per cycle', dashed: true, points: Array.from({ length: T + 1 }, (_, t) => [t, v0 * THEORETICAL_FACTOR ** t] as [number, number]) };
  return [
    {
      section: 'aggregation',
      file: 'aggregation-variance.svg',
      caption: 'Variance of the values across nodes per cycle (log scale), starting from a peak (one node holds N, the others 0).',
      chart: { title: 'Averaging: variance per cycle', subtitle: sub, xLabel: 'cycle', yLabel: 'variance', yScale: 'log', series: [...runs.map(([id, name]) => series(r, id, 'variance', name)), theory] },
    },
    {
      section: 'aggregation',
      file: 'aggregation-factor.svg',
      caption: 'Per-cycle reduction factor variance(t)/variance(t−1); the theory is 1/(2√e) ≈ 0.303.',
      chart: {
        title: 'Averaging: variance reduction factor per cycle',
        subtitle: sub,
        xLabel: 'cycle',
        yLabel: 'variance(t) / variance(t−1)',
        yDomain: [0, 0.6],
        series: [...runs.map(([id, name]) => series(r, id, 'factor', name)), constant('1/(2√e) ≈ 0.303', THEORETICAL_FACTOR, 1, T)],
      },
    },
  ];
}

function countFigures(r: SuiteRuns, sub: string, N: number): SuiteFigure[] {
  const T = lastCycle(r, 'b-count');
  return [
    {
      section: 'count',
      file: 'count-range.svg',
      caption: 'Smallest and largest size estimate over all nodes per cycle (log scale); one leader starts with 1, everyone else with 0.',
      chart: {
        title: 'COUNT over Newscast: range of the size estimates',
        subtitle: sub,
        xLabel: 'cycle',
        yLabel: 'estimated network size',
        yScale: 'log',
        series: [series(r, 'b-count', 'countMin', 'smallest estimate'), series(r, 'b-count', 'countMax', 'largest estimate'), constant(`N = ${N}`, N, 0, T)],
      },
    },
  ];
}

function countRobustnessFigures(r: SuiteRuns, sub: string, N: number): SuiteFigure[] {
  const T = lastCycle(r, 'c-death-late');
  const rel = (v: number) => v / N;
  return [
    {
      section: 'count-robustness',
      file: 'count-sudden-death.svg',
      caption: `Estimates relative to the size at the epoch start (N = ${N}) when 50% of the nodes die before cycle ${suiteSettings.countEarlyDeath + 1} (early) or ${suiteSettings.countLateDeath + 1} (late); values outside the range are clipped.`,
      chart: {
        title: 'COUNT: 50% sudden death early vs late in the epoch',
        subtitle: sub,
        xLabel: 'cycle',
        yLabel: 'estimate / N at the epoch start',
        yDomain: [0, 2],
        series: [
          series(r, 'c-death-early', 'countMin', 'early death: smallest', rel),
          series(r, 'c-death-early', 'countMax', 'early death: largest', rel),
          series(r, 'c-death-late', 'countMin', 'late death: smallest', rel),
          series(r, 'c-death-late', 'countMax', 'late death: largest', rel),
          constant('size at the epoch start', 1, 0, T),
          constant('size after the death', 0.5, 0, T),
        ],
      },
    },
    {
      section: 'count-robustness',
      file: 'count-message-loss.svg',
      caption: 'Estimates relative to N without loss, with 10% of exchanges lost as a whole (symmetric) and with 10% of replies lost (asymmetric); values outside the range are clipped.',
      chart: {
        title: 'COUNT: symmetric vs asymmetric message loss',
        subtitle: sub,
        xLabel: 'cycle',
        yLabel: 'estimate / N',
        yDomain: [0.8, 1.3],
        series: [
          series(r, 'b-count', 'countMin', 'no loss: smallest', rel),
          series(r, 'b-count', 'countMax', 'no loss: largest', rel),
          series(r, 'c-loss-symmetric', 'countMin', 'symmetric: smallest', rel),
          series(r, 'c-loss-symmetric', 'countMax', 'symmetric: largest', rel),
          series(r, 'c-loss-asymmetric', 'countMin', 'asymmetric: smallest', rel),
          series(r, 'c-loss-asymmetric', 'countMax', 'asymmetric: largest', rel),
          constant('N', 1, 0, T),
        ],
      },
    },
  ];
}

function samplingFigures(r: SuiteRuns, sub: string): SuiteFigure[] {
  const both = (metric: string) => [series(r, 'd-newscast', metric, 'Newscast'), series(r, 'd-cyclon', metric, 'Cyclon')];
  const K = suiteSettings.samplingKill;
  const kill = `50% of the nodes die after cycle ${K}.`;
  const fig = (file: string, caption: string, title: string, yLabel: string, s: Series[], yScale: 'linear' | 'log' = 'linear'): SuiteFigure => ({
    section: 'sampling',
    file,
    caption: `${caption} ${kill}`,
    chart: { title, subtitle: sub, xLabel: 'cycle', yLabel, yScale, series: s },
  });
  return [
    fig('sampling-largest-cluster.svg', 'Largest connected cluster as a fraction of the live nodes, from a star start (everyone knows one node).', 'Peer sampling: largest cluster', 'fraction of live nodes', both('largestCluster')),
    fig('sampling-path-length.svg', 'Average shortest path length of the undirected overlay (sampled BFS), dashed: a random graph with the same mean degree.', 'Peer sampling: average path length', 'hops', [
      ...both('pathLength'),
      { ...series(r, 'd-newscast', 'randomGraphPathLength', 'random graph (Newscast degree)'), dashed: true },
      { ...series(r, 'd-cyclon', 'randomGraphPathLength', 'random graph (Cyclon degree)'), dashed: true },
    ]),
    fig('sampling-clustering.svg', 'Clustering coefficient (log scale), dashed: a random graph with the same mean degree.', 'Peer sampling: clustering coefficient', 'clustering coefficient', [
      ...both('clustering'),
      { ...series(r, 'd-newscast', 'randomGraphClustering', 'random graph (Newscast degree)'), dashed: true },
      { ...series(r, 'd-cyclon', 'randomGraphClustering', 'random graph (Cyclon degree)'), dashed: true },
    ], 'log'),
    fig('sampling-indegree-stddev.svg', 'Standard deviation of the in-degree.', 'Peer sampling: in-degree standard deviation', 'in-degree std-dev', both('inDegreeStdDev')),
    fig('sampling-dead-links.svg', 'Links to dead nodes in the views of live nodes (log scale; zero is not drawn).', 'Peer sampling: dead links after 50% sudden death', 'dead links', both('deadLinks'), 'log'),
  ];
}

function tmanFigures(r: SuiteRuns, sub: string, N: number): SuiteFigure[] {
  const sizes = tmanSizes(N);
  const completed: [number, number][] = [];
  for (const n of sizes) {
    const c = r.summary(`e-ring-${n}`, 'cyclesToComplete');
    if (c !== null) completed.push([n, c]);
  }
  const figures: SuiteFigure[] = [];
  const scalingCaption = `Cycles until no target link of the sorted ring is missing, for N = ${sizes.join(', ')} (log scale in N); dashed: least-squares fit and the published +1.5 cycles per doubling through the same mean.`;
  if (completed.length >= 2) {
    const s = slope(completed.map(([n, c]) => [Math.log2(n), c]))!;
    const mx = completed.reduce((a, [n]) => a + Math.log2(n), 0) / completed.length;
    const my = completed.reduce((a, [, c]) => a + c, 0) / completed.length;
    const line = (perDoubling: number) => sizes.map((n) => [n, my + perDoubling * (Math.log2(n) - mx)] as [number, number]);
    figures.push({
      section: 'tman',
      file: 'tman-scaling.svg',
      caption: `${scalingCaption}${completed.length < sizes.length ? ` Sizes not complete within ${suiteSettings.tman} cycles are not drawn.` : ''}`,
      chart: {
        title: 'T-Man: cycles to a complete sorted ring vs N',
        subtitle: sub,
        xLabel: 'nodes N',
        xScale: 'log',
        yLabel: 'cycles to complete',
        series: [
          { name: 'measured', points: completed },
          { name: `fit: ${s.toFixed(2)} cycles per doubling`, dashed: true, points: line(s) },
          { name: 'published: +1.5 per doubling', dashed: true, points: line(1.5) },
        ],
      },
    });
  } else {
    figures.push({ section: 'tman', file: 'tman-scaling.svg', caption: scalingCaption, chart: null, missing: `only ${completed.length} of ${sizes.length} sizes completed the ring within ${suiteSettings.tman} cycles: nothing to fit` });
  }
  figures.push(
    {
      section: 'tman',
      file: 'tman-missing-links.svg',
      caption: 'Fraction of the sorted ring\'s links (successor and predecessor of every node) still missing per cycle, for each N (log scale; zero is not drawn).',
      chart: { title: 'T-Man: missing ring links per cycle', subtitle: sub, xLabel: 'cycle', yLabel: 'missing links / target links', yScale: 'log', series: sizes.map((n) => series(r, `e-ring-${n}`, 'missingLinksFraction', `N=${n}`)) },
    },
    {
      section: 'tman',
      file: 'tman-repair.svg',
      caption: `Missing ring links of the survivors when 50% of the nodes die after cycle ${suiteSettings.tmanKill} (log scale; zero is not drawn).`,
      chart: { title: 'T-Man: ring repair after 50% sudden death', subtitle: sub, xLabel: 'cycle', yLabel: 'missing links', yScale: 'log', series: [series(r, 'e-repair', 'missingLinks', `N=${N}`)] },
    },
  );
  return figures;
}

function slicingFigures(r: SuiteRuns, sub: string): SuiteFigure[] {
  const churn = `${suiteSettings.slicingChurn * 100}% churn`;
  const runs = [
    ['f-jk', 'JK'],
    ['f-modjk', 'mod-JK'],
    ['f-ranking', 'ranking'],
    ['f-modjk-churn', `mod-JK, ${churn}`],
    ['f-ranking-churn', `ranking, ${churn}`],
  ] as const;
  const fig = (metric: string, file: string, title: string, yLabel: string, caption: string, yScale: 'linear' | 'log'): SuiteFigure => ({
    section: 'slicing',
    file,
    caption,
    chart: { title, subtitle: sub, xLabel: 'cycle', yLabel, yScale, series: runs.map(([id, name]) => series(r, id, metric, name)) },
  });
  return [
    fig('gdm', 'slicing-gdm.svg', 'Slicing: global disorder measure', 'GDM', 'Global disorder GDM = (1/N)·Σ(α_i − ρ_i)² per cycle, α the attribute rank and ρ the rank of the slicing value (log scale).', 'log'),
    fig('sdm', 'slicing-sdm.svg', 'Slicing: slice disorder measure', 'SDM', `Slice disorder SDM = Σ |true slice − believed slice| per cycle, ${r.summary('f-jk', 'slices')} slices (log scale).`, 'log'),
    fig('accuracy', 'slicing-accuracy.svg', 'Slicing: nodes in their true slice', 'fraction of nodes', 'Fraction of the nodes that believe they are in their true slice.', 'linear'),
  ];
}

/** Every figure of the sections that ran, in section order. */
export function suiteFigures(result: SuiteResult): SuiteFigure[] {
  const r = new SuiteRuns(result.runs);
  const N = result.summary.nodes as number;
  const sub = `N=${N}  seed=${result.summary.seed}`;
  const sections = (result.parameters.sections as SectionId[]) ?? [];
  const bySection: Record<SectionId, () => SuiteFigure[]> = {
    aggregation: () => aggregationFigures(r, sub),
    count: () => countFigures(r, sub, N),
    'count-robustness': () => countRobustnessFigures(r, sub, N),
    sampling: () => samplingFigures(r, sub),
    tman: () => tmanFigures(r, sub, N),
    slicing: () => slicingFigures(r, sub),
  };
  return sections.flatMap((s) => bySection[s]());
}
