import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExperimentParams } from '../../src/simulator/experiments/experiment.js';
import { tmanExperiment } from '../../src/simulator/experiments/tman.js';
import { defaultWorld } from '../../src/simulator/world.js';

function params(nodes: number, cycles: number, extra: Partial<ExperimentParams> = {}, options: Record<string, string> = {}): ExperimentParams {
  return { ...defaultWorld, nodes, cycles, seed: 1, options, ...extra };
}

test('the sorted ring completes in O(log N) cycles: 2500, 5000, 10000 nodes, same parameters', () => {
  const cycles: number[] = [];
  for (const n of [2500, 5000, 10_000]) {
    const r = tmanExperiment.run(params(n, 30));
    assert.equal(typeof r.summary.cyclesToComplete, 'number', `ring of ${n} nodes not complete in 30 cycles`);
    cycles.push(r.summary.cyclesToComplete as number);
    // Missing links fall monotonically (no link, once found, is lost in a static network)…
    const missing = r.cycles.map((row) => row.missingLinks);
    for (let i = 1; i < missing.length; i++) assert.ok(missing[i] <= missing[i - 1], `${n} nodes: missing links rose at cycle ${i}`);
    // …and the nodes' closest entries are then exactly their ring neighbours.
    assert.equal(r.cycles[r.cycles.length - 1].wrongNeighbors, 0);
  }
  // The paper: about +1.5 cycles per doubling of N. Two doublings here.
  assert.ok(cycles[2] - cycles[0] <= 6, `cycles to complete ${cycles.join(', ')}`);
  assert.ok(cycles[2] >= cycles[0], `cycles to complete ${cycles.join(', ')}`);
});

test('after a sudden death of 50% of the nodes the survivors\' ring repairs itself within bounded time', () => {
  const r = tmanExperiment.run(params(10_000, 60, { kills: [{ fraction: 0.5, cycle: 20 }] }));
  assert.equal(r.cycles[20].missingLinks, 0, 'ring complete before the crash');
  assert.equal(r.cycles[21].liveNodes, 5000);
  // Right after the crash the survivors' views already hold nearly all their new neighbours…
  assert.ok(r.cycles[21].missingLinksFraction < 0.01, `missing right after: ${r.cycles[21].missingLinksFraction}`);
  // …but many of them still rank a dead node first; both measures return to zero.
  assert.ok(r.cycles[21].wrongNeighborsFraction > 0.2);
  const repair = r.summary.cyclesToRepair as number | null;
  const correct = r.summary.cyclesToCorrectNeighbors as number | null;
  assert.ok(repair !== null && repair <= 35, `cycles to repair ${repair}`);
  assert.ok(correct !== null && correct <= 35, `cycles to correct neighbours ${correct}`);
  assert.equal(r.cycles[60].missingLinks, 0);
  assert.equal(r.cycles[60].wrongNeighbors, 0);
});

test('one ring per group: four groups build four independent sorted rings', () => {
  const r = tmanExperiment.run(params(4000, 30, {}, { groups: '4' }));
  assert.equal(typeof r.summary.cyclesToComplete, 'number');
  assert.equal(r.cycles[30].wrongNeighbors, 0);
});

test('churn: the ring stays mostly complete and does not degrade over time', () => {
  const r = tmanExperiment.run(params(5000, 60, { churn: 0.002 }));
  const early = r.cycles.slice(21, 41).map((row) => row.missingLinksFraction);
  const late = r.cycles.slice(41).map((row) => row.missingLinksFraction);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(mean(late) < 0.05, `missing links under churn ${mean(late)}`);
  assert.ok(mean(late) < mean(early) * 1.5 + 0.005, `degrades: ${mean(early)} then ${mean(late)}`);
});

test('event-driven engine with latency: the ring still completes', () => {
  const r = tmanExperiment.run(params(2000, 30, { mode: 'event', latency: { kind: 'uniform', minMs: 20, maxMs: 200 } }));
  assert.equal(typeof r.summary.cyclesToComplete, 'number');
});

test('same seed, same JSON; another seed, another run', () => {
  const run = (seed: number) => JSON.stringify(tmanExperiment.run({ ...params(500, 12), seed }));
  assert.equal(run(5), run(5));
  assert.notEqual(run(5), run(6));
});

test('bad options are rejected with a RangeError naming them', () => {
  const bad = (options: Record<string, string>) => () => tmanExperiment.run(params(100, 2, {}, options));
  assert.throws(bad({ tview: '1' }), /tview/);
  assert.throws(bad({ m: '0' }), /\bm=/);
  assert.throws(bad({ psi: '60' }), /psi/);
  assert.throws(bad({ sample: '-1' }), /sample/);
  assert.throws(bad({ ranking: 'tree' }), /ranking/);
  assert.throws(bad({ groups: '0' }), /groups/);
  assert.throws(bad({ maxAge: '10', sampleAge: '11' }), /sampleAge/);
});
