import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GossipCluster } from './gossip-cluster.js';

/** A run with everything that draws randomness: jittered timers, latency, loss, a crash. */
async function run(seed: string): Promise<string> {
  const cluster = await GossipCluster.start({
    seed,
    size: 20,
    viewSize: 8,
    epochLength: 8,
    model: { requestLoss: 0.05, responseLoss: 0.05, latency: { kind: 'exponential', meanMs: 30, minMs: 2 } },
  });
  await cluster.joinThrough(0);
  await cluster.runCycles(12);
  cluster.crash(cluster.members.slice(15, 18));
  await cluster.runCycles(12);
  const fingerprint = cluster.fingerprint();
  await cluster.stop();
  return fingerprint;
}

test('the same seed gives the same run, bit for bit; another seed another run', async () => {
  const first = await run('alpha');
  const second = await run('alpha');
  const other = await run('beta');
  assert.equal(second, first);
  assert.notEqual(other, first);
  const parsed = JSON.parse(first) as { nodes: { view: string[] }[] };
  assert.ok(parsed.nodes.every((n) => n.view.length > 0), 'the run did something');
});
