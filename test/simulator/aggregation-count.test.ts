import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countExperiment } from '../../src/simulator/experiments/count.js';
import type { ExperimentParams, ExperimentResult } from '../../src/simulator/experiments/experiment.js';
import { defaultWorld } from '../../src/simulator/world.js';

const N = 10_000;

function params(overrides: Partial<ExperimentParams> = {}): ExperimentParams {
  return { ...defaultWorld, nodes: N, cycles: 30, seed: 1, sampling: 'newscast', view: 30, options: {}, ...overrides };
}

const row = (r: ExperimentResult, cycle: number) => {
  const found = r.cycles.find((c) => c.cycle === cycle);
  assert.ok(found, `row ${cycle}`);
  return found;
};

/** Largest |N̂ − size| / size over nodes at a cycle, from the observed range. */
const errorAgainst = (r: ExperimentResult, cycle: number, size: number) => {
  const c = row(r, cycle);
  return Math.max(Math.abs(c.countMax - size), Math.abs(c.countMin - size)) / size;
};

describe('COUNT (Jelasity, Montresor, Babaoglu, TOCS 2005, §4.2–4.3)', () => {
  it('puts every node within ±0.1% of N by cycle 30 over Newscast', () => {
    const r = countExperiment.run(params());
    const within = r.summary['cyclesToWithin0.1pct'];
    assert.equal(typeof within, 'number');
    assert.ok((within as number) <= 30, `within 0.1% at cycle ${within}`);
    assert.ok((r.summary.relativeErrorMax as number) <= 0.001);
    assert.equal(r.summary.countMin, row(r, 30).countMin);
    assert.equal(row(r, 30).participants, N);
    assert.equal(row(r, 30).countUnknown, 0);
    // Cycle 0: only the leader has a finite estimate (1), everyone else holds no mass yet.
    assert.equal(row(r, 0).countMin, 1);
    assert.equal(row(r, 0).relativeErrorMax, Infinity);
  });

  it('pools several instances, which converges at least as fast as one', () => {
    const one = countExperiment.run(params({ cycles: 25 }));
    const four = countExperiment.run(params({ cycles: 25, options: { instances: '4' } }));
    assert.equal(row(four, 1).instancesMax <= 4, true);
    assert.equal(row(four, 25).instancesMax, 4, 'all four first-epoch instances reached everyone');
    assert.ok(row(four, 25).relativeErrorMax < row(one, 25).relativeErrorMax, 'k peaks mix faster than one');
    assert.ok((four.summary['cyclesToWithin0.1pct'] as number) <= (one.summary['cyclesToWithin0.1pct'] as number));
  });

  it('restarts every epoch with self-elected leaders and publishes accurate sizes', () => {
    const gamma = 20;
    const r = countExperiment.run(params({ cycles: 3 * gamma + 1, options: { epoch: String(gamma), instances: '4' } }));
    for (const epochEnd of [gamma, 2 * gamma, 3 * gamma]) {
      // Last cycle of an epoch: converged; first cycle of the next one: published, restarted.
      assert.ok(row(r, epochEnd).relativeErrorMax < 0.01, `end of epoch at ${epochEnd}`);
      const next = row(r, epochEnd + 1);
      assert.ok(Math.abs(next.publishedMin - N) / N < 0.01 && Math.abs(next.publishedMax - N) / N < 0.01, `published after ${epochEnd}`);
      assert.ok(next.relativeErrorMax > 0.5, 'a fresh epoch starts from the leaders again');
    }
    // Leaders elected themselves with probability C/N̂: a handful of instances, never more than K.
    for (const c of [gamma + 10, 2 * gamma + 10]) {
      const k = row(r, c).instancesMax;
      assert.ok(k >= 1 && k <= 8, `instances at cycle ${c}: ${k}`);
    }
  });

  it('works in the event-driven engine (own counters, latency, reordering)', () => {
    const r = countExperiment.run(params({ mode: 'event', latency: { kind: 'uniform', minMs: 10, maxMs: 200 }, cycles: 30 }));
    assert.ok(row(r, 30).relativeErrorMax <= 0.001, `error ${row(r, 30).relativeErrorMax}`);
  });

  it('message loss: lost exchanges leave COUNT unbiased, lost replies bias it', () => {
    const exchangesLost = countExperiment.run(params({ requestLoss: 0.2 }));
    const repliesLost = countExperiment.run(params({ responseLoss: 0.2 }));
    const clean = row(exchangesLost, 30);
    // Mass is conserved, so the mean value is exactly 1/N; the nodes are just less converged.
    assert.ok(Math.abs(clean.estimateMean - N) / N < 0.001, `mean ${clean.estimateMean}`);
    assert.ok(clean.relativeErrorMax < 0.01);
    assert.ok(clean.relativeErrorMax > (countExperiment.run(params()).summary.relativeErrorMax as number), 'but slower');
    // Lost replies create or destroy mass: the nodes agree on a wrong size (seeds 1–4: 13%–88% off).
    const biased = row(repliesLost, 30);
    assert.ok(Math.abs(biased.estimateMean - N) / N > 0.05, `mean ${biased.estimateMean}`);
    assert.ok((biased.countMax - biased.countMin) / biased.estimateMean < 0.01, 'converged nonetheless');
  });

  it('sudden death of 50%: harmless late in an epoch, damaging early', () => {
    // Late, the mass is spread evenly, so the survivors still hold half of it on half the nodes and
    // keep estimating the size the epoch started with. Early, a few nodes hold most of the mass and
    // which of them die decides the estimate (seeds 1–6: 2%–300% off).
    const seeds = [1, 2, 3];
    let earlyError = 0;
    for (const seed of seeds) {
      const late = countExperiment.run(params({ seed, kills: [{ fraction: 0.5, cycle: 25 }] }));
      const early = countExperiment.run(params({ seed, kills: [{ fraction: 0.5, cycle: 2 }] }));
      assert.equal(row(late, 30).liveNodes, N / 2);
      const lateError = errorAgainst(late, 30, N);
      assert.ok(lateError < 0.005, `seed ${seed}: late death error ${lateError}`);
      earlyError += errorAgainst(early, 30, N) / seeds.length;
    }
    assert.ok(earlyError > 0.1, `mean early death error ${earlyError}`);
  });

  it('tracks the new size in the next epoch after a crash, and runs under churn', () => {
    const r = countExperiment.run(params({ cycles: 50, kills: [{ fraction: 0.5, cycle: 10 }], options: { epoch: '20', instances: '4' } }));
    assert.ok(errorAgainst(r, 40, N / 2) < 0.01, `error at the end of the next epoch ${errorAgainst(r, 40, N / 2)}`);
    assert.ok(Math.abs(row(r, 41).publishedMin - N / 2) / (N / 2) < 0.01);
    const churn = countExperiment.run(params({ nodes: 2000, cycles: 45, churn: 0.01, options: { epoch: '20', instances: '4' } }));
    const last = row(churn, 45);
    assert.ok(last.participants < last.liveNodes, 'newcomers wait for the next epoch');
    assert.ok(Math.abs(last.publishedMin - 2000) / 2000 < 0.1 && Math.abs(last.publishedMax - 2000) / 2000 < 0.1, `published ${last.publishedMin}..${last.publishedMax}`);
  });

  it('is deterministic and rejects bad options with a RangeError naming them', () => {
    const p = params({ nodes: 1000, cycles: 8 });
    assert.equal(JSON.stringify(countExperiment.run(p)), JSON.stringify(countExperiment.run(p)));
    const bad: [Record<string, string>, RegExp][] = [
      [{ instances: '0' }, /instances/],
      [{ instances: '1.5' }, /instances/],
      [{ instances: 'many' }, /instances/],
      [{ epoch: '-3' }, /epoch/],
      [{ maxInstances: '0' }, /maxInstances/],
      [{ instances: '4', maxInstances: '2' }, /maxInstances/],
      [{ leaders: '3' }, /leaders/],
      [{ initialEstimate: '0' }, /initialEstimate/],
    ];
    for (const [options, pattern] of bad) {
      assert.throws(() => countExperiment.run({ ...p, options }), (e: unknown) => e instanceof RangeError && pattern.test(e.message), JSON.stringify(options));
    }
  });
});
