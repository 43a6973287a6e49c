import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { AVAILABILITY_FILE, AvailabilityHistory } from '../../src/node/availability.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = 1_700_000_040_000; // a whole minute
let root: string;
let n = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'peercloud-availability-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  return mkdtemp(join(root, `d${n++}-`));
}

/** Heartbeats every `every` ms for `duration` ms, as the monitor would, then waits for the writes. */
async function runFor(history: AvailabilityHistory, clock: ManualClock, duration: number, every = MIN): Promise<void> {
  for (let t = every; t <= duration; t += every) {
    clock.advance(every);
    await history.heartbeat();
  }
}

describe('AvailabilityHistory', () => {
  it('a new node is fully available over the little time it has been tracked', async () => {
    const clock = new ManualClock(T0);
    const h = await AvailabilityHistory.open(await freshDir(), { clock });
    assert.deepEqual(h.summary(), { day: 1, week: 1, trackedMs: MIN });
    await runFor(h, clock, 30 * MIN);
    assert.deepEqual(h.summary(), { day: 1, week: 1, trackedMs: 31 * MIN });
  });

  it('survives a crash: a new instance reads what the dropped one wrote, and counts the gap as down', async () => {
    const dir = await freshDir();
    const clock = new ManualClock(T0);
    let h: AvailabilityHistory | undefined = await AvailabilityHistory.open(dir, { clock });
    await runFor(h, clock, HOUR);
    await h.flush();
    // kill -9: the object is dropped without any close or final heartbeat.
    h = undefined;
    clock.advance(HOUR);
    const restarted = await AvailabilityHistory.open(dir, { clock });
    const s = restarted.summary();
    assert.equal(s.trackedMs, 121 * MIN);
    assert.equal(s.day, 62 / 121, '61 minutes up, 59 down, the current one up');
    assert.equal(s.week, 62 / 121);
  });

  it('a write interrupted by a crash leaves the previous history intact', async () => {
    const dir = await freshDir();
    const clock = new ManualClock(T0);
    const h = await AvailabilityHistory.open(dir, { clock });
    await runFor(h, clock, 5 * MIN);
    await h.flush();
    // The crash happened while the next save was being written: a torn temporary file remains.
    await writeFile(join(dir, `${AVAILABILITY_FILE}.tmp`), Buffer.from('PCAV\u0001torn'));
    const warnings: string[] = [];
    const restarted = await AvailabilityHistory.open(dir, { clock, onWarning: (w) => warnings.push(w) });
    assert.deepEqual(warnings, []);
    assert.deepEqual(restarted.summary(), { day: 1, week: 1, trackedMs: 6 * MIN });
  });

  it('stays the same small size after weeks of uptime, and forgets what is older than 7 days', async () => {
    const dir = await freshDir();
    const clock = new ManualClock(T0);
    const h = await AvailabilityHistory.open(dir, { clock, maxGapMs: 2 * HOUR });
    const size = h.fileBytes;
    assert.ok(size < 2048, `file is ${size} bytes`);
    // 10 days up, heartbeats hourly (each marks the hour since the previous one).
    await runFor(h, clock, 10 * DAY, HOUR);
    await h.flush();
    assert.equal((await stat(join(dir, AVAILABILITY_FILE))).size, size);
    assert.deepEqual(await readdir(dir), [AVAILABILITY_FILE], 'no temporary files left behind');
    assert.deepEqual(h.summary(), { day: 1, week: 1, trackedMs: 7 * DAY });

    // Down for two days, then back: the last day shows one minute up; the week, 5 days and a minute.
    clock.advance(2 * DAY);
    const back = await AvailabilityHistory.open(dir, { clock });
    const s = back.summary();
    assert.equal(s.trackedMs, 7 * DAY);
    assert.equal(s.day, 1 / 1440);
    assert.equal(s.week, (7 * 1440 - (2 * 1440 - 1)) / (7 * 1440));
    await back.flush();
    assert.equal((await stat(join(dir, AVAILABILITY_FILE))).size, size);

    // Nine more days down: everything in the window is gone except the current minute.
    clock.advance(9 * DAY);
    const later = await AvailabilityHistory.open(dir, { clock });
    assert.equal(later.summary().week, 1 / (7 * 1440));
  });

  it('a long silence within one run (a suspended machine) counts as downtime', async () => {
    const clock = new ManualClock(T0);
    const h = await AvailabilityHistory.open(await freshDir(), { clock });
    clock.advance(HOUR);
    await h.heartbeat();
    const s = h.summary();
    assert.equal(s.trackedMs, 61 * MIN);
    assert.equal(s.day, 2 / 61);
  });

  it('a clock stepping back neither crashes nor marks the future', async () => {
    const clock = new ManualClock(T0);
    const h = await AvailabilityHistory.open(await freshDir(), { clock });
    await runFor(h, clock, 10 * MIN);
    clock.advance(-30 * MIN);
    await h.heartbeat();
    const s = h.summary();
    assert.ok(s.day >= 0 && s.day <= 1 && s.week >= 0 && s.week <= 1, JSON.stringify(s));
    clock.advance(30 * MIN);
    assert.equal(h.summary().trackedMs, 31 * MIN, 'tracking now starts at the earlier time');
    assert.equal(h.summary().day, 12 / 31);
  });

  it('replaces a corrupt or foreign file with a fresh history, and says so', async () => {
    for (const [what, mutate] of [
      ['flipped bit', (b: Buffer) => (b[100] ^= 1)],
      ['truncated', (b: Buffer) => b.subarray(0, 50)],
      ['other file', () => Buffer.from('hello')],
    ] as const) {
      const dir = await freshDir();
      const clock = new ManualClock(T0);
      const h = await AvailabilityHistory.open(dir, { clock });
      await runFor(h, clock, 5 * MIN);
      await h.flush();
      const path = join(dir, AVAILABILITY_FILE);
      const bytes = await readFile(path);
      const changed = mutate(bytes);
      await writeFile(path, typeof changed === 'number' ? bytes : changed);
      const warnings: string[] = [];
      clock.advance(MIN);
      const again = await AvailabilityHistory.open(dir, { clock, onWarning: (w) => warnings.push(w) });
      assert.equal(warnings.length, 1, what);
      assert.match(warnings[0], /starting a new availability history/);
      assert.deepEqual(again.summary(), { day: 1, week: 1, trackedMs: MIN }, what);
    }
  });

  it('a history recorded with another resolution is not misread', async () => {
    const dir = await freshDir();
    const clock = new ManualClock(T0);
    await (await AvailabilityHistory.open(dir, { clock })).flush();
    const warnings: string[] = [];
    await AvailabilityHistory.open(dir, { clock, slotMs: 5 * MIN, onWarning: (w) => warnings.push(w) });
    assert.match(warnings[0] ?? '', /another slot length/);
    await assert.rejects(AvailabilityHistory.open(dir, { clock, slotMs: 7 }), /slotMs must be/);
  });
});
