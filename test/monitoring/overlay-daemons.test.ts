/**
 * Three real daemons: GET /v1/overlay on one of them crawls the others over the node-to-node
 * transport (INSPECT requests), and shows a node killed with SIGKILL as unreachable.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { OverlayReport } from '../../src/monitoring/overlay-crawler.js';
import { type Daemon, alive, getJson, killAll, runCli, startDaemon, waitExit, waitFor } from '../cli/node-helpers.js';

const FAST = ['--cycle-period-ms', '200', '--epoch-length', '10', '--join-retry-interval-ms', '300', '--log-level', 'info'];
let root: string;
const daemons: Daemon[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'peercloud-overlay-'));
  const inits = await Promise.all([0, 1, 2].map((i) => runCli(['init', '--data-dir', join(root, `n${i}`)])));
  for (const r of inits) assert.equal(r.code, 0, r.stderr);
  daemons.push(await startDaemon(join(root, 'n0'), FAST));
  daemons.push(...(await Promise.all([1, 2].map((i) => startDaemon(join(root, `n${i}`), [...FAST, '--join', daemons[0].listen])))));
});

after(async () => {
  await killAll();
  if (root) rmSync(root, { recursive: true, force: true });
});

const describe = (r: OverlayReport | undefined) =>
  r ? `rounds ${r.rounds}; ${r.nodes.map((n) => `${n.id.slice(0, 8)}:${n.state}:view=${n.snapshot?.view.map((v) => v.id.slice(0, 8)).join('/') ?? '-'}`).join(' ')}` : 'no answer';

test('GET /v1/overlay on one daemon lists all three live, with snapshots whose views reference each other', async (t) => {
  const [first] = daemons;
  const ids = daemons.map((d) => d.nodeId);
  let last: OverlayReport | undefined;
  const started = Date.now();
  const report = await waitFor(
    'all three nodes live in the crawl, each view listing another daemon',
    45_000,
    async () => {
      last = await getJson<OverlayReport>(first.api, '/v1/overlay');
      const nodes = new Map(last.nodes.map((n) => [n.id, n]));
      for (const id of ids) {
        const n = nodes.get(id);
        if (n?.state !== 'live' || !n.snapshot) return undefined;
        if (!n.snapshot.view.some((v) => v.id !== id && ids.includes(v.id))) return undefined;
      }
      return last;
    },
    () => describe(last),
  );
  t.diagnostic(`crawl complete ${Date.now() - started} ms after the first request: ${describe(report)}`);

  assert.equal(report.self, first.nodeId);
  assert.ok(report.rounds >= 1);
  assert.equal(report.truncated, false);
  assert.equal(report.nodes.length, 3, 'no node other than the three');
  for (const d of daemons) {
    const n = report.nodes.find((x) => x.id === d.nodeId);
    assert.ok(n?.snapshot, d.nodeId);
    assert.equal(n.snapshot.id, d.nodeId);
    assert.equal(`${n.address.host}:${n.address.port}`, d.listen, 'crawled at its node-to-node address');
    assert.equal(`http://${n.snapshot.api?.host}:${n.snapshot.api?.port}`, d.api, 'a loopback API is shared');
    for (const v of n.snapshot.view) {
      assert.ok(ids.includes(v.id), `${d.nodeId} lists an unknown node ${v.id}`);
      assert.notEqual(v.id, d.nodeId, 'a view does not list its own node');
      assert.equal(`${v.host}:${v.port}`, daemons[ids.indexOf(v.id)].listen);
    }
  }

  // The dashboard itself: the bundle when it was built, else the JSON 404 that says how.
  const fetchedAt = Date.now();
  const res = await fetch(first.api + '/');
  t.diagnostic(`GET / answered ${res.status} in ${Date.now() - fetchedAt} ms`);
  const built = existsSync(fileURLToPath(new URL('../../web/index.html', import.meta.url)));
  if (built) assert.equal(res.status, 200);
  else {
    assert.equal(res.status, 404);
    assert.match(await res.text(), /npm run build/);
  }
});

test('a daemon killed with SIGKILL becomes unreachable in the crawl; the others stay live', async (t) => {
  const [first, second, victim] = daemons;
  victim.child.kill('SIGKILL');
  await waitExit(victim);
  const killedAt = Date.now();
  let last: OverlayReport | undefined;
  await waitFor(
    'the killed daemon shown unreachable',
    40_000,
    async () => {
      last = await getJson<OverlayReport>(first.api, '/v1/overlay');
      const state = (id: string) => last?.nodes.find((n) => n.id === id)?.state;
      return state(victim.nodeId) === 'unreachable' ? last : undefined;
    },
    () => describe(last),
  );
  t.diagnostic(`unreachable ${Date.now() - killedAt} ms after the kill`);
  const nodes = new Map(last!.nodes.map((n) => [n.id, n]));
  assert.equal(nodes.get(victim.nodeId)?.snapshot?.id, victim.nodeId, 'its last snapshot is kept');
  assert.equal(nodes.get(second.nodeId)?.state, 'live');
  assert.equal(nodes.get(first.nodeId)?.state, 'live');
  assert.ok(alive(first) && alive(second));
});
