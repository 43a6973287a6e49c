/**
 * `peercloud cluster up -n 20`: 20 real daemon processes joined through one seed. Every size
 * estimate converges to 20 (±5%) and the views form one overlay; then kill -9 of half of them:
 * the survivors stay one overlay, the dead disappear from every survivor's view, and the size
 * estimate follows to 10 (±1). `cluster status --json` reflects it all; `cluster down` leaves no
 * process behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { NetworkAggregates, PeerView } from '../../src/api/schemas.js';
import type { ClusterState } from '../../src/cli/cluster/cluster-state.js';
import { isOurDaemon } from '../../src/cli/cluster/cluster-state.js';
import type { NodeStatus } from '../../src/cli/cluster/cluster-ops.js';
import { clusterUp, connected, killLeftovers } from './cluster-helpers.js';
import { getJson, runCli, waitFor } from './node-helpers.js';

const N = 20;
const FAST = ['--cycle-period-ms', '250', '--epoch-length', '10'];
let root: string;
let state: ClusterState;
let upDoneAt = 0;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'peercloud-cluster20-'));
  const { result } = await clusterUp(root, N, FAST);
  assert.equal(result.code, 0, `cluster up failed: ${result.stderr}`);
  upDoneAt = Date.now();
  state = JSON.parse(result.stdout) as ClusterState;
});

after(async () => {
  if (!root) return;
  await runCli(['cluster', 'down', '--data-root', root, '--grace-ms', '3000']);
  await killLeftovers(root);
  rmSync(root, { recursive: true, force: true });
});

interface Snapshot {
  views: Map<string, string[]>;
  sizes: (number | null)[];
  slices: (number | null | undefined)[];
}

async function snapshot(nodes: ClusterState['nodes']): Promise<Snapshot> {
  const views = await Promise.all(nodes.map((n) => getJson<PeerView>(n.api, '/v1/peers')));
  const nets = await Promise.all(nodes.map((n) => getJson<NetworkAggregates>(n.api, '/v1/network')));
  return {
    views: new Map(nodes.map((n, i) => [n.nodeId, views[i].peers.map((p) => p.id)])),
    sizes: nets.map((x) => x.size.estimate),
    slices: nets.map((x) => x.userSlices?.total),
  };
}

const describe = (s: Snapshot | undefined) => (s ? `view sizes ${[...s.views.values()].map((v) => v.length).join(',')}; size estimates ${s.sizes.map((x) => (x === null ? '-' : x.toFixed(2))).join(',')}` : 'no snapshot');

test('cluster up starts 20 daemons; estimates converge to 20 ±5% and the views form one overlay', async (t) => {
  assert.equal(state.nodes.length, N);
  assert.equal(new Set(state.nodes.map((n) => n.nodeId)).size, N);
  for (const n of state.nodes) assert.ok(n.pid !== null && isOurDaemon(n.pid, state.script, n.dataDir), `${n.name} is not running`);
  let last: Snapshot | undefined;
  await waitFor(
    'join convergence',
    60_000,
    async () => {
      last = await snapshot(state.nodes);
      if (!connected(state.nodes.map((n) => n.nodeId), last.views)) return undefined;
      return last.sizes.every((s) => s !== null && Math.abs(s - N) <= 0.05 * N) ? true : undefined;
    },
    () => describe(last),
  );
  t.diagnostic(`converged ${Date.now() - upDoneAt} ms after cluster up returned: ${describe(last)}`);
  // The number of slices is published with the other aggregates: none here.
  assert.deepEqual(last!.slices, last!.sizes.map(() => 0));
});

test('cluster status --json reports every node live with its view and size estimate', async () => {
  const r = await runCli(['cluster', 'status', '--data-root', root, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { nodes: NodeStatus[] };
  assert.equal(s.nodes.length, N);
  for (const [i, n] of s.nodes.entries()) {
    assert.equal(n.nodeId, state.nodes[i].nodeId);
    assert.equal(n.pid, state.nodes[i].pid);
    assert.ok(n.running && n.live, `${n.name} not live`);
    assert.ok(n.viewSize !== null && n.viewSize > 0);
    assert.ok(n.sizeEstimate !== null && Math.abs(n.sizeEstimate - N) <= 0.05 * N, `${n.name}: ${n.sizeEstimate}`);
  }
  const again = await runCli(['cluster', 'up', '-n', '3', '--data-root', root]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already running/);
});

test('kill -9 of half the daemons: survivors stay one overlay, forget the dead, and estimate 10 ±1', async (t) => {
  const dead = state.nodes.filter((_, i) => i % 2 === 1);
  const survivors = state.nodes.filter((_, i) => i % 2 === 0);
  const deadIds = new Set(dead.map((n) => n.nodeId));
  for (const n of dead) process.kill(n.pid!, 'SIGKILL');
  await waitFor('the killed processes to exit', 10_000, async () => (dead.every((n) => !isOurDaemon(n.pid!, state.script, n.dataDir)) ? true : undefined));
  const killedAt = Date.now();
  let last: Snapshot | undefined;
  let viewsCleanAt: number | undefined;
  await waitFor(
    'the survivors to forget the dead and re-estimate',
    60_000,
    async () => {
      last = await snapshot(survivors);
      if (!connected(survivors.map((n) => n.nodeId), last.views)) return undefined;
      if ([...last.views.values()].some((v) => v.some((id) => deadIds.has(id)))) return undefined;
      viewsCleanAt ??= Date.now();
      return last.sizes.every((s) => s !== null && Math.abs(s - survivors.length) <= 1) ? true : undefined;
    },
    () => `${describe(last)}; dead still in views: ${last ? [...last.views.values()].reduce((a, v) => a + v.filter((id) => deadIds.has(id)).length, 0) : '?'}`,
  );
  t.diagnostic(`dead gone from every view after ${viewsCleanAt! - killedAt} ms; estimates at 10 ±1 after ${Date.now() - killedAt} ms: ${describe(last)}`);
  const status = JSON.parse((await runCli(['cluster', 'status', '--data-root', root, '--json'])).stdout) as { nodes: NodeStatus[] };
  assert.deepEqual(status.nodes.filter((n) => n.live).map((n) => n.nodeId), survivors.map((n) => n.nodeId));
});

test('cluster down stops every survivor and leaves no process', async () => {
  const r = await runCli(['cluster', 'down', '--data-root', root, '--json'], {}, 30_000);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { stopped: N / 2 });
  for (const n of state.nodes) assert.ok(!isOurDaemon(n.pid!, state.script, n.dataDir), `${n.name} (pid ${n.pid}) still runs`);
  const s = JSON.parse((await runCli(['cluster', 'status', '--data-root', root, '--json'])).stdout) as { nodes: NodeStatus[] };
  assert.ok(s.nodes.every((n) => !n.running && n.pid === null));
});
