/**
 * The dashboard end to end, in headless Chromium (Debian's package, driven by playwright-core)
 * against a real local cloud of daemon processes: the page loads from a daemon, shows every node,
 * shows a slice created with the CLI, creates and deletes a slice itself with a key signed in the
 * browser (so the browser's signatures are checked by real nodes), and follows nodes being killed.
 * Screenshots go to $PEERCLOUD_ARTIFACTS (default dist/test-artifacts/dashboard).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { readState } from '../../src/cli/cluster/cluster-state.js';
import { clusterUp, killLeftovers } from '../cli/cluster-helpers.js';
import { runCli } from '../cli/node-helpers.js';
import { chromiumSkipReason, launchChromium } from './chromium.js';

const N = 7;
const skip = chromiumSkipReason();
const ARTIFACTS = resolve(process.env.PEERCLOUD_ARTIFACTS ?? fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url)));
const root = mkdtempSync(join(tmpdir(), 'pc-dash-e2e-'));
const userDir = join(root, 'users');
let browser: Browser | undefined;
let page: Page;
let apis: string[] = [];

before(async () => {
  if (skip) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  const { result } = await clusterUp(join(root, 'cloud'), N, ['--cycle-period-ms', '400', '--epoch-length', '10', '--daemon-arg=--slice-lease-ms=4000']);
  assert.equal(result.code, 0, result.stderr);
  apis = readState(join(root, 'cloud'))!.nodes.map((n) => n.api);
  const created = await runCli(['user', 'create', 'ann', '--user-dir', userDir]);
  assert.equal(created.code, 0, created.stderr);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('dialog', (d) => void d.accept());
});

after(async () => {
  await browser?.close();
  await killLeftovers(join(root, 'cloud'));
  rmSync(root, { recursive: true, force: true });
});

/** A row of the slices table (the nodes table mentions slice names too). */
const sliceRow = (name: string) => page.getByRole('table', { name: /^Slices \(/ }).getByRole('row').filter({ hasText: name });
const text = (testId: string) => page.getByTestId(testId).locator('.card-value').innerText();

/** Polls a summary card until its value satisfies `ok` (the page updates every 2 s). */
async function waitForCard(testId: string, ok: (value: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let value = '';
  while (Date.now() < deadline) {
    value = await text(testId);
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${testId} is still ${JSON.stringify(value)} after ${timeoutMs} ms`);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

test('the page loads from a daemon and shows every node of the cloud', { skip }, async () => {
  await page.goto(`${apis[0]}/`);
  await page.getByRole('heading', { name: 'peercloud' }).waitFor();
  await waitForCard('summary-nodes-live', (v) => v === String(N));
  const graph = page.getByRole('img', { name: /^Overlay graph:/ });
  assert.match((await graph.getAttribute('aria-label')) ?? '', new RegExp(`^Overlay graph: ${N} nodes, 0 unreachable`));
  await page.getByRole('table', { name: /^Nodes \(/ }).getByText('node-7', { exact: true }).waitFor();
  assert.equal(await text('summary-nodes-down'), '0');
  await shot('1-cloud');
});

test('a slice created with the CLI appears with its ring', { skip }, async () => {
  const r = await runCli(['slice', 'create', 'cli-web', '--nodes', '3', '--api', apis[0], '--user', 'ann', '--user-dir', userDir, '--json'], {}, 60_000);
  assert.equal(r.code, 0, r.stderr);
  const row = sliceRow('cli-web');
  await row.getByText('3/3 right, whole').waitFor({ timeout: 60_000 });
  await row.getByText('3 / 3').waitFor({ timeout: 10_000 }); // members / target, once /v1/slices was read
  await page.getByRole('list', { name: 'Slices' }).getByText('cli-web').waitFor();
  await shot('2-cli-slice');
});

test('signed in with the key file, the browser creates and deletes a slice', { skip }, async () => {
  await page.getByLabel(/Sign in with your user key/).setInputFiles(join(userDir, 'ann.key'));
  await page.getByText('Signed in as').waitFor();
  const form = page.getByRole('form', { name: 'Create a slice' });
  await form.getByLabel('Name').fill('ui-db');
  await form.getByLabel('Number of nodes').fill('2');
  await form.getByRole('button', { name: 'Create slice' }).click();
  const row = sliceRow('ui-db');
  await row.getByText('2/2 right, whole').waitFor({ timeout: 60_000 });
  await shot('3-ui-slice');

  // A bad query is refused with the node's message, and nothing is created.
  await form.getByLabel('Name').fill('bad');
  await form.getByLabel('Where').fill('flux>=3');
  await form.getByRole('button', { name: 'Create slice' }).click();
  await form.getByRole('alert').getByText(/flux/).waitFor();
  await form.getByLabel('Where').fill('');

  await row.getByRole('button', { name: 'Delete' }).click();
  await sliceRow('ui-db').waitFor({ state: 'detached', timeout: 30_000 });
});

test('killed nodes turn unreachable and the slice ring repairs', { skip }, async () => {
  const state = readState(join(root, 'cloud'))!;
  const overlay = (await (await fetch(`${apis[0]}/v1/overlay`)).json()) as { nodes: { id: string; snapshot: { slice: { name: string } | null } | null }[] };
  const members = new Set(overlay.nodes.filter((n) => n.snapshot?.slice?.name === 'cli-web').map((n) => n.id));
  // One member of the slice and one other node; never node-1, which serves the page and coordinates.
  const victims = [state.nodes.slice(1).find((n) => members.has(n.nodeId))!, state.nodes.slice(1).find((n) => !members.has(n.nodeId))!];
  for (const v of victims) process.kill(v.pid!, 'SIGKILL');
  await waitForCard('summary-nodes-down', (v) => Number(v) >= 2);
  await shot('4-killed');
  const row = sliceRow('cli-web');
  await row.getByText('2/2 right, whole').waitFor({ timeout: 60_000 });
  const graph = page.getByRole('img', { name: /^Overlay graph:/ });
  assert.match((await graph.getAttribute('aria-label')) ?? '', /[1-9]\d* unreachable|^Overlay graph: 5 nodes/);
  await shot('5-repaired');
});
