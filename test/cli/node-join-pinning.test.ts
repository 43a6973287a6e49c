/**
 * Joining real daemons by address: a `nodeId@host:port` entry is pinned to that id's key, so a
 * node holding a different key at that address is refused (logged as an error, the daemon keeps
 * running and never takes the impostor into its view); a plain `host:port` entry is trust on
 * first use and joins whoever answers there.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PeerView } from '../../src/api/schemas.js';
import { type Daemon, alive, getJson, killAll, runCli, startDaemon, waitFor } from './node-helpers.js';

const FAST = ['--cycle-period-ms', '200', '--join-retry-interval-ms', '300', '--log-level', 'info'];
let root: string;
let seed: Daemon;
let expected: Daemon;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'peercloud-pinning-'));
  for (const name of ['seed', 'expected', 'pinned', 'tofu']) {
    const r = await runCli(['init', '--data-dir', join(root, name)]);
    assert.equal(r.code, 0, r.stderr);
  }
  seed = await startDaemon(join(root, 'seed'), FAST);
  // The node the operator meant to join: its id is what the pinned entry names; it listens elsewhere.
  expected = await startDaemon(join(root, 'expected'), FAST);
});

after(async () => {
  await killAll();
  if (root) rmSync(root, { recursive: true, force: true });
});

const ids = async (d: Daemon): Promise<string[]> => (await getJson<PeerView>(d.api, '/v1/peers')).peers.map((p) => p.id);

test('a join entry whose node id does not match the key at its address is refused, and the daemon keeps running', async () => {
  // `expected`'s id at `seed`'s address: whoever is there (seed) proves a different key.
  const pinned = await startDaemon(join(root, 'pinned'), [...FAST, '--join', `${expected.nodeId}@${seed.listen}`]);
  const refusals = () => pinned.lines.filter((l) => l.level === 'error' && typeof l.msg === 'string' && l.msg.includes('refusing join target'));
  // Several join rounds, each refused with an error naming the address and the id it expected.
  await waitFor('two refused join attempts', 10_000, async () => (refusals().length >= 2 ? true : undefined), () => JSON.stringify(pinned.lines.slice(-5)));
  const first = refusals()[0];
  assert.match(String(first.msg), new RegExp(`refusing join target ${seed.listen.replace(/\./g, '\\.')}: it proved a different key than node id ${expected.nodeId}`));
  assert.match(String(first.error), new RegExp(`proved the key of ${seed.nodeId}, not of ${expected.nodeId}`));
  assert.ok(alive(pinned), 'the daemon is still running');
  // Still answering its API, with an empty view: the impostor was never taken in, nor the other way round.
  assert.deepEqual(await ids(pinned), []);
  assert.ok(!(await ids(seed)).includes(pinned.nodeId), 'the seed never heard a HELLO from the refusing node');
  assert.ok(!pinned.lines.some((l) => l.msg === 'joined the overlay'));
});

test('a plain host:port join entry trusts the key it first meets there and joins', async () => {
  const tofu = await startDaemon(join(root, 'tofu'), [...FAST, '--join', seed.listen]);
  await waitFor('the trust-on-first-use node to have the seed in its view', 10_000, async () => ((await ids(tofu)).includes(seed.nodeId) ? true : undefined));
  const trusted = tofu.lines.find((l) => l.msg === 'trusting the key first seen at a join address');
  assert.ok(trusted, 'the node says whose key it trusted');
  assert.equal(trusted.nodeId, seed.nodeId);
  assert.equal(trusted.target, seed.listen);
  assert.ok(alive(tofu));
});
