import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/peercloud.js', import.meta.url));

function run(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('peercloud --help and sim --help describe the commands', () => {
  const top = run('--help');
  assert.equal(top.status, 0);
  assert.match(top.stdout, /sim/);
  const sim = run('sim', '--help');
  assert.equal(sim.status, 0);
  assert.match(sim.stdout, /--nodes/);
  assert.match(sim.stdout, /Experiments:/);
});

test('bad command lines fail with exit code 2 and a message naming the problem', () => {
  const cases: [string[], RegExp][] = [
    [['sim', 'nope'], /unknown experiment "nope"/],
    [['sim', 'sampling', '--nodes', 'ten'], /--nodes must be an integer/],
    [['sim', 'sampling', '--nodes', '1'], /--nodes must be between 2/],
    [['sim', 'sampling', '--loss', '2'], /--loss must be a fraction/],
    [['sim', 'sampling', '--kill', '50%'], /--kill expects FRACTION@CYCLE/],
    [['sim', 'sampling', '--sampling', 'gossip'], /Allowed choices are newscast, cyclon/],
    [['sim', 'sampling', '--latency', 'fast'], /latency "fast"/],
    [['sim', 'sampling', '--oscillate', '5:1:10'], /--oscillate needs/],
    [['sim', 'sampling', '--cycles', '5', '--kill', '50%@9'], /after the last cycle/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')} → ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace for usage errors');
  }
});
