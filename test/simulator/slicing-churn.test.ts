import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExperimentParams } from '../../src/simulator/experiments/experiment.js';
import { slicingExperiment } from '../../src/simulator/experiments/slicing.js';
import { defaultWorld } from '../../src/simulator/world.js';

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

test('under churn (1% per cycle, 10^4 nodes) ranking stays good while JK and mod-JK degrade', () => {
  const run = (algorithm: string) => {
    const p: ExperimentParams = { ...defaultWorld, nodes: 10_000, cycles: 120, seed: 1, churn: 0.01, options: { algorithm } };
    const rows = slicingExperiment.run(p).cycles.slice(71);
    return { sdm: mean(rows.map((r) => r.sdm)), accuracy: mean(rows.map((r) => r.accuracy)) };
  };
  const jk = run('jk');
  const modjk = run('modjk');
  const ranking = run('ranking');
  assert.ok(ranking.accuracy > 0.75, `ranking accuracy ${ranking.accuracy}`);
  assert.ok(ranking.sdm < 0.6 * jk.sdm, `ranking SDM ${ranking.sdm} vs JK ${jk.sdm}`);
  assert.ok(ranking.sdm < modjk.sdm, `ranking SDM ${ranking.sdm} vs mod-JK ${modjk.sdm}`);
  assert.ok(modjk.sdm < jk.sdm, `mod-JK SDM ${modjk.sdm} vs JK ${jk.sdm}`);
});
