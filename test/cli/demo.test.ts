/**
 * `peercloud demo`, the README's first command, as CI runs it: the short mode must go through the
 * whole story (cloud up, two slices, a third of the nodes killed, rings repaired) and exit 0 with
 * nothing left running; the interactive mode must stop everything on Ctrl-C (SIGINT).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { randomBasePort } from '../../src/cli/cluster/cluster-ops.js';
import { BIN } from './node-helpers.js';
import { killLeftovers } from './cluster-helpers.js';

const roots: string[] = [];
after(async () => {
  for (const r of roots) {
    await killLeftovers(r);
    rmSync(r, { recursive: true, force: true });
  }
});

/** Processes whose command line mentions `text` (our daemons carry their data dir in it). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function runDemo(args: string[], onLine?: (line: string, child: ReturnType<typeof spawn>) => void) {
  const child = spawn(process.execPath, [BIN, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const take = (d: Buffer) => {
    const text = d.toString();
    output += text;
    for (const line of text.split('\n')) if (line) onLine?.(line, child);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const killer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    }),
  );
}

test('demo --short: cloud, two slices, a third killed, rings repaired, exit 0, nothing left running', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pc-demo-short-'));
  roots.push(root);
  const { code, output } = await runDemo(['--short', '--data-root', join(root, 'cloud'), '--base-port', String(randomBasePort(6))]);
  assert.equal(code, 0, output);
  assert.match(output, /Dashboard: http:\/\/127\.0\.0\.1:\d+\//);
  assert.match(output, /creating slice alpha/);
  assert.match(output, /creating slice beta/);
  assert.match(output, /killed 2 of 6 nodes with SIGKILL/);
  assert.match(output, /rings repaired after/);
  assert.match(output, /nothing is left running/);
  assert.deepEqual(processesMentioning(join(root, 'cloud')), [], 'no daemon of the demo is left');
});

test('demo stops every daemon on Ctrl-C (SIGINT) and exits 130', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pc-demo-int-'));
  roots.push(root);
  let sent = false;
  const { code, output } = await runDemo(['-n', '3', '--cycle-period-ms', '300', '--data-root', join(root, 'cloud'), '--base-port', String(randomBasePort(3))], (line, child) => {
    if (!sent && line.includes('Dashboard: ')) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  assert.ok(sent, output);
  assert.equal(code, 130, output);
  assert.match(output, /interrupted; stopping 3 daemons/);
  assert.deepEqual(processesMentioning(join(root, 'cloud')), [], 'no daemon of the demo is left');
});
