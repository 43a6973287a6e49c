import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SliceEstimator } from '../../src/protocols/slicing/slices.js';
import { sliceOfRank } from '../../src/protocols/slicing/slices.js';
import { SlicingObserver } from '../../src/simulator/observers/slicing.js';
import { Simulation } from '../../src/simulator/simulation.js';

test('GDM, SDM and accuracy by hand for four nodes', () => {
  const attrs = [0.1, 0.2, 0.3, 0.4];
  const estimates = [0.6, 0.1, 0.35, 0.9]; // ranks 3, 1, 2, 4 against attribute ranks 1, 2, 3, 4
  const estimator: SliceEstimator = {
    estimatedRank: (h) => estimates[h],
    slice: (h, s) => sliceOfRank(estimates[h], s),
    inTopFraction: (h, p) => estimates[h] >= 1 - p,
  };
  const sim = new Simulation({ seed: 1, capacity: 4 });
  sim.spawnMany(4);
  const m = new SlicingObserver(estimator, (h) => attrs[h], 2).observe(sim);
  assert.equal(m.gdm, (4 + 1 + 1 + 0) / 4);
  // True slices (2 slices): 0, 0, 1, 1; believed: 1, 0, 0, 1.
  assert.equal(m.sdm, 2);
  assert.equal(m.accuracy, 0.5);
});

test('tied estimates share their average rank', () => {
  const sim = new Simulation({ seed: 1, capacity: 4 });
  sim.spawnMany(4);
  const estimator: SliceEstimator = { estimatedRank: () => 0.5, slice: () => 1, inTopFraction: () => false };
  const m = new SlicingObserver(estimator, (h) => h, 2).observe(sim);
  // Every ρ = 2.5, α = 1..4: (2.25 + 0.25 + 0.25 + 2.25) / 4.
  assert.equal(m.gdm, 1.25);
});
