import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REFERENCE_ROUND_MS, REFERENCE_SCORE, WORKLOAD_CHECKSUM, cpuWorkload, measureCpuScore } from '../../src/node/cpu-score.js';

/** A clock that moves `step` ms at every reading. */
function steppingClock(...steps: number[]): () => number {
  let t = 0;
  let i = 0;
  return () => {
    const now = t;
    t += steps[Math.min(i++, steps.length - 1)];
    return now;
  };
}

describe('CPU score', () => {
  it('the workload is deterministic: the same checksum on every run and every engine', () => {
    assert.equal(cpuWorkload(), WORKLOAD_CHECKSUM);
    assert.equal(cpuWorkload(), WORKLOAD_CHECKSUM);
  });

  it('normalises so that the reference round time scores REFERENCE_SCORE, twice as fast twice as much', () => {
    const atReference = measureCpuScore({ rounds: 3, now: steppingClock(REFERENCE_ROUND_MS), workload: () => 1 });
    assert.equal(atReference.score, REFERENCE_SCORE);
    const twiceAsFast = measureCpuScore({ rounds: 3, now: steppingClock(REFERENCE_ROUND_MS / 2), workload: () => 1 });
    assert.equal(twiceAsFast.score, 2 * REFERENCE_SCORE);
  });

  it('scores the fastest round, so one slow round (JIT, GC, a busy core) does not count', () => {
    // Readings: start, then (before, after) per round: rounds take 50, 10, 30 ms.
    let t = 0;
    const times = [0, 0, 50, 50, 60, 60, 90, 90];
    const r = measureCpuScore({ rounds: 3, budgetMs: 1e9, now: () => times[Math.min(t++, times.length - 1)], workload: () => 1 });
    assert.equal(r.bestRoundMs, 10);
    assert.equal(r.rounds, 3);
    assert.equal(r.score, Math.round((REFERENCE_SCORE * REFERENCE_ROUND_MS) / 10));
  });

  it('stops at its time budget once the minimum rounds ran', () => {
    const r = measureCpuScore({ rounds: 50, minRounds: 3, budgetMs: 100, now: steppingClock(20), workload: () => 1 });
    assert.equal(r.rounds, 3, 'after 3 rounds, 120 ms have passed');
    const slow = measureCpuScore({ rounds: 50, minRounds: 3, budgetMs: 10, now: steppingClock(1000), workload: () => 1 });
    assert.equal(slow.rounds, 3, 'never fewer than minRounds');
  });

  it('refuses a workload whose result changes', () => {
    let i = 0;
    assert.throws(() => measureCpuScore({ rounds: 2, workload: () => i++ }), /not deterministic/);
  });

  it('caps the score of an impossible (zero) round time', () => {
    const r = measureCpuScore({ rounds: 2, now: () => 5, workload: () => 1 });
    assert.ok(Number.isFinite(r.score) && r.score > 0);
  });

  it('measures this machine: a positive score from the real workload', () => {
    const r = measureCpuScore();
    assert.equal(r.checksum, WORKLOAD_CHECKSUM);
    assert.ok(r.rounds >= 3);
    assert.ok(r.score > 0 && r.bestRoundMs > 0 && r.elapsedMs >= r.bestRoundMs);
  });
});
