import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ClusterMember, GossipCluster } from './gossip-cluster.js';

const N = 40;

function within(estimates: number[], target: number, tolerance: number): boolean {
  return estimates.every((e) => Math.abs(e - target) <= tolerance * target);
}

function deadEntries(cluster: GossipCluster): number {
  const dead = new Set(cluster.members.filter((m) => !m.alive).map((m) => m.address.nodeId));
  return cluster.live().reduce((sum, m) => sum + m.node.view().filter((e) => dead.has(e.nodeId)).length, 0);
}

test(`${N} real GossipNodes join through one seed, agree on the network size, and follow the death of half of them`, async (t) => {
  const cpu = process.cpuUsage();
  const cluster = await GossipCluster.start({ seed: 'integration', size: N, viewSize: 10, epochLength: 12 });
  const startedAt = cluster.net.now();
  await cluster.joinThrough(0);
  assert.ok(cluster.net.now() - startedAt <= 1_000, 'everyone joined within a cycle');

  await cluster.runCycles(40);
  const estimates = cluster.estimates();
  assert.ok(within(estimates, N, 0.05), `estimates after 40 cycles: ${estimates.map((e) => e.toFixed(2)).join(' ')}`);
  assert.ok(cluster.stronglyConnected(), 'the views form one strongly connected overlay');
  for (const m of cluster.members) {
    assert.equal(m.node.viewSize(), 10, `node ${m.index}'s view is full`);
    assert.equal(m.node.stats.requestsRejected, 0);
  }

  // Kill every odd node (the seed, node 0, survives); the survivors must notice.
  const victims: ClusterMember[] = cluster.members.filter((m) => m.index % 2 === 1);
  cluster.crash(victims);
  let cycles = 0;
  while (cycles < 100 && !(within(cluster.estimates(), N / 2, 0.05) && deadEntries(cluster) === 0)) {
    await cluster.runCycles(10);
    cycles += 10;
  }
  const after = cluster.estimates();
  assert.equal(deadEntries(cluster), 0, 'no live view holds a dead node');
  assert.ok(within(after, N / 2, 0.05), `estimates ${cycles} cycles after the crash: ${after.map((e) => e.toFixed(2)).join(' ')}`);
  assert.ok(cluster.stronglyConnected(), 'the survivors still form one overlay');
  assert.ok(cluster.live().some((m) => m.node.stats.exchangesFailed > 0), 'survivors met dead peers');

  const virtualMs = cluster.net.now() - startedAt;
  await cluster.stop();
  const used = process.cpuUsage(cpu);
  t.diagnostic(`follow-up took ${cycles} cycles; ${(virtualMs / 1000).toFixed(1)} s virtual, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU, ${cluster.net.scheduler.eventsRun} events`);
});

test('a silent crash (host gone) is detected through timeouts alone', async () => {
  const cluster = await GossipCluster.start({ seed: 'silent', size: 16, viewSize: 6, epochLength: 10 });
  await cluster.joinThrough(0);
  await cluster.runCycles(15);
  cluster.crash(cluster.members.slice(12), 'silent');
  await cluster.runCycles(20);
  assert.equal(deadEntries(cluster), 0, 'no live view holds a dead node');
  assert.ok(cluster.stronglyConnected());
  await cluster.stop();
});
