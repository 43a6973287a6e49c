import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import '../../src/simulator/experiments/all.js';
import type { ExperimentParams, ExperimentResult } from '../../src/simulator/experiments/experiment.js';
import { getExperiment } from '../../src/simulator/experiments/index.js';
import { runSuite, suiteConfig } from '../../src/simulator/experiments/suite.js';
import { planSuite, reproduceCommand, suiteSections, tmanSizes } from '../../src/simulator/report/suite-plan.js';
import { defaultWorld } from '../../src/simulator/world.js';

const bin = fileURLToPath(new URL('../../../bin/peercloud.js', import.meta.url));

function peercloud(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
}

function suiteParams(options: Record<string, string>, nodes = 100_000): ExperimentParams {
  return { ...defaultWorld, nodes, cycles: 50, options };
}

test('the quick suite writes index.html, one SVG per figure and suite.json, with every check and run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peercloud-suite-'));
  try {
    const r = peercloud('sim', 'suite', '--opt', 'quick=1', '--seed', '3', '--out', dir, '--json');
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    assert.match(r.stderr, /\[suite \(a\) a-complete \[1\/\d+\]\] cycle/, 'progress names the run on stderr');
    const doc = JSON.parse(r.stdout) as ExperimentResult & { runs: { id: string; command: string }[]; checks: { id: string; pass: boolean; section: string }[] };
    assert.equal(doc.experiment, 'suite');
    assert.deepEqual(doc.cycles, []);
    assert.equal(doc.summary.nodes, 2000);
    assert.equal(doc.summary.seed, 3);
    // Every section ran and produced checks.
    assert.deepEqual([...new Set(doc.checks.map((c) => c.section))], suiteSections.map((s) => s.id));
    assert.equal(doc.summary.checks, doc.checks.length);
    assert.equal(doc.summary.checksPassed, doc.checks.filter((c) => c.pass).length);
    assert.ok(doc.runs.some((run) => run.id === 'e-ring-250'), 'T-Man scaling reaches 250 nodes in quick mode');

    const files = readdirSync(dir);
    const svgs = files.filter((f) => f.endsWith('.svg'));
    assert.ok(files.includes('index.html') && files.includes('suite.json'));
    for (const f of ['aggregation-variance.svg', 'count-range.svg', 'count-sudden-death.svg', 'count-message-loss.svg', 'sampling-dead-links.svg', 'sampling-largest-cluster.svg', 'tman-missing-links.svg', 'slicing-gdm.svg', 'slicing-sdm.svg']) {
      assert.ok(svgs.includes(f), `${f} written`);
    }
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'suite.json'), 'utf8')), doc, 'suite.json is the --json document');
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    for (const c of doc.checks) assert.ok(html.includes(`<td>${c.id}</td>`), `check ${c.id} in the table`);
    assert.equal((html.match(/class="(pass|fail)"/g) ?? []).length, 2 * doc.checks.length, 'each check marked in the summary and in its section');
    assert.ok((html.match(/<svg /g) ?? []).length >= svgs.length, 'every figure inline');
    assert.ok(html.includes('peercloud sim aggregation --nodes 2000 --cycles 30 --seed 3 --sampling complete'), 'reproduce commands');
    assert.doesNotMatch(html, /NaN|undefined|\[object Object\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('each run of the suite is repeated byte for byte by the command the report prints', () => {
  const params = suiteParams({ quick: '1', only: 'b' });
  const result = runSuite(params);
  const run = result.runs[0];
  assert.equal(run.id, 'b-count');
  const args = run.command.split(' ').slice(1);
  const alone = peercloud(...args, '--json', '-q');
  assert.equal(alone.status, 0, alone.stderr);
  assert.equal(alone.stdout.trim(), JSON.stringify(run.result));
  // And the suite itself is deterministic.
  assert.equal(JSON.stringify(runSuite(params)), JSON.stringify(result));
});

test('the plan: sections, dependencies, sizes and commands', () => {
  assert.deepEqual(tmanSizes(100_000), [1562, 3125, 6250, 12500, 25000, 50000, 100000]);
  assert.deepEqual(tmanSizes(2000), [250, 500, 1000, 2000]);
  const config = suiteConfig(suiteParams({ only: 'c,e' }));
  assert.equal(config.nodes, 100_000);
  assert.deepEqual(config.sections, ['count', 'count-robustness', 'tman'], 'count-robustness brings its lossless baseline');
  const plan = planSuite(config);
  const late = plan.find((r) => r.id === 'c-death-late')!;
  assert.equal(reproduceCommand(late, 9), 'peercloud sim count --nodes 100000 --cycles 30 --seed 9 --sampling newscast --view 30 --kill 50%@25');
  assert.equal(new Set(plan.map((r) => r.id)).size, plan.length, 'run ids are unique');
  assert.equal(suiteConfig(suiteParams({ quick: '1' }, 500)).nodes, 500, 'an explicit smaller --nodes applies in quick mode');
});

test('bad suite options are RangeErrors naming the option; missing experiments are errors', () => {
  assert.throws(() => suiteConfig(suiteParams({ quick: '2' })), /option quick=2 is not valid/);
  assert.throws(() => suiteConfig(suiteParams({ only: 'a,zz' })), /option only=a,zz is not valid: "zz"/);
  assert.throws(() => suiteConfig(suiteParams({ fast: '1' })), /option fast is not known to the suite/);
  assert.throws(() => suiteConfig({ ...suiteParams({}), sampling: 'cyclon' }), /sampling cannot be set for the suite/);
  assert.throws(() => suiteConfig(suiteParams({}, 100)), /too small for the suite/);
  const withoutTman = (name: string) => (name === 'tman' ? undefined : getExperiment(name));
  assert.throws(() => runSuite(suiteParams({ quick: '1', only: 'a,e' }), undefined, withoutTman), /needs the experiment\(s\) tman, which are not registered/);
  const cli = peercloud('sim', 'suite', '--opt', 'only=x');
  assert.equal(cli.status, 2);
  assert.match(cli.stderr, /option only=x is not valid/);
});
