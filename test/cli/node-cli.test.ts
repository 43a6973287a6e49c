import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { killAll, runCli, startDaemon } from './node-helpers.js';

let root: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'peercloud-cli-'));
});

after(async () => {
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

/** A port nothing listens on: bound then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

test('init prints the node id, refuses to overwrite it, and --force replaces it', async () => {
  const dir = join(root, 'a');
  const first = await runCli(['init', '--data-dir', dir]);
  assert.equal(first.code, 0, first.stderr);
  const id = first.stdout.trim();
  assert.match(id, /^pc[a-z2-7]{32}$/);
  const again = await runCli(['init', '--data-dir', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists; use --force/);
  const forced = await runCli(['init', '--data-dir', dir, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.notEqual(forced.stdout.trim(), id);
});

test('node start without an identity says to run peercloud init', async () => {
  const dir = join(root, 'empty');
  const r = await runCli(['node', 'start', '--data-dir', dir, '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no node identity in .*run `peercloud init --data-dir/);
});

test('node start with a bad setting names it and exits 2', async () => {
  const r = await runCli(['node', 'start', '--data-dir', join(root, 'a'), '--cycle-period-ms', 'fast']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cyclePeriodMs \(from flag --cycle-period-ms\)/);
});

test('status, peers and network fail clearly when no daemon answers', async () => {
  const port = await closedPort();
  for (const command of ['status', 'peers', 'network']) {
    const r = await runCli([command, '--api', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 1, command);
    assert.match(r.stderr, /cannot reach the peercloud API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); is the node running\?/);
  }
});

test('help of the daemon commands documents their flags', async () => {
  const start = await runCli(['node', 'start', '--help']);
  assert.equal(start.code, 0);
  for (const flag of ['--data-dir', '--listen', '--api', '--join', '--name', '--label', '--config', '--cycle-period-ms']) assert.ok(start.stdout.includes(flag), flag);
  for (const command of ['status', 'peers', 'network']) {
    const r = await runCli([command, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--api <url>/);
    assert.match(r.stdout, /--json/);
  }
});

test('status, peers and network against a running daemon: tables by default, JSON with --json', async () => {
  const dir = join(root, 'live');
  assert.equal((await runCli(['init', '--data-dir', dir])).code, 0);
  const d = await startDaemon(dir, ['--name', 'cli-node', '--label', 'zone=lab2', '--label', 'owner=ann']);
  const status = await runCli(['status', '--api', d.api]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`id\\s+${d.nodeId}`));
  assert.match(status.stdout, /name\s+cli-node/);
  assert.match(status.stdout, /labels\s+.*zone=lab2/);
  const peers = await runCli(['peers', '--api', d.api]);
  assert.equal(peers.code, 0, peers.stderr);
  assert.match(peers.stdout, /0 peers in the newscast view/);
  const network = await runCli(['network', '--api', d.api, '--json']);
  assert.equal(network.code, 0, network.stderr);
  const body = JSON.parse(network.stdout) as { epoch: { lengthCycles: number } };
  assert.equal(body.epoch.lengthCycles, 30);
  const table = await runCli(['network', '--api', d.api]);
  assert.match(table.stdout, /nodes \(estimate\)/);
});

test('an unreachable join address is retried and logged, and the daemon keeps running', async () => {
  const dir = join(root, 'lonely');
  assert.equal((await runCli(['init', '--data-dir', dir])).code, 0);
  const port = await closedPort();
  const d = await startDaemon(dir, ['--join', `127.0.0.1:${port}`, '--join-retry-interval-ms', '200', '--log-level', 'info']);
  const deadline = Date.now() + 10_000;
  while (d.lines.filter((l) => l.msg === 'no join target answered; retrying').length < 2) {
    assert.ok(Date.now() < deadline, 'no retry logged');
    await new Promise((r) => setTimeout(r, 100));
  }
  const health = await fetch(new URL('/health/ready', d.api));
  assert.equal(health.status, 503);
  const body = (await health.json()) as { checks: { name: string; ok: boolean }[] };
  assert.deepEqual(body.checks.find((c) => c.name === 'view')?.ok, false);
  assert.equal(d.child.exitCode, null);
});
