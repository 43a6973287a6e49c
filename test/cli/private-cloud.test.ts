/**
 * A private cloud: daemons sharing a join secret form a cloud; a daemon without it (or with another
 * one) is refused, says why in its log, and learns nothing about the cloud.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { PeerView } from '../../src/api/schemas.js';
import { CloudSecret, CloudSecretError } from '../../src/node/runtime/cloud-secret.js';
import { getJson, killAll, runCli, startDaemon, waitFor } from './node-helpers.js';

let root: string | undefined;

after(async () => {
  await killAll();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('the membership proof: right secret and direction only', () => {
  const a = new CloudSecret('correct horse battery staple');
  const b = new CloudSecret('another secret, also long');
  const sealed = a.seal('pcx', 'pcy', Uint8Array.from([1, 2, 3]));
  assert.deepEqual([...a.open('pcx', 'pcy', sealed)], [1, 2, 3]);
  assert.throws(() => b.open('pcx', 'pcy', sealed), CloudSecretError, 'another secret');
  assert.throws(() => a.open('pcy', 'pcx', sealed), CloudSecretError, 'the other direction');
  assert.throws(() => a.open('pcx', 'pcy', Uint8Array.from([1, 2])), CloudSecretError, 'too short');
  assert.throws(() => new CloudSecret('short'), RangeError);
});

test('only daemons with the cloud\'s join secret can join it', async () => {
  root = mkdtempSync(join(tmpdir(), 'peercloud-private-'));
  for (const n of ['a', 'b', 'c', 'd']) assert.equal((await runCli(['init', '--data-dir', join(root, n)])).code, 0);
  const fast = ['--cycle-period-ms', '200', '--join-retry-interval-ms', '300', '--log-level', 'info'];
  const secret = 'our lab cloud secret 2026';
  const env = { PEERCLOUD_CLOUD_JOIN_SECRET: secret };
  const a = await startDaemon(join(root, 'a'), [...fast], 15_000, env);
  const b = await startDaemon(join(root, 'b'), [...fast, '--join', a.listen], 15_000, env);
  const outsider = await startDaemon(join(root, 'c'), [...fast, '--join', a.listen]);
  const wrong = await startDaemon(join(root, 'd'), [...fast, '--join', a.listen], 15_000, { PEERCLOUD_CLOUD_JOIN_SECRET: 'a different secret 12345' });
  await waitFor('a and b to know each other', 10_000, async () => {
    const [va, vb] = await Promise.all([getJson<PeerView>(a.api, '/v1/peers'), getJson<PeerView>(b.api, '/v1/peers')]);
    return va.peers.some((p) => p.id === b.nodeId) && vb.peers.some((p) => p.id === a.nodeId) ? true : undefined;
  });
  await waitFor('the outsiders to log that they were refused', 10_000, async () =>
    [outsider, wrong].every((d) => d.lines.some((l) => String(l.msg).includes('refused us') && /cloud membership proof/.test(String(l.error)))) ? true : undefined,
  );
  for (const d of [outsider, wrong]) assert.equal((await getJson<PeerView>(d.api, '/v1/peers')).count, 0, 'an outsider learns no peer');
  const va = await getJson<PeerView>(a.api, '/v1/peers');
  assert.deepEqual(va.peers.map((p) => p.id), [b.nodeId], 'the cloud never took the outsiders in');
});
