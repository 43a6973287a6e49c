/**
 * How far calls go: the reach arithmetic (reach.ts), and on the in-memory network that an
 * unranked count request asks a few times the count instead of the whole cloud, widening when the
 * query is selective, while ranked and fraction requests still ask everyone.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { AllocationError } from '../../src/slices/owner.js';
import { FLOOD_SHARE, REACH_FACTOR, firstReach, nextReach, sparesFor, splitBudget } from '../../src/slices/reach.js';
import { sampleNode } from './query-fixtures.js';
import { type TestNetwork, createSlice, slicesNetwork, state, waitUntil } from './slice-network.js';

describe('reach arithmetic', () => {
  test('spares: max(1, 10%)', () => {
    assert.deepEqual([1, 5, 10, 11, 100, 1000].map(sparesFor), [1, 1, 1, 2, 10, 100]);
    assert.equal(sparesFor(0), 0);
  });

  test('the first wave reaches REACH_FACTOR × needed / match ratio, or floods when that is most of the cloud', () => {
    assert.equal(firstReach(11, 1, 10_000), REACH_FACTOR * 11);
    assert.equal(firstReach(11, 0.1, 10_000), REACH_FACTOR * 110);
    assert.equal(firstReach(11, 0, 10_000), REACH_FACTOR * 11, 'an unusable ratio counts as 1');
    assert.equal(firstReach(30, 1, 100), null, 'more than half of 100: flood');
    assert.equal(firstReach(11, 1, Number.NaN), null, 'unknown size: flood');
  });

  test('each next wave at least doubles, and follows the match ratio seen', () => {
    assert.equal(nextReach(22, 22, 1, 10_000), 44, 'enough matched but one short: double');
    assert.equal(nextReach(22, 2, 9, 10_000), Math.ceil((REACH_FACTOR * 9) / (2 / 22)));
    assert.equal(nextReach(22, 0, 11, 10_000), REACH_FACTOR * 11 * 22, 'no match yet: as if one had matched');
    assert.equal(nextReach(2_000, 100, 500, 10_000), null, 'would reach most of the cloud: flood');
    assert.ok(nextReach(4_000, 4_000, 1, 10_000) === null && 8_000 >= FLOOD_SHARE * 10_000);
  });

  test('a budget is split evenly among at most `peers` peers, never into empty shares', () => {
    assert.deepEqual(splitBudget(10, 4), [3, 3, 2, 2]);
    assert.deepEqual(splitBudget(2, 4), [1, 1]);
    assert.deepEqual(splitBudget(0, 4), []);
    assert.equal(splitBudget(1_001, 4).reduce((a, b) => a + b, 0), 1_001);
  });
});

let net: TestNetwork | undefined;
afterEach(() => {
  net?.stop();
  net = undefined;
});

const sawCall = (n: TestNetwork) => n.nodes.filter((x) => x.service.agent.stats.callsSeen > 0).length;

describe('reach on the network', () => {
  test('an unranked count request asks a few times the count, not the whole cloud', async () => {
    // A long window (waves of 500 ms): a busy machine must not end the first wave before its offers are in.
    net = slicesNetwork(60, { windowMs: 1_500 });
    const slice = await createSlice(net.nodes[0], { name: 'few', nodes: 3 });
    assert.equal(slice.members.size, 3);
    const report = net.nodes[0].service.owner.lastAllocation!;
    assert.equal(report.reach[0], REACH_FACTOR * (3 + sparesFor(3)));
    assert.ok(report.reach.every((r) => r !== null), `never flooded: ${JSON.stringify(report.reach)}`);
    // Let the wave finish spreading: a node reached after collection closed still counts.
    await waitUntil('no reservation left', 2_000, () => net!.nodes.every((n) => state(n) !== 'reserved'));
    const reached = sawCall(net);
    assert.ok(reached <= report.reach.reduce<number>((a, r) => a + r!, 0), `${reached} nodes saw the call`);
    assert.ok(reached < 30, `${reached} of 60 nodes saw the call`);
    const calls = net.sent.get('call') ?? 0;
    assert.ok(calls < 30, `${calls} call messages (a flood sends about 4 × 60)`);
  });

  test('a selective query widens wave by wave until it finds its nodes', async () => {
    // 3 of 60 nodes have 16 cores.
    net = slicesNetwork(60, { attributes: (i) => sampleNode({ cores: i % 20 === 7 ? 16 : 2, cpuScore: 1000 }) });
    const slice = await createSlice(net.nodes[0], { name: 'rare', nodes: 3, where: 'cores>=16' });
    assert.equal(slice.members.size, 3);
    const report = net.nodes[0].service.owner.lastAllocation!;
    assert.ok(report.reach.length >= 2, `waves: ${JSON.stringify(report.reach)}`);
    for (let i = 1; i < report.reach.length; i++) {
      const [before, now] = [report.reach[i - 1], report.reach[i]];
      assert.ok(now === null || (before !== null && now >= 2 * before), `wave ${i} widens: ${JSON.stringify(report.reach)}`);
    }
  });

  test('too few matching nodes: the waves end in a flood, and the shortfall is reported', async () => {
    net = slicesNetwork(40, { attributes: (i) => sampleNode({ cores: i < 2 ? 16 : 2, cpuScore: 1000 }) });
    await assert.rejects(createSlice(net.nodes[5], { name: 'none', nodes: 3, where: 'cores>=16' }), (err: unknown) => err instanceof AllocationError && err.found === 2);
    const report = net.nodes[5].service.owner.lastAllocation!;
    assert.equal(report.reach.at(-1), null, `the last wave floods: ${JSON.stringify(report.reach)}`);
  });

  test('ranked and fraction requests ask the whole cloud at once', async () => {
    // Ranked and fraction calls wait their whole window (1.5 s, so a busy machine delivers every answer).
    net = slicesNetwork(20, { attributes: (i) => sampleNode({ cores: i + 1, cpuScore: 1000 }), rank: (i) => i / 19, windowMs: 1_500 });
    const ranked = await createSlice(net.nodes[0], { name: 'top', nodes: 2, rank: 'cores' });
    assert.deepEqual(net.nodes[0].service.owner.lastAllocation!.reach, [null]);
    // The best two that heard the flood (a flood with fanout 4 misses a node now and then, ~e^-4).
    for (const id of ranked.members.keys()) assert.ok(net.nodes.findIndex((n) => n.address.nodeId === id) >= 15, 'among the nodes with the most cores');
    const fraction = await createSlice(net.nodes[1], { name: 'tenth', fraction: '10%' });
    assert.deepEqual(net.nodes[1].service.owner.lastAllocation!.reach, [null]);
    // 18 free nodes matched (the ranked slice's two are busy): 10% of 20 matching nodes is 2.
    assert.equal(fraction.members.size, 2);
  });
});
