/** The ring buffer of aggregate samples behind GET /v1/history. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregateHistory, HISTORY_SERIES, type HistorySample } from '../../src/monitoring/aggregate-history.js';

/** A sample whose every series is `k` plus the series' index / 10 (so series do not mix up). */
function sample(k: number): HistorySample {
  return Object.fromEntries(HISTORY_SERIES.map((name, i) => [name, k + i / 10])) as HistorySample;
}

describe('AggregateHistory', () => {
  it('is empty at first, with every series present', () => {
    const h = new AggregateHistory(4, 500);
    const r = h.report();
    assert.equal(r.sampleMs, 500);
    assert.deepEqual(r.t, []);
    assert.deepEqual(Object.keys(r.series).sort(), [...HISTORY_SERIES].sort());
    for (const name of HISTORY_SERIES) assert.deepEqual(r.series[name], []);
  });

  it('keeps the last `capacity` samples, oldest first, across wrap-around', () => {
    const h = new AggregateHistory(5, 1_000);
    for (let k = 0; k < 3; k++) h.add(1_000 * k, sample(k));
    assert.deepEqual(h.report().t, [0, 1_000, 2_000], 'before the buffer is full');
    for (let k = 3; k < 13; k++) {
      h.add(1_000 * k, sample(k));
      const r = h.report();
      const first = Math.max(0, k - 4);
      const ks = Array.from({ length: k - first + 1 }, (_, i) => first + i);
      assert.deepEqual(r.t, ks.map((x) => 1_000 * x), `after sample ${k}`);
      HISTORY_SERIES.forEach((name, i) => assert.deepEqual(r.series[name], ks.map((x) => x + i / 10), `${name} after sample ${k}`));
    }
  });

  it('keeps nulls (no estimate yet) as nulls, and reports non-finite values as null too', () => {
    const h = new AggregateHistory(3);
    h.add(1, { ...sample(1), size: null, averageLoad: null });
    h.add(2, { ...sample(2), totalFreeCores: Number.NaN, nodeLoad: Infinity });
    h.add(3, { ...sample(3), size: 0 });
    const r = h.report();
    assert.deepEqual(r.series.size, [null, 2, 0], '0 is a value, not "no estimate"');
    assert.deepEqual(r.series.averageLoad, [null, 2.5, 3.5]);
    assert.deepEqual(r.series.totalFreeCores, [1.2, null, 3.2]);
    assert.deepEqual(r.series.nodeLoad, [1.6, null, 3.6]);
    // The report survives JSON (what the API sends).
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  });

  it('`since` returns only samples taken after it', () => {
    const h = new AggregateHistory(10, 1_000);
    for (let k = 0; k < 15; k++) h.add(10_000 + 1_000 * k, sample(k));
    assert.deepEqual(h.report(20_000).t, [21_000, 22_000, 23_000, 24_000]);
    assert.deepEqual(h.report(20_000).series.size, [11, 12, 13, 14]);
    assert.deepEqual(h.report(20_500).t, [21_000, 22_000, 23_000, 24_000]);
    assert.deepEqual(h.report(24_000).t, []);
    assert.equal(h.report(0).t.length, 10, 'older than the buffer: everything kept');
    assert.equal(h.report().t.length, 10);
  });

  it('refuses a capacity or sample period that is not positive', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) assert.throws(() => new AggregateHistory(capacity), RangeError, String(capacity));
    for (const sampleMs of [0, -5, Number.NaN]) assert.throws(() => new AggregateHistory(10, sampleMs), RangeError, String(sampleMs));
  });
});
