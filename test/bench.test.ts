import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { median } from '../bench/benchmark.js';
import { selectConfigs } from '../bench/sim.js';

const runJs = fileURLToPath(new URL('../bench/run.js', import.meta.url));

function bench(...args: string[]) {
  return spawnSync(process.execPath, ['--expose-gc', runJs, ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('bench sim runs each configuration in a worker and reports CPU, wall, RSS and set-up per cycle', () => {
  const r = bench('sim', '--only', '1e5,static', '--nodes', '2000', '--cycles', '2', '--json');
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { benchmark: string; cycles: number; rows: Record<string, unknown>[] };
  assert.equal(doc.benchmark, 'sim');
  assert.equal(doc.cycles, 2);
  assert.deepEqual(doc.rows.map((row) => row.id), ['newscast-count-1e5', 'static20-avg-1e6']);
  for (const row of doc.rows) {
    assert.equal(row.nodes, 2000);
    assert.equal(row.cyclesTimed, 2);
    assert.equal((row.cpuPerCycleS as number[]).length, 2);
    for (const k of ['cpuPerCycleMedianS', 'wallPerCycleMedianS', 'peakRssMB', 'setupS']) {
      assert.ok(typeof row[k] === 'number' && (row[k] as number) > 0, `${k} = ${row[k]}`);
    }
    assert.ok((row.peakRssMB as number) > 10 && (row.peakRssMB as number) < 2000);
    assert.equal(row.verdict, 'n/a (not the reference size)', 'no verdict away from the reference size');
  }
  assert.deepEqual(doc.rows.map((row) => row.experiment), ['count', 'aggregation']);
});

test('bench sim prints a table with the PeerSim reference and a verdict column', () => {
  const r = bench('sim', '--only', '1e5', '--nodes', '2000', '--cycles', '2');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  for (const h of ['configuration', 'nodes', 'cycles timed', 'CPU s/cycle (median)', 'wall s/cycle', 'peak RSS MB', 'setup s', 'PeerSim reference', 'verdict']) {
    assert.ok(lines[0].includes(h), `header has ${h}`);
  }
  assert.match(lines[2], /^Newscast c=30 \+ COUNT\s+2e3\s+2\s/);
  assert.match(lines[2], /0\.6-1\.0 s, ~105 MB/);
});

test('bench rejects unknown benchmarks, options and filters with a usage message', () => {
  const unknown = bench('nope');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown benchmark "nope"[\s\S]*usage: npm run bench -- <benchmark>[\s\S]*sim/);
  assert.equal(bench('sim', '--cycles', '0').status, 2);
  assert.match(bench('sim', '--only', '1e7').stderr, /--only 1e7 matches no configuration/);
  assert.match(bench('sim', '--fast').stderr, /Unknown option '--fast'/);
});

test('--only selects by node count or by configuration id', () => {
  assert.deepEqual(selectConfigs(['1e6']).map((c) => c.id), ['newscast-count-1e6', 'static20-avg-1e6']);
  assert.deepEqual(selectConfigs(['static', '1e5']).map((c) => c.id), ['newscast-count-1e5', 'static20-avg-1e6']);
  assert.equal(selectConfigs(null).length, 3);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});
