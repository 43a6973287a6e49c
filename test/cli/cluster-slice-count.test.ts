/**
 * The number of slices as a network aggregate: five real daemons; slices created through the CLI
 * on two of them (two and one); every node's /v1/network then says 3 (each owner counts the slices
 * it coordinates, aggregation sums them), and `peercloud network` shows it; after a delete, 2.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { NetworkAggregates } from '../../src/api/schemas.js';
import { type Daemon, getJson, killAll, runCli, waitFor } from './node-helpers.js';
import { startSmallCloud } from './small-cloud.js';

const N = 5;
const FAST = ['--cycle-period-ms', '200', '--epoch-length', '8', '--join-retry-interval-ms', '300', '--slice-lease-ms', '3000'];
let root: string;
let users: string;
const daemons: Daemon[] = [];

before(async () => {
  const cloud = await startSmallCloud({ nodes: N, name: 'peercloud-slice-count', args: FAST, users: ['alice'] });
  ({ root, users } = cloud);
  daemons.push(...cloud.daemons);
});

after(async () => {
  await killAll();
  if (root) rmSync(root, { recursive: true, force: true });
});

const slice = (api: string, ...args: string[]) => runCli(['slice', ...args, '--api', api, '--user', 'alice', '--user-dir', users, '--json'], {}, 60_000);

/** Waits until every node's estimate of the number of slices rounds to `want`. */
async function everyNodeCounts(want: number): Promise<NetworkAggregates[]> {
  let last: NetworkAggregates[] = [];
  return waitFor(
    `every node to count ${want} slices`,
    30_000,
    async () => {
      last = await Promise.all(daemons.map((d) => getJson<NetworkAggregates>(d.api, '/v1/network')));
      return last.every((n) => n.userSlices?.total !== null && n.userSlices?.total !== undefined && Math.round(n.userSlices.total) === want) ? last : undefined;
    },
    () => last.map((n) => n.userSlices?.total?.toFixed(2) ?? '-').join(', '),
  );
}

test('the number of slices is summed over their owners and published by every node', async () => {
  const before = await everyNodeCounts(0);
  for (const n of before) assert.equal(n.userSlices?.total, 0, 'no slice anywhere: exactly 0');

  for (const [api, name] of [[daemons[0].api, 'a'], [daemons[0].api, 'b'], [daemons[3].api, 'c']]) {
    const r = await slice(api, 'create', name, '--nodes', '1');
    assert.equal(r.code, 0, r.stderr);
  }
  const three = await everyNodeCounts(3);
  for (const n of three) assert.ok(Math.abs(n.userSlices!.total! - 3) < 0.15, `estimate ${n.userSlices!.total}`);

  const shown = await runCli(['network', '--api', daemons[4].api]);
  assert.equal(shown.code, 0, shown.stderr);
  const row = /^slices\s+([\d.]+)\s*$/m.exec(shown.stdout);
  assert.ok(row !== null, `no slices row in:\n${shown.stdout}`);
  assert.equal(Math.round(Number(row[1])), 3, shown.stdout);

  assert.equal((await slice(daemons[0].api, 'delete', 'b')).code, 0);
  await everyNodeCounts(2);
});
