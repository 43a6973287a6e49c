import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ExperimentResult } from '../../src/simulator/experiments/experiment.js';
import { experimentCharts } from '../../src/simulator/report/charts.js';
import { writeResultFiles } from '../../src/simulator/report/files.js';
import { lineChart, lineChartSpec } from '../../src/simulator/report/plot.js';

const decay = (f: number, n = 20): [number, number][] => Array.from({ length: n }, (_, i) => [i, f ** i]);

test('lineChart renders a standalone SVG naming every series, title and axis labels', async () => {
  const svg = await lineChart({
    title: 'Variance per cycle',
    subtitle: 'N=1000 seed=7',
    xLabel: 'cycle',
    yLabel: 'variance',
    yScale: 'log',
    series: [
      { name: 'complete graph', points: decay(0.3) },
      { name: 'newscast <c=30>', points: decay(0.32) },
      { name: 'theory 1/(2√e)', points: decay(0.303), dashed: true },
    ],
  });
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\s*$/);
  for (const text of ['complete graph', 'newscast &lt;c=30&gt;', 'theory 1/(2√e)', 'Variance per cycle', 'N=1000 seed=7', 'cycle', 'variance']) {
    assert.ok(svg.includes(`>${text}<`), `SVG should contain the text ${text}`);
  }
  // Three lines, one of them dashed.
  assert.equal((svg.match(/class="mark-line/g) ?? []).length, 3, 'one line per series');
  assert.ok(svg.includes('stroke-dasharray="5,3"'), 'the reference series is dashed');
  assert.ok(!/NaN|undefined/.test(svg), 'no NaN or undefined leaks into the drawing');
});

test('lineChart is deterministic and leaves gaps where a log axis cannot show a value', async () => {
  const chart = { title: 't', xLabel: 'x', yLabel: 'y', yScale: 'log' as const, series: [{ name: 'a', points: [[0, 1], [1, 0.1], [2, 0], [3, Number.NaN]] as [number, number][] }] };
  assert.equal(await lineChart(chart), await lineChart(chart));
  const values = (lineChartSpec(chart) as { data: { values: { y: number | null }[] } }).data.values;
  assert.deepEqual(values.map((v) => v.y), [1, 0.1, null, null]);
});

test('lineChart refuses charts with nothing to draw instead of drawing an empty figure', async () => {
  await assert.rejects(lineChart({ title: 'empty', xLabel: 'x', yLabel: 'y', series: [] }), /has no series/);
  await assert.rejects(
    lineChart({ title: 'zeros', xLabel: 'x', yLabel: 'y', yScale: 'log', series: [{ name: 'z', points: [[0, 0], [1, 0]] }] }),
    /series "z" has no drawable point/,
  );
  await assert.rejects(
    lineChart({ title: 'dup', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[0, 1]] }, { name: 'a', points: [[0, 2]] }] }),
    /two series with the same name/,
  );
});

function fakeResult(experiment: string, rows: Record<string, number>[], summary: ExperimentResult['summary'] = {}): ExperimentResult {
  return {
    experiment,
    parameters: { nodes: 100, seed: 3, sampling: 'newscast', view: 30, options: {} },
    cycles: rows.map((r, i) => ({ cycle: i, ...r })),
    summary,
  };
}

test('each experiment gets its main figures; a missing contract metric is an error', () => {
  const agg = fakeResult('aggregation', [{ variance: 1 }, { variance: 0.3 }, { variance: 0.09 }], { theoreticalFactor: 0.303 });
  const charts = experimentCharts(agg);
  assert.deepEqual(charts.map((c) => c.file), ['variance.svg']);
  assert.deepEqual(charts[0].chart.series.map((s) => s.name), ['variance', 'theory: factor 0.303 per cycle']);
  assert.equal(charts[0].chart.yScale, 'log');
  assert.deepEqual(experimentCharts(fakeResult('slicing', [{ gdm: 5, sdm: 9 }])).map((c) => c.file), ['gdm.svg', 'sdm.svg']);
  assert.throws(() => experimentCharts(fakeResult('tman', [{ missing: 3 }])), /reported no metric "missingLinks" \(have: missing\)/);
  // Unknown experiments still get every metric plotted.
  assert.deepEqual(experimentCharts(fakeResult('other', [{ a: 1, 'b/c': 2 }])).map((c) => c.file), ['a.svg', 'b_c.svg']);
});

test('writeResultFiles writes result.json, cycles.csv and the SVGs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'peercloud-report-'));
  try {
    const files = await writeResultFiles(fakeResult('sampling', [{ deadLinks: 0, largestCluster: 0.5 }, { deadLinks: 3, largestCluster: 1 }]), dir);
    assert.deepEqual(files, ['result.json', 'cycles.csv', 'dead-links.svg', 'largest-cluster.svg']);
    assert.deepEqual(readdirSync(dir).sort(), [...files].sort());
    assert.match(readFileSync(join(dir, 'dead-links.svg'), 'utf8'), /<svg[\s\S]*deadLinks[\s\S]*<\/svg>/);
    assert.equal(readFileSync(join(dir, 'cycles.csv'), 'utf8'), 'cycle,deadLinks,largestCluster\n0,0,0.5\n1,3,1\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`sim X --out DIR` writes the main figures of every experiment of the metric contract', async () => {
  await import('../../src/simulator/experiments/all.js');
  const { getExperiment } = await import('../../src/simulator/experiments/index.js');
  const { defaultWorld } = await import('../../src/simulator/world.js');
  const expected: Record<string, string[]> = {
    aggregation: ['variance.svg'],
    count: ['count-range.svg'],
    sampling: ['dead-links.svg', 'largest-cluster.svg'],
    tman: ['missing-links.svg'],
    slicing: ['gdm.svg', 'sdm.svg'],
  };
  for (const [name, svgs] of Object.entries(expected)) {
    const experiment = getExperiment(name);
    assert.ok(experiment, `experiment ${name} is registered`);
    const result = experiment.run({ ...defaultWorld, ...experiment.defaults, nodes: 300, cycles: 4, options: {} });
    const dir = mkdtempSync(join(tmpdir(), `peercloud-${name}-`));
    try {
      const files = await writeResultFiles(result, dir);
      assert.deepEqual(files, ['result.json', 'cycles.csv', ...svgs], name);
      for (const f of svgs) assert.match(readFileSync(join(dir, f), 'utf8'), /^<svg[\s\S]*<\/svg>$/, `${name}: ${f}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
