/**
 * `npm run bench -- dashboard` keeps working: a tiny run in headless Chromium, checking the
 * report's shape and that every phase completed (no timing thresholds: numbers are the
 * benchmark's business).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromiumSkipReason } from './chromium.js';

const runJs = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

function bench(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runJs, 'dashboard', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

test('bench dashboard rejects bad options with its usage line', async () => {
  const r = await bench('--sizes', '1');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--sizes must be an integer in 2\.\.50000, got "1"/);
  const unknown = await bench('--fast');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown option '--fast'[\s\S]*usage: dashboard \[--sizes 100,1000,5000\]/);
});

test('bench dashboard measures a small overlay end to end', { skip: chromiumSkipReason() }, async () => {
  const r = await bench('--sizes', '40', '--view', '5', '--slices', '2', '--slice-size', '6', '--timeout', '60', '--json');
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { benchmark: string; load: { cores: number }; rows: Record<string, unknown>[] };
  assert.equal(doc.benchmark, 'dashboard');
  assert.ok(doc.load.cores >= 1);
  assert.equal(doc.rows.length, 1);
  const row = doc.rows[0] as { nodes: number; ringLinks: number; viewLinks: number; settleS: number | null; allLinksS: number | null; framesDrawn: number; firstDrawMs: number; update: { settleS: number | null } };
  assert.equal(row.nodes, 40);
  assert.equal(row.ringLinks, 12);
  assert.ok(row.viewLinks > 40);
  assert.ok(row.framesDrawn > 0 && row.firstDrawMs > 0);
  assert.ok(row.settleS !== null && row.allLinksS !== null, 'settled with every link drawn before the timeout');
  assert.ok(row.update.settleS !== null, 'the update settled too');
});
