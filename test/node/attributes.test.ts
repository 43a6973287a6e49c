import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { AttributeMonitor, type AttributeMonitorOptions, type NodeAttributes } from '../../src/node/attributes.js';
import { FakeSystem, ManualTimers } from './attributes-fakes.js';

const T0 = 1_700_000_040_000; // a whole minute, so availability slots line up with the numbers below
let root: string;
let n = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'peercloud-attributes-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Rig {
  clock: ManualClock;
  timers: ManualTimers;
  system: FakeSystem;
  errors: string[];
  monitor: AttributeMonitor;
  advance(ms: number): Promise<void>;
}

async function rig(options: Partial<AttributeMonitorOptions> = {}): Promise<Rig> {
  const dataDir = await mkdtemp(join(root, `node${n++}-`));
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const system = new FakeSystem();
  const errors: string[] = [];
  const monitor = await AttributeMonitor.start({
    dataDir,
    clock,
    timers,
    system,
    cpuScore: 1234,
    labels: { zone: 'lab2' },
    onError: (message) => errors.push(message),
    ...options,
  });
  return { clock, timers, system, errors, monitor, advance: (ms) => timers.advance(ms, () => monitor.settled()) };
}

describe('AttributeMonitor', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });

  it('reads every attribute at start', async () => {
    const a = r.monitor.current();
    assert.deepEqual(a, {
      cores: 4,
      cpuScore: 1234,
      memoryTotalBytes: 16 * 2 ** 30,
      memoryFreeBytes: 8 * 2 ** 30,
      diskTotalBytes: 500 * 2 ** 30,
      diskFreeBytes: 100 * 2 ** 30,
      loadAverage: 1.5,
      freeCores: 2.5,
      uptimeMs: 0,
      availability: { day: 1, week: 1, trackedMs: 60_000 },
      labels: { zone: 'lab2' },
      measuredAt: T0,
    } satisfies NodeAttributes);
    assert.equal(r.system.diskReads.length, 1);
    assert.match(r.system.diskReads[0], /node\d+-/, 'free disk is read where the data directory is');
    await r.monitor.close();
  });

  it('refreshes on its interval and tells listeners', async () => {
    const seen: NodeAttributes[] = [];
    r.monitor.onUpdate((a) => seen.push(a));
    r.system.free = 4 * 2 ** 30;
    r.system.load = 3;
    r.system.disk = { freeBytes: 50, totalBytes: 100 };
    await r.advance(9_999);
    assert.equal(seen.length, 0, 'nothing before the interval');
    await r.advance(1);
    assert.equal(seen.length, 1);
    const a = r.monitor.current();
    assert.equal(a.memoryFreeBytes, 4 * 2 ** 30);
    assert.equal(a.loadAverage, 3);
    assert.equal(a.freeCores, 1);
    assert.deepEqual([a.diskFreeBytes, a.diskTotalBytes], [50, 100]);
    assert.equal(a.uptimeMs, 10_000);
    assert.equal(a.measuredAt, T0 + 10_000);
    await r.advance(25_000);
    assert.equal(seen.length, 3, 'one refresh per 10 s');
    assert.equal(r.system.diskReads.length, 4);
    await r.monitor.close();
  });

  it('clamps free cores at 0 and ignores a load the OS cannot give', async () => {
    r.system.load = 9;
    assert.equal((await r.monitor.refresh()).freeCores, 0);
    r.system.load = Number.NaN;
    const a = await r.monitor.refresh();
    assert.equal(a.loadAverage, 0);
    assert.equal(a.freeCores, 4);
    await r.monitor.close();
  });

  it('keeps the last disk values when the disk cannot be read, and recovers', async () => {
    r.system.diskError = Object.assign(new Error('ENOENT: gone'), { code: 'ENOENT' });
    r.system.free = 1;
    await r.advance(10_000);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0], /could not read free disk space/);
    const a = r.monitor.current();
    assert.equal(a.diskFreeBytes, 100 * 2 ** 30, 'previous disk value kept');
    assert.equal(a.memoryFreeBytes, 1, 'the rest is refreshed');
    r.system.diskError = undefined;
    r.system.disk = { freeBytes: 7, totalBytes: 8 };
    await r.advance(10_000);
    assert.equal(r.monitor.current().diskFreeBytes, 7);
    assert.ok(r.timers.pending >= 2, 'timers still armed');
    await r.monitor.close();
  });

  it('a throwing listener is reported and does not stop the others', async () => {
    let calls = 0;
    r.monitor.onUpdate(() => {
      throw new Error('listener bug');
    });
    const off = r.monitor.onUpdate(() => calls++);
    await r.advance(10_000);
    assert.equal(calls, 1);
    assert.ok(r.errors.some((e) => /listener threw/.test(e)));
    off();
    await r.advance(10_000);
    assert.equal(calls, 1, 'unsubscribed');
    await r.monitor.close();
  });

  it('records availability with heartbeats, and a stop and restart as downtime', async () => {
    await r.advance(10 * 60_000);
    let a = r.monitor.current();
    assert.equal(a.availability.day, 1);
    assert.equal(a.availability.trackedMs, 11 * 60_000, 'slots T0 .. T0+10 min');
    await r.monitor.close();
    // Ten minutes later the node comes back with the same data directory.
    const dataDir = r.system.diskReads[0];
    const clock = new ManualClock(r.clock.now() + 10 * 60_000);
    const again = await AttributeMonitor.start({ dataDir, clock, timers: new ManualTimers(clock), system: new FakeSystem(), cpuScore: 1 });
    a = again.current();
    assert.equal(a.availability.trackedMs, 21 * 60_000);
    assert.equal(a.availability.day, 12 / 21, '11 minutes up before, the current one now; 9 down');
    assert.equal(a.uptimeMs, 0, 'uptime is per run');
    await again.close();
  });

  it('close stops the timers, is idempotent, and later ticks do nothing', async () => {
    assert.equal(r.timers.pending, 2, 'refresh and heartbeat');
    await r.monitor.close();
    await r.monitor.close();
    assert.equal(r.timers.pending, 0);
    const reads = r.system.diskReads.length;
    await r.advance(120_000);
    assert.equal(r.system.diskReads.length, reads);
  });

  it('measures the CPU score when none is given', async () => {
    let t = 0;
    const m = await rig({ cpuScore: { rounds: 3, now: () => (t += 6.1), workload: () => 7 } });
    assert.equal(m.monitor.current().cpuScore, 2000, 'reference round time / 6.1 ms × 1000');
    await m.monitor.close();
  });

  it('rejects a nonsensical interval', async () => {
    await assert.rejects(rig({ refreshIntervalMs: 0 }), /refreshIntervalMs must be a positive number/);
  });
});
