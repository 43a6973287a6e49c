/**
 * LAN discovery between real daemons: three `node start --multicast` processes with no join
 * address find each other through multicast announcements on 127.0.0.1 and form one overlay.
 * Skipped (with the reason) only where the machine cannot loop multicast back over loopback.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { PeerView } from '../../src/api/schemas.js';
import { loopbackMulticastProblem, randomGroup } from '../node/discovery/multicast-helpers.js';
import { type Daemon, getJson, killAll, runCli, startDaemon, waitFor } from './node-helpers.js';

let root: string | undefined;

after(async () => {
  await killAll();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('daemons started with --multicast and no join address find each other on the LAN', async (t) => {
  const problem = await loopbackMulticastProblem();
  if (problem !== null) {
    t.skip(`IPv4 multicast on 127.0.0.1 is not available: ${problem}`);
    return;
  }
  root = mkdtempSync(join(tmpdir(), 'peercloud-discovery-'));
  const group = `${randomGroup()}:${randomInt(20_000, 60_000)}`;
  const args = ['--multicast', '--multicast-group', group, '--multicast-interval-ms', '1000', '--cycle-period-ms', '200', '--log-level', 'info'];
  const daemons: Daemon[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = join(root, `n${i}`);
    assert.equal((await runCli(['init', '--data-dir', dir])).code, 0);
    daemons.push(await startDaemon(dir, args));
  }
  const ids = daemons.map((d) => d.nodeId).sort();
  await waitFor('every daemon to know the two others', 20_000, async () => {
    const views = await Promise.all(daemons.map((d) => getJson<PeerView>(d.api, '/v1/peers')));
    return views.every((v, i) => v.peers.map((p) => p.id).sort().join() === ids.filter((id) => id !== daemons[i].nodeId).join()) ? true : undefined;
  });
  assert.ok(
    daemons.some((d) => d.lines.some((l) => l.msg === 'contacted a node found on the LAN')),
    'the overlay was formed through discovery',
  );
});
