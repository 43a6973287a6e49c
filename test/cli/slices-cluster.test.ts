/**
 * `cluster up --daemon-arg`: slice settings reach every daemon of a local cluster (here a short
 * lease, seen in a member's own lease), and flags the cluster sets itself are refused up front.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ClusterNode, ClusterState } from '../../src/cli/cluster/cluster-state.js';
import type { MembershipView, SliceView } from '../../src/slices/slice-api.js';
import { clusterUp, killLeftovers } from './cluster-helpers.js';
import { getJson, runCli, waitFor } from './node-helpers.js';

const LEASE_MS = 4_000;
let root: string;
let nodes: ClusterNode[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'peercloud-slices-cluster-'));
  const { result } = await clusterUp(join(root, 'cluster'), 2, ['--cycle-period-ms', '200', `--daemon-arg=--slice-lease-ms=${LEASE_MS}`, '--daemon-arg', '--log-level=warn']);
  assert.equal(result.code, 0, result.stderr);
  nodes = (JSON.parse(result.stdout) as ClusterState).nodes;
  assert.equal((await runCli(['user', 'create', 'alice', '--user-dir', join(root, 'users')])).code, 0);
});

after(async () => {
  if (!root) return;
  await runCli(['cluster', 'down', '--data-root', join(root, 'cluster'), '--grace-ms', '2000'], {}, 30_000);
  await killLeftovers(join(root, 'cluster'));
  rmSync(root, { recursive: true, force: true });
});

test('--daemon-arg hands node start flags to every daemon: members get the short lease', async () => {
  // The second node (not the one we ask) must be a member: ask for both.
  const created = await waitFor('a slice of both nodes', 20_000, async () => {
    const r = await runCli(['slice', 'create', 'short', '--nodes', '2', '--api', nodes[0].api, '--user', 'alice', '--user-dir', join(root, 'users'), '--json'], {}, 30_000);
    return r.code === 0 ? (JSON.parse(r.stdout) as SliceView) : undefined;
  });
  assert.equal(created.size, 2);
  const asked = Date.now();
  const m = await getJson<MembershipView>(nodes[1].api, '/v1/membership');
  assert.equal(m.state, 'member');
  // Renewed every third of a 4 s lease: never more than 4 s ahead (the default is 30 s).
  assert.ok(m.leaseUntil! - asked <= LEASE_MS + 500, `lease runs ${m.leaseUntil! - asked} ms ahead`);
});

test('--daemon-arg refuses flags the cluster sets itself, and stray values, before starting anything', async () => {
  const other = join(root, 'other');
  for (const [arg, why] of [
    ['--daemon-arg=--data-dir=/tmp/x', /cluster up sets --data-dir/],
    ['--daemon-arg=--join=pc@127.0.0.1:1', /cluster up sets --join/],
    ['--daemon-arg=3000', /expected a `node start` flag/],
  ] as const) {
    const r = await runCli(['cluster', 'up', '-n', '1', '--data-root', other, arg]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, why);
  }
  assert.ok(!existsSync(other), 'nothing was created');
});
