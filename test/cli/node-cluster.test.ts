/**
 * Five real daemons on 127.0.0.1 joined through one seed (trust on first use): views, one
 * connected overlay, the size estimate on every node, bad input on both ports, kill -9, restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { NetworkAggregates, NodeInfo, PeerView } from '../../src/api/schemas.js';
import { type Daemon, alive, getJson, killAll, runCli, startDaemon, waitExit, waitFor } from './node-helpers.js';
import { connected } from './cluster-helpers.js';

const N = 5;
const FAST = ['--cycle-period-ms', '200', '--epoch-length', '10', '--join-retry-interval-ms', '300', '--log-level', 'info'];
let root: string;
const daemons: Daemon[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'peercloud-cluster-'));
  const inits = await Promise.all(Array.from({ length: N }, (_, i) => runCli(['init', '--data-dir', join(root, `n${i}`)])));
  for (const r of inits) assert.equal(r.code, 0, r.stderr);
  daemons.push(await startDaemon(join(root, 'n0'), FAST));
  const seed = daemons[0].listen;
  daemons.push(...(await Promise.all(Array.from({ length: N - 1 }, (_, i) => startDaemon(join(root, `n${i + 1}`), [...FAST, '--join', seed])))));
});

after(async () => {
  await killAll();
  if (root) rmSync(root, { recursive: true, force: true });
});


test('every view fills, the views form one overlay, and every size estimate converges to N ±10%', async (t) => {
  const started = Date.now();
  let last = '';
  await waitFor(
    'convergence',
    45_000,
    async () => {
      const views = await Promise.all(daemons.map((d) => getJson<PeerView>(d.api, '/v1/peers')));
      const nets = await Promise.all(daemons.map((d) => getJson<NetworkAggregates>(d.api, '/v1/network')));
      const sizes = nets.map((n) => n.size.estimate);
      last = `view sizes ${views.map((v) => v.count).join(',')}; size estimates ${sizes.join(',')}`;
      if (views.some((v) => v.count === 0)) return undefined;
      const edges = new Map(daemons.map((d, i) => [d.nodeId, views[i].peers.map((p) => p.id)]));
      if (!connected(daemons.map((d) => d.nodeId), edges)) return undefined;
      if (sizes.some((s) => s === null || Math.abs(s - N) > 0.1 * N)) return undefined;
      return true;
    },
    () => last,
  );
  t.diagnostic(`converged ${Date.now() - started} ms after the last daemon started: ${last}`);
  for (const d of daemons) assert.ok(alive(d));
});

test('garbage on the node-to-node port and on the API does not take the daemon down', async () => {
  const target = daemons[1];
  const [host, port] = target.listen.split(':');
  const apiUrl = new URL(target.api);
  const junk = (h: string, p: number, bytes: Buffer) =>
    new Promise<void>((resolve) => {
      const s = connect({ host: h, port: p }, () => s.end(bytes));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.setTimeout(3_000, () => s.destroy());
    });
  await Promise.all([
    junk(host, Number(port), Buffer.from('GET / HTTP/1.1\r\n\r\n')),
    junk(host, Number(port), Buffer.alloc(4096, 0xff)),
    junk(host, Number(port), Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3])),
    junk(apiUrl.hostname, Number(apiUrl.port), Buffer.from('\x00\x01garbage\r\n\r\n')),
    junk(apiUrl.hostname, Number(apiUrl.port), Buffer.from('GET /v1/node HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n')),
  ]);
  const res = await fetch(new URL('/v1/nope%ff', target.api));
  assert.ok(res.status >= 400 && res.status < 500, `HTTP ${res.status}`);
  const info = await getJson<NodeInfo>(target.api, '/v1/node');
  assert.equal(info.id, target.nodeId);
  assert.ok(alive(target));
});

test('kill -9 of one node leaves the others running; restarted with its data dir it keeps its id and rejoins', async () => {
  const victim = daemons[2];
  victim.child.kill('SIGKILL');
  const exit = await waitExit(victim);
  assert.equal(exit.signal, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 1_000));
  for (const d of daemons) {
    if (d === victim) continue;
    assert.ok(alive(d), `${d.nodeId} died`);
    assert.equal((await getJson<NodeInfo>(d.api, '/v1/node')).id, d.nodeId);
  }
  // No --join: the node must rejoin from the view it persisted in peers.json.
  const again = await startDaemon(victim.dataDir, FAST);
  daemons[2] = again;
  assert.equal(again.nodeId, victim.nodeId);
  assert.equal((await getJson<NodeInfo>(again.api, '/v1/node')).id, victim.nodeId);
  await waitFor('the restarted node to rejoin', 15_000, async () => ((await getJson<PeerView>(again.api, '/v1/peers')).count > 0 ? true : undefined));
});

test('SIGTERM shuts a daemon down gracefully with exit code 0', async () => {
  const d = daemons[4];
  d.child.kill('SIGTERM');
  const exit = await waitExit(d);
  assert.equal(exit.code, 0);
  assert.ok(d.lines.some((l) => l.msg === 'node stopped'));
});
