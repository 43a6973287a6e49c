import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DAEMON_NODE_FLAGS, tuneDaemonProcess } from '../../src/cli/daemon-tuning.js';

const TUNING_MODULE = new URL('../../src/cli/daemon-tuning.js', import.meta.url).href;

/**
 * Runs `body` (an ES module snippet) in a fresh node with `nodeFlags`; after `tune()`-ing itself
 * when `tune` is set. It prints one JSON line, which is returned parsed.
 */
function probe(body: string, options: { tune: boolean; nodeFlags?: string[] }): Record<string, number> {
  const code = `
    import v8 from 'node:v8';
    import { tuneDaemonProcess } from ${JSON.stringify(TUNING_MODULE)};
    if (${options.tune}) tuneDaemonProcess([], undefined);
    ${body}
  `;
  const r = spawnSync(process.execPath, [...(options.nodeFlags ?? []), '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, `probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

// Keeps a rolling window of live objects, so scavenges see survivors (what makes V8 grow the
// young generation), then reports the young generation's capacity in MiB.
const YOUNG_GENERATION = `
  let keep = [];
  for (let i = 0; i < 3e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 300000) keep = keep.slice(150000); }
  const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  console.log(JSON.stringify({ youngMiB: space.space_size / 2 ** 20 }));
`;

// Forces a TurboFan compilation of a hot function and reports V8's optimization status bits
// (16 = optimized).
const OPTIMIZATION = `
  function hot(x) { return x + 1; }
  %PrepareFunctionForOptimization(hot); hot(1); hot(2); %OptimizeFunctionOnNextCall(hot); hot(3);
  console.log(JSON.stringify({ status: %GetOptimizationStatus(hot) }));
`;
const OPTIMIZED = 16;

// Runs a function until V8 tiers it up and reports its status bits (1 << 15 = has baseline code).
// (%CompileBaseline cannot be the trigger: with Sparkplug off it is a fatal error.)
const BASELINE = `
  function warm(x) { return x * 2; }
  let sum = 0;
  for (let i = 0; i < 200000; i++) sum += warm(i);
  console.log(JSON.stringify({ status: %GetOptimizationStatus(warm) }));
`;
const HAS_BASELINE_CODE = 1 << 15;

describe('daemon V8 settings', () => {
  it('the README gives supervisors the same flags', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(`/usr/bin/node ${DAEMON_NODE_FLAGS.join(' ')} `), 'README.md: the ExecStart line lists DAEMON_NODE_FLAGS in order');
  });

  it('every flag of DAEMON_NODE_FLAGS is accepted by this node, silently', () => {
    const r = spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  it('applied at run time, the young generation stays at its initial size (it grows without)', () => {
    const tuned = probe(YOUNG_GENERATION, { tune: true });
    const untuned = probe(YOUNG_GENERATION, { tune: false });
    assert.ok(tuned.youngMiB <= 2, `tuned young generation ${tuned.youngMiB} MiB`);
    assert.ok(untuned.youngMiB > 4, `control: untuned young generation ${untuned.youngMiB} MiB`);
  });

  it('applied at run time, TurboFan no longer optimizes (it does without)', () => {
    const tuned = probe(OPTIMIZATION, { tune: true, nodeFlags: ['--allow-natives-syntax'] });
    const untuned = probe(OPTIMIZATION, { tune: false, nodeFlags: ['--allow-natives-syntax'] });
    assert.equal(tuned.status & OPTIMIZED, 0, `status ${tuned.status.toString(2)}`);
    assert.equal(untuned.status & OPTIMIZED, OPTIMIZED, `control: status ${untuned.status.toString(2)}`);
  });

  it('applied at run time, Sparkplug makes no baseline code (it does without)', () => {
    // Both without TurboFan, whose code would replace the baseline code the control should show.
    const tuned = probe(BASELINE, { tune: true, nodeFlags: ['--allow-natives-syntax', '--no-opt'] });
    const untuned = probe(BASELINE, { tune: false, nodeFlags: ['--allow-natives-syntax', '--no-opt'] });
    assert.equal(tuned.status & HAS_BASELINE_CODE, 0, `status ${tuned.status.toString(2)}`);
    assert.equal(untuned.status & HAS_BASELINE_CODE, HAS_BASELINE_CODE, `control: status ${untuned.status.toString(2)}`);
  });

  it('leaves alone what the process was started with, on the command line or in NODE_OPTIONS', () => {
    // Both settings given: nothing is applied, so calling it here does not change this process.
    const allGiven = { youngGeneration: 'given', optimizingCompiler: 'given', optimizeForSize: 'given', baselineCompiler: 'given', bytecodeFlushing: 'given' };
    assert.deepEqual(tuneDaemonProcess(['--max-semi-space-size=4', '--opt', '--no-optimize-for-size', '--sparkplug', '--bytecode-old-age=3'], undefined), allGiven);
    assert.deepEqual(tuneDaemonProcess([], '--max_semi_space_size=8   --no-opt --optimize_for_size --no-sparkplug --no-flush-bytecode'), allGiven);
    assert.deepEqual(tuneDaemonProcess([...DAEMON_NODE_FLAGS], undefined), allGiven);
  });

  it('a TurboFan flag given at start wins over the run-time default', () => {
    const r = probe(`tuneDaemonProcess(process.execArgv, undefined); ${OPTIMIZATION}`, { tune: false, nodeFlags: ['--allow-natives-syntax', '--opt'] });
    assert.equal(r.status & OPTIMIZED, OPTIMIZED, `status ${r.status.toString(2)}`);
  });
});
