/**
 * `peercloud cluster` errors and a small cluster's life cycle: N out of range, no cluster, a busy
 * port, up/status/down with one daemon, and `down` never signalling a pid that is not ours.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ClusterState, readState } from '../../src/cli/cluster/cluster-state.js';
import type { NodeStatus } from '../../src/cli/cluster/cluster-ops.js';
import { clusterUp, killLeftovers } from './cluster-helpers.js';
import { runCli } from './node-helpers.js';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'peercloud-cluster-cli-'));
});
after(async () => {
  await runCli(['cluster', 'down', '--data-root', join(root, 'c'), '--grace-ms', '2000']);
  await killLeftovers(join(root, 'c'));
  rmSync(root, { recursive: true, force: true });
});

test('-n out of range is a usage error', async () => {
  for (const n of ['0', '201', 'x']) {
    const r = await runCli(['cluster', 'up', '-n', n, '--data-root', join(root, 'bad')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /-n must be/);
  }
});

test('status and down without a cluster say there is none', async () => {
  for (const cmd of ['status', 'down']) {
    const r = await runCli(['cluster', cmd, '--data-root', join(root, 'none')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no cluster in .*cluster up/);
  }
});

test('a busy port is reported before anything starts', async () => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as { port: number }).port;
  try {
    // The busy port is node-2's API port (base + 3).
    const r = await runCli(['cluster', 'up', '-n', '2', '--data-root', join(root, 'busy'), '--base-port', String(port - 3)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`ports? (\\d+, )*${port}\\b.* already in use`));
    assert.equal(readState(join(root, 'busy')), undefined);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('up, status and down of a one-node cluster; down never signals a pid that is not ours', async () => {
  const dir = join(root, 'c');
  const { result } = await clusterUp(dir, 1, ['--cycle-period-ms', '200']);
  assert.equal(result.code, 0, result.stderr);
  const state = JSON.parse(result.stdout) as ClusterState;
  assert.equal(state.nodes.length, 1);
  assert.match(result.stderr, /1\/1 nodes live/);
  const table = await runCli(['cluster', 'status', '--data-root', dir]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`node-1\\s+${state.nodes[0].nodeId}.*live`));
  const status = JSON.parse((await runCli(['cluster', 'status', '--data-root', dir, '--json'])).stdout) as { nodes: NodeStatus[] };
  assert.equal(status.nodes[0].live, true);

  // A state file pointing at this test process (not a daemon of ours) must not get it killed.
  const fake = join(root, 'fake');
  const foreign: ClusterState = { ...state, nodes: [{ ...state.nodes[0], dataDir: join(fake, 'node-1'), pid: process.pid }] };
  rmSync(fake, { recursive: true, force: true });
  mkdirSync(fake, { recursive: true });
  writeFileSync(join(fake, 'cluster.json'), JSON.stringify(foreign));
  const notOurs = await runCli(['cluster', 'down', '--data-root', fake, '--json']);
  assert.equal(notOurs.code, 0, notOurs.stderr);
  assert.deepEqual(JSON.parse(notOurs.stdout), { stopped: 0 });

  const down = await runCli(['cluster', 'down', '--data-root', dir, '--json']);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(JSON.parse(down.stdout), { stopped: 1 });
  assert.equal(readState(dir)!.nodes[0].pid, null);
});
