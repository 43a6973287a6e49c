import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_PEER, type PeerHandle, type PeerSampler } from '../../src/core/handles.js';
import { SeededRandom } from '../../src/core/random.js';
import { Aggregation, type AggregationMessage } from '../../src/protocols/aggregation/aggregation.js';
import { type AggregationConfig, countConfig, validateAggregationConfig } from '../../src/protocols/aggregation/config.js';
import { CountInstances } from '../../src/protocols/aggregation/count-instances.js';

/** A sampler the test steers: `next[self]` is the peer `self` will pick. */
class ScriptedSampler implements PeerSampler {
  next: PeerHandle[] = [];
  samplePeer(self: PeerHandle): PeerHandle {
    return this.next[self] ?? NO_PEER;
  }
  samplePeers(self: PeerHandle, count: number, out: PeerHandle[]): void {
    if (count > 0 && this.next[self] !== undefined) out.push(this.next[self]);
  }
}

function setUp(inputs: number[], options: { epochLength?: number; count?: boolean; maxInstances?: number } = {}) {
  const sampler = new ScriptedSampler();
  const config: AggregationConfig = {
    epochLength: options.epochLength ?? 30,
    attributes: [{ name: 'x', input: (h) => inputs[h], aggregates: ['average', 'min', 'max', 'variance', ...(options.count === false ? [] : (['sum'] as const))] }],
    count: options.count === false ? null : countConfig({ leaders: 1, maxInstances: options.maxInstances }),
  };
  const agg = new Aggregation(config, sampler, new SeededRandom(42));
  agg.ensureCapacity(inputs.length);
  for (let h = 0; h < inputs.length; h++) agg.resetNode(h);
  return { agg, sampler };
}

/** One atomic exchange p → q, as the cycle-driven engine runs it. */
function exchange(agg: Aggregation, p: PeerHandle, q: PeerHandle): { req: AggregationMessage; res: AggregationMessage } {
  const req = agg.initiate(p, q);
  const res = agg.handle(q, p, req);
  agg.complete(p, q, req, res);
  return { req, res };
}

const average = (agg: Aggregation, h: PeerHandle) => agg.currentEstimate(h, 'x', 'average');

describe('Aggregation protocol, by hand', () => {
  it('one push-pull exchange averages, propagates min/max, derives variance, count and sum', () => {
    const { agg, sampler } = setUp([4, 8]);
    agg.beginFirstEpoch(0, true);
    agg.beginFirstEpoch(1, false);
    assert.equal(agg.countEstimate(0), 1);
    assert.ok(Number.isNaN(agg.countEstimate(1)), 'a non-leader holds no COUNT mass yet');
    sampler.next = [1, 0];
    assert.equal(agg.selectPeer(0), 1);
    const req = agg.initiate(0, 1);
    assert.equal(req.epoch, 0);
    assert.equal(req.participating, true);
    assert.deepEqual(req.values, [4, 16, 4, 4]); // x, x², min, max
    assert.equal(req.countKeys.length, 1);
    assert.deepEqual(req.countValues, [1]);
    const res = agg.handle(1, 0, req);
    assert.equal(res.participating, true);
    assert.deepEqual(res.values, [8, 64, 8, 8], 'the reply carries the old values of the passive node');
    assert.deepEqual(res.countKeys, req.countKeys);
    assert.deepEqual(res.countValues, [0]);
    agg.complete(0, 1, req, res);
    for (const h of [0, 1]) {
      assert.equal(average(agg, h), 6);
      assert.equal(agg.currentEstimate(h, 'x', 'min'), 4);
      assert.equal(agg.currentEstimate(h, 'x', 'max'), 8);
      assert.equal(agg.currentEstimate(h, 'x', 'variance'), 4); // population variance of {4, 8}
      assert.equal(agg.countEstimate(h), 2);
      assert.equal(agg.currentEstimate(h, 'x', 'sum'), 12);
    }
  });

  it('a lost request changes nothing; a lost reply leaves the peer updated and breaks conservation', () => {
    const { agg } = setUp([0, 10]);
    agg.beginFirstEpoch(0);
    agg.beginFirstEpoch(1);
    const req = agg.initiate(0, 1);
    agg.fail(0, 1, req); // request lost: nobody saw anything
    assert.equal(average(agg, 0) + average(agg, 1), 10);
    const req2 = agg.initiate(0, 1);
    agg.handle(1, 0, req2);
    agg.fail(0, 1, req2); // reply lost
    assert.equal(average(agg, 0), 0);
    assert.equal(average(agg, 1), 5);
    assert.equal(average(agg, 0) + average(agg, 1), 5, 'mass destroyed by the asymmetric loss');
  });

  it('conserves mass exactly when the initiator took part in another exchange while its request was in flight', () => {
    const { agg } = setUp([1, 5, 12]);
    for (const h of [0, 1, 2]) agg.beginFirstEpoch(h, h === 2);
    const req = agg.initiate(0, 1); // 0 → 1 in flight
    exchange(agg, 2, 0); // meanwhile 2 → 0 completes
    const res = agg.handle(1, 0, req);
    agg.complete(0, 1, req, res);
    const sum = average(agg, 0) + average(agg, 1) + average(agg, 2);
    assert.ok(Math.abs(sum - 18) < 1e-12, `sum ${sum}`);
    const countMass = [0, 1, 2].reduce((s, h) => s + agg.instances!.mass(h), 0);
    assert.ok(Math.abs(countMass - 1) < 1e-12, `COUNT mass ${countMass}`);
  });

  it('restarts epochs on its own counter, pulls stragglers forward and tells the sender of a newer epoch', () => {
    const { agg, sampler } = setUp([3, 6, 9], { epochLength: 2, count: false });
    for (const h of [0, 1, 2]) agg.beginFirstEpoch(h);
    sampler.next = [1, 2, 1];
    agg.selectPeer(0);
    agg.selectPeer(0);
    exchange(agg, 0, 1); // 0 and 1 average within epoch 0
    assert.equal(agg.epochOf(0), 0);
    assert.equal(agg.selectPeer(0), 1); // third step: epoch 0 had its 2 steps, epoch 1 starts
    assert.equal(agg.epochOf(0), 1);
    assert.equal(agg.publishedEstimate(0, 'x', 'average'), 4.5, 'node 0 published what it had at the end of epoch 0');
    assert.equal(average(agg, 0), 3, 'and re-read its input');

    // Node 2 (still in epoch 0) contacts node 0 (epoch 1): no averaging, 2 learns and joins epoch 1.
    const { res } = exchange(agg, 2, 0);
    assert.equal(res.participating, false);
    assert.equal(res.epoch, 1);
    assert.equal(agg.epochOf(2), 1);
    assert.equal(agg.isParticipating(2), true);
    assert.equal(average(agg, 0), 3);
    assert.equal(average(agg, 2), 9);
    assert.equal(agg.publishedEpochOf(2), 0);

    // Node 0 (epoch 1) contacts node 1 (epoch 0): 1 joins epoch 1 first, then they average.
    exchange(agg, 0, 1);
    assert.equal(agg.epochOf(1), 1);
    assert.equal(agg.publishedEstimate(1, 'x', 'average'), 4.5);
    assert.equal(average(agg, 0), 4.5);
    assert.equal(average(agg, 1), 4.5);
  });

  it('a newcomer learns the epoch, waits for the next one and only then contributes', () => {
    const inputs = [2, 4, 1000];
    const { agg, sampler } = setUp(inputs, { epochLength: 5, count: false });
    agg.beginFirstEpoch(0);
    agg.beginFirstEpoch(1);
    sampler.next = [1, 0, 0];
    for (let i = 0; i < 3; i++) {
      agg.selectPeer(0);
      exchange(agg, 0, 1);
      agg.selectPeer(1);
    }
    // Node 2 joins mid-epoch and contacts node 0.
    assert.equal(agg.epochOf(2), -1);
    assert.equal(agg.selectPeer(2), 0);
    const { res } = exchange(agg, 2, 0);
    assert.equal(res.participating, false);
    assert.equal(agg.epochOf(2), 0);
    assert.equal(agg.isParticipating(2), false);
    assert.equal(agg.stepOf(2), agg.stepOf(0) - 1, 'one step behind the node it learned from, never ahead');
    assert.equal(average(agg, 0), 3, 'the waiting node did not disturb the epoch');
    // Node 0 contacting the waiting node does not average either.
    const out = exchange(agg, 0, 2);
    assert.equal(out.res.participating, false);
    assert.equal(average(agg, 0) + average(agg, 1), 6);
    // Node 0 reaches the end of epoch 0 and starts epoch 1; its first message brings node 2 in.
    while (agg.epochOf(0) === 0) agg.selectPeer(0);
    exchange(agg, 0, 2);
    assert.equal(agg.epochOf(2), 1);
    assert.equal(agg.isParticipating(2), true);
    assert.equal(average(agg, 0), 501);
    assert.ok(Number.isNaN(agg.publishedEstimate(2, 'x', 'average')), 'it had nothing to publish for epoch 0');
  });

  it('catches up with a more advanced counter of its epoch, never overtaking it', () => {
    const { agg, sampler } = setUp([1, 2], { epochLength: 10, count: false });
    agg.beginFirstEpoch(0);
    agg.beginFirstEpoch(1);
    sampler.next = [1, 0];
    for (let i = 0; i < 6; i++) agg.selectPeer(0);
    agg.selectPeer(1);
    exchange(agg, 0, 1);
    assert.equal(agg.stepOf(0), 6);
    assert.equal(agg.stepOf(1), 5, 'one behind the sender');
    exchange(agg, 1, 0);
    assert.equal(agg.stepOf(0), 6, 'the most advanced node is not moved by a slower one');
  });

  it('a node that never hears of any epoch founds epoch 0 after γ steps', () => {
    const { agg } = setUp([7], { epochLength: 3, count: false });
    for (let i = 0; i < 3; i++) assert.equal(agg.selectPeer(0), NO_PEER);
    assert.equal(agg.isParticipating(0), false);
    agg.selectPeer(0);
    assert.equal(agg.epochOf(0), 0);
    assert.equal(agg.isParticipating(0), true);
    assert.equal(average(agg, 0), 7);
  });

  it('newcomers adopt a peer’s size estimate for the leader election', () => {
    const { agg } = setUp([1, 1, 1]);
    agg.beginFirstEpoch(0, true);
    agg.beginFirstEpoch(1);
    exchange(agg, 0, 1);
    // Finish epoch 0 at node 0: it publishes N̂ = 2.
    while (agg.epochOf(0) === 0) agg.selectPeer(0);
    assert.equal(agg.publishedCount(0), 2);
    assert.equal(agg.knownSize(0), 2);
    assert.equal(agg.publishedEstimate(0, 'x', 'sum'), 2);
    assert.ok(Number.isNaN(agg.knownSize(2)));
    exchange(agg, 2, 0);
    assert.equal(agg.knownSize(2), 2);
    assert.ok(Number.isNaN(agg.publishedCount(2)), 'a heard size is not published as the node’s own');
  });

  it('ignores a participating message shaped for another configuration', () => {
    const { agg } = setUp([1, 3]);
    agg.beginFirstEpoch(0);
    agg.beginFirstEpoch(1);
    const req = agg.initiate(0, 1);
    const res = agg.handle(1, 0, { ...req, values: [100] });
    assert.equal(res.participating, false);
    assert.equal(average(agg, 1), 3);
    const tooMany = agg.handle(1, 0, { ...req, countKeys: [1, 2, 3, 4, 5], countValues: [0, 0, 0, 0, 0] });
    assert.equal(tooMany.participating, false);
  });

  it('rejects impossible configurations with a RangeError naming the parameter', () => {
    const attr = { name: 'x', input: () => 0, aggregates: ['average'] as const };
    assert.throws(() => validateAggregationConfig({ epochLength: 0, attributes: [attr], count: null }), /epochLength/);
    assert.throws(() => validateAggregationConfig({ epochLength: 2.5, attributes: [attr], count: null }), /epochLength/);
    assert.throws(() => validateAggregationConfig({ epochLength: 30, attributes: [{ ...attr, aggregates: ['sum'] }], count: null }), /sum needs COUNT/);
    assert.throws(() => validateAggregationConfig({ epochLength: 30, attributes: [attr, attr], count: null }), /used twice/);
    assert.throws(() => validateAggregationConfig({ epochLength: 30, attributes: [], count: countConfig({ leaders: 0 }) }), /leaders/);
    assert.throws(() => validateAggregationConfig({ epochLength: 30, attributes: [], count: countConfig({ maxInstances: 0 }) }), /maxInstances/);
    assert.throws(() => validateAggregationConfig({ epochLength: 30, attributes: [], count: countConfig({ initialEstimate: 0.5 }) }), /initialEstimate/);
    assert.throws(() => validateAggregationConfig({ epochLength: 30, attributes: [], count: null }), /at least one/);
    assert.throws(() => validateAggregationConfig({ epochLength: 30, attributes: [{ ...attr, aggregates: ['median' as never] }], count: null }), /median/);
    const { agg } = setUp([Number.NaN]);
    assert.throws(() => agg.beginFirstEpoch(0), RangeError);
    assert.throws(() => agg.currentEstimate(0, 'y', 'average'), /unknown aggregated attribute "y"/);
  });
});

describe('COUNT instances', () => {
  it('keeps only the K smallest keys, consistently on both sides, and conserves their mass', () => {
    const t = new CountInstances(2);
    t.ensureCapacity(3);
    t.lead(0, 50);
    t.lead(1, 10);
    t.lead(2, 30);
    const send = (h: number) => {
      const k: number[] = [];
      const v: number[] = [];
      t.write(h, k, v);
      return { k, v };
    };
    // 0 → 1: union {10, 50}, both fit.
    let req = send(0);
    let outK: number[] = [];
    let outV: number[] = [];
    t.respond(1, req.k, req.v, outK, outV);
    assert.deepEqual(outK, [10, 50]);
    assert.deepEqual(outV, [1, 0]);
    t.settle(0, req.k, req.v, outK, outV);
    assert.equal(t.size(0), 2);
    assert.equal(t.estimate(0), 2 / 1); // holds 0.5 of each
    // 2 → 0: union {10, 30, 50} cut to {10, 30}: instance 50 is abandoned at both.
    req = send(2);
    outK = [];
    outV = [];
    t.respond(0, req.k, req.v, outK, outV);
    assert.deepEqual(outK, [10, 30]);
    t.settle(2, req.k, req.v, outK, outV);
    const massOf = (key: number) => {
      let m = 0;
      for (let h = 0; h < 3; h++) for (let i = 0; i < t.size(h); i++) if (t.keys[h * 2 + i] === key) m += t.values[h * 2 + i];
      return m;
    };
    assert.equal(massOf(10), 1);
    assert.equal(massOf(30), 1);
    const holds = (h: number, key: number) => [...t.keys.subarray(h * 2, h * 2 + t.size(h))].includes(key);
    assert.ok(!holds(0, 50) && !holds(2, 50));
    assert.ok(holds(1, 50), 'node 1 keeps instance 50 until it hears of a smaller key');
    req = send(1);
    outK = [];
    outV = [];
    t.respond(2, req.k, req.v, outK, outV);
    t.settle(1, req.k, req.v, outK, outV);
    assert.ok(!holds(1, 50));
    assert.equal(massOf(10), 1);
    assert.equal(massOf(30), 1);
  });
});
