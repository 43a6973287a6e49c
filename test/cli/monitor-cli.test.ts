/**
 * `peercloud monitor-instances` and `unmonitor-instances`, run from bin/ as child processes against
 * a fastify server in this process that serves the monitor routes over a fake source, and once
 * against a real daemon. Background monitors live in a temp state directory; `after` kills any
 * that a failed test left (only pids whose command line carries their recorded token).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { sendError, toErrorResponse } from '../../src/api/errors.js';
import { type MonitorRouteOptions, type MonitorStreams, registerMonitorRoutes } from '../../src/api/monitor-routes.js';
import { type MonitorRecord, isOurMonitor } from '../../src/cli/commands/monitor.js';
import { silentLogger } from '../../src/node/logger.js';
import { FakeSource, MEMBERSHIP, NODE_ID } from '../api/fake-source.js';
import { BIN, type Daemon, killAll, runCli, startDaemon } from './node-helpers.js';


interface Api {
  app: FastifyInstance;
  url: string;
  source: FakeSource;
  monitor: MonitorStreams;
}

const apis: Api[] = [];

async function startApi(routes: MonitorRouteOptions = {}): Promise<Api> {
  const log = silentLogger();
  const app = Fastify({ return503OnClosing: true, ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } } });
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorResponse(err, req, log);
    return sendError(reply, status, body);
  });
  const source = new FakeSource();
  const monitor = registerMonitorRoutes(app, { status: source, membership: () => MEMBERSHIP }, routes);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const api = { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, source, monitor };
  apis.push(api);
  return api;
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A foreground monitor: its stdout lines as they come, and its exit. */
interface Running {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitLines(n: number, timeoutMs?: number): Promise<string[]>;
}

const children = new Set<ChildProcess>();

function runMonitor(args: string[]): Running {
  const child = spawn(process.execPath, [BIN, 'monitor-instances', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: string[] = [];
  let buffer = '';
  let stderr = '';
  let wake = () => undefined as void;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
    wake();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      wake();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    lines,
    stderr: () => stderr,
    exit,
    async waitLines(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (lines.length < n) {
        if (child.exitCode !== null || child.signalCode !== null) assert.fail(`the monitor exited (${child.exitCode ?? child.signalCode}) after ${lines.length} lines; stderr: ${stderr}`);
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${n} lines, got ${lines.length}; stderr: ${stderr}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 200);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return lines.slice(0, n);
    },
  };
}

async function eventually(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const root = mkdtempSync(join(tmpdir(), 'peercloud-monitor-cli-'));
let stateDirs = 0;
const newStateDir = () => join(root, `state${stateDirs++}`);

function recorded(stateDir: string): MonitorRecord[] {
  const path = join(stateDir, 'monitors.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { monitors: MonitorRecord[] }).monitors : [];
}

/** Every background monitor recorded by this test file, for the cleanup. */
const backgroundMonitors: MonitorRecord[] = [];

async function detach(args: string[]): Promise<MonitorRecord> {
  const stateDir = args[args.indexOf('--state-dir') + 1];
  const before = new Set(recorded(stateDir).map((m) => m.id));
  const r = await runCli(['monitor-instances', '--detach', ...args]);
  const added = recorded(stateDir).filter((m) => !before.has(m.id));
  backgroundMonitors.push(...added);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(added.length, 1);
  return added[0];
}

/** Whether the process still runs (a zombie waiting for its reaper does not count). */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const m of backgroundMonitors) if (isOurMonitor(m)) process.kill(m.pid, 'SIGKILL');
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

describe('peercloud monitor-instances', () => {
  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const a of apis.splice(0)) await a.app.close();
  });

  it('prints a line per tick and exits 0 on SIGINT, closing its stream', async () => {
    const api = await startApi();
    const m = runMonitor(['--api', api.url, '--interval', '200']);
    const lines = await m.waitLines(2);
    for (const line of lines) {
      assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}network: ~19\.60 nodes, 29\.40 free cores, 392 GiB free memory, 784 GiB free disk, load 0\.5000 \| /);
      assert.match(line, /node node3: view 5\/30, 1\.50 of 2 cores free, load 0\.5000, capacity slice 4 of 10; member of web \(1 members known\)$/);
    }
    assert.equal(api.monitor.open, 1);
    m.child.kill('SIGINT');
    assert.deepEqual(await m.exit, { code: 0, signal: null });
    assert.equal(m.stderr(), '');
    await eventually('the server to see the stream close', () => api.monitor.open === 0);
  });

  it('--json prints one JSON object per event (NDJSON) and exits 0 on SIGTERM', async () => {
    const api = await startApi();
    const m = runMonitor(['--api', api.url, '--interval', '200', '--json']);
    const lines = await m.waitLines(6);
    const events = lines.map((l) => JSON.parse(l) as { event: string; id: number; data: unknown });
    assert.deepEqual(events.map((e) => [e.event, e.id]), [['network', 0], ['membership', 0], ['node', 0], ['network', 1], ['membership', 1], ['node', 1]]);
    assert.deepEqual(events[0].data, api.source.aggregates);
    assert.deepEqual(events[1].data, MEMBERSHIP);
    assert.equal((events[2].data as { id: string }).id, NODE_ID);
    m.child.kill('SIGTERM');
    assert.deepEqual(await m.exit, { code: 0, signal: null });
  });

  it('fails clearly: unreachable API (naming the URL), refused stream, bad interval, a node that stops', async () => {
    const port = await closedPort();
    const unreachable = await runCli(['monitor-instances', '--api', `http://127.0.0.1:${port}`]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, new RegExp(`cannot reach the peercloud API at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));

    const full = await startApi({ maxStreams: 0 });
    const refused = await runCli(['monitor-instances', '--api', full.url]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /answered 503: too many monitor streams open/);

    const bad = await runCli(['monitor-instances', '--api', full.url, '--interval', '50']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--interval must be between 200 and 60000, got 50/);
    const logWithoutDetach = await runCli(['monitor-instances', '--api', full.url, '--log', join(root, 'x.log')]);
    assert.equal(logWithoutDetach.code, 2);
    assert.match(logWithoutDetach.stderr, /--log only applies with --detach/);

    const api = await startApi();
    const m = runMonitor(['--api', api.url, '--interval', '200']);
    await m.waitLines(1);
    await api.app.close();
    assert.deepEqual(await m.exit, { code: 1, signal: null });
    assert.match(m.stderr(), new RegExp(`the node at ${api.url} ended the monitoring stream`));
  });

  it('--detach starts a background monitor; unmonitor-instances stops it and leaves nothing running', async () => {
    const api = await startApi();
    const stateDir = newStateDir();
    const r = await runCli(['monitor-instances', '--detach', '--api', api.url, '--interval', '200', '--state-dir', stateDir]);
    assert.equal(r.code, 0, r.stderr);
    const [record] = recorded(stateDir);
    assert.ok(record, 'recorded in monitors.json');
    backgroundMonitors.push(record);
    assert.match(r.stdout, new RegExp(`^monitor ${record.id} started in the background: ${api.url} every 200 ms, logging to ${record.log}\\n`));
    assert.equal(record.log, join(stateDir, 'monitors', `${record.id}.log`));
    assert.ok(isOurMonitor(record));
    assert.ok(running(record.pid));
    // It monitors: the node sees its stream, and its log fills with ticks.
    await eventually('the background monitor to connect', () => api.monitor.open === 1);
    await eventually('ticks in its log', () => existsSync(record.log) && readFileSync(record.log, 'utf8').split('\n').filter((l) => l.includes('network: ~19.60 nodes')).length >= 2);

    const stop = await runCli(['unmonitor-instances', String(record.id), '--state-dir', stateDir]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, `stopped monitor ${record.id} (log: ${record.log})\n`);
    assert.ok(!isOurMonitor(record));
    await eventually('the process to be gone', () => !running(record.pid));
    assert.deepEqual(recorded(stateDir), []);
    await eventually('its stream to close on the node', () => api.monitor.open === 0);
    assert.match(readFileSync(record.log, 'utf8'), new RegExp(`monitor ${record.id} stopped\\n$`), 'it stopped cleanly on SIGTERM');
  });

  it('unmonitor-instances: unknown id, --all (with --json and --log monitors), and monitors that already exited', async () => {
    const api = await startApi();
    const stateDir = newStateDir();
    const unknown = await runCli(['unmonitor-instances', '12345', '--state-dir', stateDir]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown monitor id "12345": no background monitor with that id in .*monitors\.json \(none are recorded\)/);
    const neither = await runCli(['unmonitor-instances', '--state-dir', stateDir]);
    assert.equal(neither.code, 2);

    const customLog = join(root, 'custom.log');
    const a = await detach(['--api', api.url, '--interval', '200', '--json', '--log', customLog, '--state-dir', stateDir]);
    const b = await detach(['--api', api.url, '--interval', '200', '--state-dir', stateDir]);
    assert.equal(a.log, customLog);
    assert.deepEqual(recorded(stateDir).map((m) => m.id).sort(), [a.id, b.id].sort());
    await eventually('NDJSON in the custom log', () => existsSync(customLog) && readFileSync(customLog, 'utf8').includes('"event":"node"'));
    const ndjson = readFileSync(customLog, 'utf8').split('\n').filter((l) => l.startsWith('{'));
    for (const line of ndjson) assert.ok(['network', 'membership', 'node'].includes((JSON.parse(line) as { event: string }).event));
    await eventually('both monitors to connect', () => api.monitor.open === 2);

    const wrong = await runCli(['unmonitor-instances', '12345', '--state-dir', stateDir]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, new RegExp(`\\(known: ${a.id}, ${b.id}\\)`));

    // One exits by itself (its node stops answering... here: killed): --all still stops the other and forgets both.
    process.kill(b.pid, 'SIGKILL');
    await eventually('b to be gone', () => !running(b.pid));
    const all = await runCli(['unmonitor-instances', '--all', '--json', '--state-dir', stateDir]);
    assert.equal(all.code, 0, all.stderr);
    const result = JSON.parse(all.stdout) as { monitors: { id: number; stopped: boolean }[] };
    assert.deepEqual(result.monitors.map((m) => [m.id, m.stopped]), [[a.id, true], [b.id, false]]);
    await eventually('a to be gone', () => !running(a.pid));
    assert.deepEqual(recorded(stateDir), []);
    await eventually('no stream left on the node', () => api.monitor.open === 0);
    const none = await runCli(['unmonitor-instances', '--all', '--state-dir', stateDir]);
    assert.equal(none.stdout, 'no background monitors\n');
  });

  it('--detach with an unreachable API fails at once and records nothing', async () => {
    const stateDir = newStateDir();
    const port = await closedPort();
    const r = await runCli(['monitor-instances', '--detach', '--api', `http://127.0.0.1:${port}`, '--state-dir', stateDir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`cannot reach the peercloud API at http://127\\.0\\.0\\.1:${port}`));
    assert.deepEqual(recorded(stateDir), []);
  });
});

describe('peercloud monitor-instances against a real daemon', () => {
  let daemon: Daemon;
  before(async () => {
    const dataDir = join(root, 'daemon');
    const init = await runCli(['init', '--data-dir', dataDir]);
    assert.equal(init.code, 0, init.stderr);
    daemon = await startDaemon(dataDir, ['--cycle-period-ms', '200']);
  });
  it('streams the daemon\'s network, membership and node events', async () => {
    const m = runMonitor(['--api', daemon.api, '--interval', '200', '--json']);
    const events = (await m.waitLines(6)).map((l) => JSON.parse(l) as { event: string; data: Record<string, unknown> });
    assert.deepEqual(events.slice(0, 3).map((e) => e.event), ['network', 'membership', 'node']);
    assert.equal(events[2].data.id, daemon.nodeId);
    assert.equal(events[1].data.state, 'free');
    assert.ok('size' in events[0].data && 'epoch' in events[0].data);
    m.child.kill('SIGINT');
    assert.deepEqual(await m.exit, { code: 0, signal: null });
  });
});
