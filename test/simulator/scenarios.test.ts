import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { ViewTable } from '../../src/protocols/peer-sampling/view-table.js';
import { Churn, Growth, Oscillation, SuddenDeath } from '../../src/simulator/scenarios/dynamics.js';
import { seedTopology } from '../../src/simulator/scenarios/topology.js';
import { Simulation } from '../../src/simulator/simulation.js';

function seeded(kind: 'random' | 'lattice' | 'star', n: number, c: number): ViewTable {
  const views = new ViewTable(c, n);
  const handles = Int32Array.from({ length: n }, (_, i) => i);
  seedTopology(kind, handles, c, { addContacts: (self, cs) => cs.forEach((p) => views.add(self, p)) }, new SeededRandom(1));
  return views;
}

test('random start: c distinct non-self peers per node', () => {
  const v = seeded('random', 200, 10);
  for (let n = 0; n < 200; n++) {
    const peers = v.peers(n);
    assert.equal(peers.length, 10);
    assert.equal(new Set(peers).size, 10);
    assert.ok(!peers.includes(n));
  }
});

test('lattice start: ring neighbours on both sides', () => {
  const v = seeded('lattice', 50, 4);
  assert.deepEqual(v.peers(0).sort((a, b) => a - b), [1, 2, 48, 49]);
  assert.deepEqual(v.peers(10).sort((a, b) => a - b), [8, 9, 11, 12]);
});

test('star start: everyone knows node 0, node 0 knows nobody', () => {
  const v = seeded('star', 20, 5);
  assert.equal(v.size(0), 0);
  for (let n = 1; n < 20; n++) assert.deepEqual(v.peers(n), [0]);
});

test('sudden death kills the requested fraction at the requested cycle only', () => {
  const sim = new Simulation({ seed: 1 });
  sim.spawnMany(1000);
  const death = new SuddenDeath(0.5, 3);
  death.beforeCycle(sim, 2);
  assert.equal(sim.population.size, 1000);
  death.beforeCycle(sim, 3);
  assert.equal(sim.population.size, 500);
  assert.throws(() => new SuddenDeath(1.5, 1), /kill fraction/);
});

test('churn replaces the configured share of nodes each cycle, keeping the size', () => {
  const sim = new Simulation({ seed: 2 });
  sim.spawnMany(1000);
  const churn = new Churn(0.01);
  for (let c = 0; c < 10; c++) churn.beforeCycle(sim, c);
  assert.equal(sim.population.size, 1000);
  assert.equal(sim.population.handles, 1100);
  assert.throws(() => new Churn(1), /churn rate/);
});

test('growth adds nodes up to the target; oscillation follows its sine', () => {
  const sim = new Simulation({ seed: 3 });
  sim.spawn();
  const g = new Growth(10, 35);
  for (let c = 0; c < 5; c++) g.beforeCycle(sim);
  assert.equal(sim.population.size, 35);
  const osc = new Oscillation(100, 200, 40);
  osc.beforeCycle(sim, 10); // sin(pi/2) = 1 → max
  assert.equal(sim.population.size, 200);
  osc.beforeCycle(sim, 30); // sin(3pi/2) = -1 → min
  assert.equal(sim.population.size, 100);
});
