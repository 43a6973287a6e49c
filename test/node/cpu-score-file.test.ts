import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { AttributeMonitor } from '../../src/node/attributes.js';
import { type CpuScore, WORKLOAD_CHECKSUM } from '../../src/node/cpu-score.js';
import {
  CPU_SCORE_FILE,
  type MachineFingerprint,
  cpuScorePath,
  measureAndStoreCpuScore,
  measureCpuScoreInChild,
  readCpuScore,
  storedOrMeasuredCpuScore,
  thisMachine,
  writeCpuScore,
} from '../../src/node/cpu-score-file.js';
import { FakeSystem, ManualTimers } from './attributes-fakes.js';

const MACHINE: MachineFingerprint = { cpuModel: 'Test CPU @ 3.00GHz', cores: 8, nodeMajor: 20 };

let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'peercloud-cpu-score-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
const freshDir = () => mkdtemp(join(root, `d${n++}-`));

/** A measurement that records it was called and returns `score`. */
function fakeMeasure(score: number): { calls: number; measure: () => Promise<CpuScore> } {
  const m = {
    calls: 0,
    measure: async (): Promise<CpuScore> => {
      m.calls++;
      return { score, bestRoundMs: 1, rounds: 3, elapsedMs: 3, checksum: WORKLOAD_CHECKSUM };
    },
  };
  return m;
}

describe('stored CPU score', () => {
  it('writes the score with when, where and on which Node it was measured, atomically', async () => {
    const dir = await freshDir();
    assert.deepEqual(await readCpuScore(dir, MACHINE), { kind: 'missing' });
    const at = new Date('2026-01-02T03:04:05.000Z');
    await writeCpuScore(dir, 987, MACHINE, at);
    const read = await readCpuScore(dir, MACHINE);
    assert.deepEqual(read, {
      kind: 'ok',
      stored: { version: 1, score: 987, measuredAt: at.toISOString(), nodeVersion: process.version, ...MACHINE },
    });
    assert.deepEqual(await readdir(dir), [CPU_SCORE_FILE], 'no temporary file left behind');
  });

  it('the daemon uses a stored score of this machine without measuring', async () => {
    const dir = await freshDir();
    await writeCpuScore(dir, 1111, MACHINE);
    const m = fakeMeasure(5);
    const warnings: string[] = [];
    const r = await storedOrMeasuredCpuScore(dir, { machine: MACHINE, measure: m.measure, onWarning: (w) => warnings.push(w) });
    assert.deepEqual(r, { score: 1111, source: 'stored' });
    assert.equal(m.calls, 0);
    assert.deepEqual(warnings, []);
  });

  it('a score of another CPU, core count or Node major is measured again and replaced', async () => {
    for (const other of [
      { ...MACHINE, cpuModel: 'Another CPU' },
      { ...MACHINE, cores: 2 },
      { ...MACHINE, nodeMajor: 22 },
    ]) {
      const dir = await freshDir();
      await writeCpuScore(dir, 1111, other);
      const mismatch = await readCpuScore(dir, MACHINE);
      assert.equal(mismatch.kind, 'mismatch');
      const m = fakeMeasure(777);
      const warnings: string[] = [];
      const r = await storedOrMeasuredCpuScore(dir, { machine: MACHINE, measure: m.measure, onWarning: (w) => warnings.push(w) });
      assert.deepEqual(r, { score: 777, source: 'measured' });
      assert.equal(m.calls, 1);
      assert.deepEqual(warnings, [], 'another machine is not a problem, just a reason to measure');
      const now = await readCpuScore(dir, MACHINE);
      assert.equal(now.kind === 'ok' && now.stored.score, 777, 'stored for the next start');
    }
  });

  it('a corrupt file is reported, measured again and replaced', async () => {
    const cases: [string, RegExp][] = [
      ['{"score": 12', /not JSON/],
      ['[1, 2]', /not a JSON object/],
      [JSON.stringify({ version: 1, score: -3, cpuModel: 'x', cores: 1, nodeMajor: 20, measuredAt: '', nodeVersion: '' }), /score must be a positive number/],
      [JSON.stringify({ version: 99, score: 3 }), /unknown version 99/],
      [JSON.stringify({ version: 1, score: 3, cpuModel: 'x', cores: 0, nodeMajor: 20, measuredAt: '', nodeVersion: '' }), /cores must be a positive integer/],
    ];
    for (const [contents, reason] of cases) {
      const dir = await freshDir();
      await writeFile(cpuScorePath(dir), contents);
      const m = fakeMeasure(555);
      const warnings: string[] = [];
      const r = await storedOrMeasuredCpuScore(dir, { machine: MACHINE, measure: m.measure, onWarning: (w) => warnings.push(w) });
      assert.deepEqual(r, { score: 555, source: 'measured' }, contents);
      assert.equal(warnings.length, 1, contents);
      assert.match(warnings[0], reason);
      assert.match(warnings[0], /cpu-score\.json.*measuring the CPU score again/);
      const now = await readCpuScore(dir, MACHINE);
      assert.equal(now.kind === 'ok' && now.stored.score, 555);
    }
  });

  it('if the child measurement fails, measures in this process and does not store that score', async () => {
    const dir = await freshDir();
    const warnings: string[] = [];
    const r = await storedOrMeasuredCpuScore(dir, {
      machine: MACHINE,
      measure: () => Promise.reject(new Error('no node binary')),
      onWarning: (w) => warnings.push(w),
    });
    assert.equal(r.source, 'measured');
    assert.ok(r.score > 0);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /could not measure the CPU score in a child process/);
    assert.deepEqual(await readCpuScore(dir, MACHINE), { kind: 'missing' });
  });

  it('a write failure is a warning: the measured score is still used', async () => {
    const dir = await freshDir();
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x'); // a file where the data dir should be: mkdir and the write fail
    const warnings: string[] = [];
    const r = await storedOrMeasuredCpuScore(blocker, { machine: MACHINE, measure: fakeMeasure(444).measure, onWarning: (w) => warnings.push(w) });
    assert.deepEqual(r, { score: 444, source: 'measured' });
    // Reading it failed too (ENOTDIR), which is reported first.
    assert.match(warnings.at(-1) ?? '', /could not store the CPU score/);
  });

  it('measures the real workload in a child node and stores it for this machine', async () => {
    const child = await measureCpuScoreInChild();
    assert.equal(child.checksum, WORKLOAD_CHECKSUM);
    assert.ok(child.score > 0 && child.rounds >= 3);

    const dir = await freshDir();
    const stored = await measureAndStoreCpuScore(dir, () => ({ score: 321, bestRoundMs: 1, rounds: 3, elapsedMs: 3, checksum: WORKLOAD_CHECKSUM }));
    assert.equal(stored.score, 321);
    assert.deepEqual(JSON.parse(await readFile(cpuScorePath(dir), 'utf8')), stored);
    const read = await readCpuScore(dir);
    assert.equal(read.kind, 'ok', 'thisMachine() matches what was stored on it');
  });

  it('AttributeMonitor reports the stored score when not given one', async () => {
    const dir = await freshDir();
    await writeCpuScore(dir, 4321, thisMachine());
    const clock = new ManualClock(1_700_000_040_000);
    const monitor = await AttributeMonitor.start({ dataDir: dir, clock, timers: new ManualTimers(clock), system: new FakeSystem() });
    try {
      assert.equal(monitor.current().cpuScore, 4321);
    } finally {
      await monitor.close();
    }
  });
});
