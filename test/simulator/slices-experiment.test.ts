import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DAEMON_TMAN } from '../../src/node/runtime/gossip-protocols.js';
import { runCycles } from '../../src/simulator/engine/engine.js';
import type { ExperimentParams } from '../../src/simulator/experiments/experiment.js';
import { createSlicesWorld, slicesExperiment, slicesOptions } from '../../src/simulator/experiments/slices.js';
import { SLICE_RING_TMAN } from '../../src/simulator/experiments/slices-rings.js';
import { experimentCharts } from '../../src/simulator/report/charts.js';
import { defaultWorld, startWorld } from '../../src/simulator/world.js';

const bin = fileURLToPath(new URL('../../../bin/peercloud.js', import.meta.url));

function params(nodes: number, cycles: number, options: Record<string, string>, extra: Partial<ExperimentParams> = {}): ExperimentParams {
  return { ...defaultWorld, nodes, cycles, seed: 1, options, ...extra };
}

test('concurrent slices of 10, 50 and 200 out of 1000 nodes: all confirmed, rings complete, nobody in two slices', () => {
  const r = slicesExperiment.run(params(1000, 30, { slices: '10,50,200' }));
  const s = r.summary;
  assert.equal(s.slicesAllocated, 3);
  for (const [i, k] of [10, 50, 200].entries()) {
    assert.equal(s[`s${i}Status`], 'active');
    assert.equal(s[`s${i}Found`], k);
    // A call, an offer, a confirmation and its answer: at least 4 hops (1 hop per cycle).
    assert.ok((s[`s${i}AllocCycles`] as number) >= 4, `s${i} allocated in ${s[`s${i}AllocCycles`]} cycles`);
    assert.equal(typeof s[`s${i}RingCycles`], 'number', `s${i}: ring never good`);
    assert.ok((s[`s${i}RingExactCycles`] as number) >= (s[`s${i}RingCycles`] as number));
    // The call goes out in waves sized to the count: a few times k nodes hear it, not everyone…
    assert.ok((s[`s${i}Coverage`] as number) > 0 && (s[`s${i}Coverage`] as number) < 0.6, `coverage ${s[`s${i}Coverage`]}`);
    // …with about one message per node reached (a flood sends about 4 per node)…
    assert.ok((s[`s${i}Calls`] as number) <= 2 * (s[`s${i}Coverage`] as number) * 1000, `calls ${s[`s${i}Calls`]}`);
    // …and the owner confirmed at least its k members.
    assert.ok((s[`s${i}Confirms`] as number) >= k);
  }
  const last = r.cycles[30];
  assert.equal(last.members, 260);
  assert.equal(last.s0Members + last.s1Members + last.s2Members, 260);
  assert.equal(last.ringBad, 0);
  assert.equal(last.ringWrong, 0);
  assert.equal(last.reserved, 0, 'every reservation was released or turned into membership');
  assert.equal(s.doubleAllocatedMax, 0);
  assert.equal(s.listedNotMemberMax, 0);
  // Stable columns: every row carries the per-slice metrics, before the requests too.
  assert.deepEqual(Object.keys(r.cycles[0]), Object.keys(last));
});

test('contention: owners asking for more than there is never share a node, and a short slice keeps nothing', () => {
  // 8 owners want 150 each of the ~500 matching nodes: some must fail (after their retries).
  const options = slicesOptions(params(1000, 80, { slices: '150,150,150,150,150,150,150,150', match: '0.5' }));
  const { world, slices } = createSlicesWorld(params(1000, 80, {}), options);
  const engine = startWorld(world);
  let worstOverlap = 0;
  for (let c = 0; c < 80; c++) {
    engine.runCycle();
    // Independent of the observer: owners' member lists, and each node's own membership.
    const seen = new Map<number, string>();
    for (const slice of slices.model.slices) {
      for (const node of slice.members.keys()) {
        if (seen.has(node)) worstOverlap++;
        seen.set(node, slice.ref.sliceId);
      }
    }
    for (const [node, sliceId] of seen) {
      const own = slices.model.sliceOf(node);
      assert.ok(own === null || own.sliceId === sliceId, `node ${node} listed by ${sliceId} but member of ${own?.sliceId}`);
    }
  }
  assert.equal(worstOverlap, 0);
  const active = slices.model.slices.filter((s) => s.status === 'active');
  const failed = slices.model.slices.filter((s) => s.status === 'failed');
  // Every request ended one way or the other, and they cannot all have succeeded.
  assert.equal(active.length + failed.length, 8);
  assert.ok(failed.length > 0 && active.length * 150 <= 520, `${active.length} active, ${failed.length} failed`);
  for (const s of failed) {
    assert.ok(s.found < s.want, `failed slice found ${s.found} of ${s.want}`);
    assert.equal(s.members.size, 0);
  }
  // Members by the nodes' own account are exactly the active slices' members.
  let members = 0;
  for (let h = 0; h < world.sim.population.handles; h++) if (slices.model.sliceOf(h) !== null) members++;
  assert.equal(members, active.length * 150);
});

test('reach: waves cost a small fraction of a flood; flooding still reaches nearly everyone', () => {
  const run = (reach: string) => slicesExperiment.run(params(1000, 20, { slices: '10,100', reach })).summary;
  const waves = run('waves');
  const flood = run('flood');
  for (const s of [waves, flood]) assert.equal(s.slicesAllocated, 2);
  // Push gossip with fanout 4 misses about e^-4 of the nodes.
  assert.ok((flood.s0Coverage as number) > 0.9, `flood coverage ${flood.s0Coverage}`);
  assert.ok((flood.s0Calls as number) <= 4 * (1000 + 1));
  assert.ok((waves.s0Messages as number) * 20 < (flood.s0Messages as number), `10 nodes: ${waves.s0Messages} messages in waves, ${flood.s0Messages} flooded`);
  assert.ok((waves.s1Messages as number) * 4 < (flood.s1Messages as number), `100 nodes: ${waves.s1Messages} messages in waves, ${flood.s1Messages} flooded`);
});

test('racing owners whose requests fit together both get their slice (retries), as they did not without', () => {
  const run = (attempts: string) => slicesExperiment.run(params(1000, 60, { slices: '450,450', attempts })).summary;
  const retrying = run('4');
  assert.equal(retrying.slicesAllocated, 2, `found ${retrying.s0Found} and ${retrying.s1Found} of 450`);
  assert.equal(retrying.doubleAllocatedMax, 0);
  const once = run('1');
  assert.equal(once.slicesAllocated, 1, 'without retries one of them fails');
});

test('the observer catches a node listed by two owners', () => {
  const options = slicesOptions(params(300, 10, { slices: '5,5' }));
  const { world, slices } = createSlicesWorld(params(300, 10, {}), options);
  const engine = startWorld(world);
  runCycles(engine, 10);
  assert.equal(engine.observe().doubleAllocated, 0);
  const [a, b] = slices.model.slices;
  const stolen = [...a.members.keys()].find((n) => n !== a.owner && n !== b.owner)!;
  b.members.set(stolen, { failures: 0, renewing: false });
  const row = engine.observe();
  assert.equal(row.doubleAllocated, 1);
  assert.equal(row.listedNotMember, 1, 'the node is a member of the first slice, not the second');
});

test('two owners racing for 600 of 1000 nodes: no double allocation, and a short slice says how many it found', () => {
  const r = slicesExperiment.run(params(1000, 30, { slices: '600,600' }));
  assert.equal(r.summary.doubleAllocatedMax, 0);
  for (const i of [0, 1]) {
    if (r.summary[`s${i}Status`] === 'failed') {
      assert.ok((r.summary[`s${i}Found`] as number) < 600);
      assert.ok((r.summary[`s${i}Matched`] as number) >= (r.summary[`s${i}Found`] as number));
    }
  }
  assert.ok(r.cycles[30].members <= 1000);
  assert.equal(r.cycles[30].listedNotMember, 0);
});

test('an impossible count: 300 wanted, ~100 match; found is reported and no node stays held', () => {
  const r = slicesExperiment.run(params(1000, 40, { slices: '300', match: '0.1' }));
  assert.equal(r.summary.s0Status, 'failed');
  const found = r.summary.s0Found as number;
  assert.ok(found > 50 && found <= 110, `found ${found}`);
  assert.equal(r.cycles[40].members, 0);
  assert.equal(r.cycles[40].reserved, 0);
});

test('after killing 50% of the nodes, every surviving member\'s ring neighbours are live members of its slice again', () => {
  const r = slicesExperiment.run(params(1000, 50, { slices: '20,100' }, { kills: [{ fraction: 0.5, cycle: 25 }] }));
  const s = r.summary;
  assert.equal(r.cycles[25].ringBad, 0, 'rings good before the kill');
  assert.equal(r.cycles[25].members, 120);
  const after = s.membersAfterKill as number;
  assert.ok(after > 30 && after < 90, `members after the kill: ${after}`);
  assert.ok(r.cycles[26].ringBad > 0, 'the kill broke some rings');
  assert.equal(typeof s.ringRepairCycles, 'number');
  // Dead descriptors leave every T-Man view within maxAge (20) cycles at the latest.
  assert.ok((s.ringRepairCycles as number) <= 25, `repair took ${s.ringRepairCycles} cycles`);
  assert.equal(r.cycles[50].ringBad, 0);
  assert.equal(r.cycles[50].ringWrong, 0);
  assert.equal(s.doubleAllocatedMax, 0);
});

test('churn of 1% per cycle once the slices exist: with keepSize owners replace lost members; rings stay mostly right', () => {
  const run = (keepSize: string) => slicesExperiment.run(params(1000, 90, { slices: '20,100', keepSize, churnFrom: '20' }, { churn: 0.01 }));
  const keep = run('1');
  const s = keep.summary;
  assert.equal(s.slicesAllocated, 2);
  assert.equal(s.doubleAllocatedMax, 0);
  assert.equal(s.listedNotMemberMax, 0);
  assert.ok((s.s1Replaced as number) > 0, 'members were replaced');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const lastThird = (rows: typeof keep.cycles) => rows.slice(60).map((row) => row.s1Members);
  // Losses are noticed after two failed renewals, then replaced: the slice stays near its size…
  assert.ok(mean(lastThird(keep.cycles)) >= 80, `s1 members with keepSize: ${mean(lastThird(keep.cycles))}`);
  // …while without keepSize it only shrinks (about 1% of its members per cycle).
  const shrink = run('0');
  const shrunk = mean(lastThird(shrink.cycles));
  assert.ok(shrunk < 70 && mean(lastThird(keep.cycles)) > shrunk + 15, `s1 members without keepSize: ${shrunk}`);
  assert.ok((s.meanRingBadFractionSecondHalf as number) < 0.1, `bad ring share ${s.meanRingBadFractionSecondHalf}`);
});

test('keepSize after a kill: dead members are dropped after a missed renewal and its retry, and the slice is refilled', () => {
  const r = slicesExperiment.run(params(1000, 50, { slices: '100', keepSize: '1' }, { kills: [{ fraction: 0.3, cycle: 25 }] }));
  const s = r.summary;
  const lost = 100 - (s.membersAfterKill as number);
  assert.ok(lost > 10, `lost ${lost}`);
  assert.equal(s.s0Dropped, lost);
  assert.equal(s.s0Replaced, lost);
  // Renewal tick at cycle 30, retry a cycle later, then one allocation of a few hops.
  const full = r.cycles.find((row) => row.cycle > 26 && row.s0Members === 100);
  assert.ok(full !== undefined && full.cycle <= 30 + 1 + 10, `back to 100 members at ${full?.cycle}`);
  assert.equal(r.cycles[50].ringBad, 0);
  assert.equal(s.doubleAllocatedMax, 0);
});

test('an owner that disappears lets its slice go after one lease: members are free again', () => {
  const options = slicesOptions(params(500, 60, { slices: '30', lease: '12' }));
  const { world, slices } = createSlicesWorld(params(500, 60, {}), options);
  const engine = startWorld(world);
  runCycles(engine, 10);
  assert.equal(engine.observe().members, 30);
  world.sim.kill(slices.owners[0]);
  const rows = runCycles(engine, 20);
  // The others keep their lease until it runs out (12 cycles after the last renewal at most)…
  assert.ok(rows[1].members >= 29, `members right after: ${rows[1].members}`);
  const freed = rows.find((row) => row.members === 0);
  assert.ok(freed !== undefined && freed.cycle <= 10 + 12 + 1, `freed at ${freed?.cycle}`);
  // …then are free: not members, not in a ring.
  assert.equal(rows[rows.length - 1].reserved, 0);
  for (let h = 0; h < world.sim.population.handles; h++) assert.equal(slices.model.sliceOf(h), null);
});

test('ring seeding: with many hops per cycle, the member list seeds a complete ring in a cycle once T-Man state follows the group', () => {
  const run = (ringSeed: string) => slicesExperiment.run(params(2000, 30, { slices: '10,200', hops: '10', ringSeed })).summary;
  const ranked = run('ranked');
  assert.ok((ranked.s0AllocCycles as number) < 1, 'allocation fits in a cycle at 10 hops per cycle');
  assert.equal(ranked.s1RingExactCycles, 1);
  const reset = run('reset');
  assert.equal(reset.s1RingCycles, 1);
  const daemon = run('daemon');
  assert.equal(typeof daemon.s1RingCycles, 'number', 'the ring forms with the daemon\'s seeding too');
  assert.ok((daemon.s1RingCycles as number) >= (reset.s1RingCycles as number));
});

test('event-driven gossip: slices still allocate and their rings complete', () => {
  const r = slicesExperiment.run(params(800, 30, { slices: '10,60' }, { mode: 'event', latency: { kind: 'uniform', minMs: 10, maxMs: 100 } }));
  assert.equal(r.summary.slicesAllocated, 2);
  assert.equal(r.cycles[30].ringBad, 0);
});

test('the rings run the daemon\'s T-Man settings', () => {
  assert.deepEqual({ ...SLICE_RING_TMAN }, { ...DAEMON_TMAN });
});

test('same seed, same JSON; another seed, another run', () => {
  const run = (seed: number) => JSON.stringify(slicesExperiment.run({ ...params(600, 20, { slices: '10,100', keepSize: '1' }, { churn: 0.01, kills: [{ fraction: 0.2, cycle: 12 }] }), seed }));
  assert.equal(run(4), run(4));
  assert.notEqual(run(4), run(5));
});

test('bad options are rejected with a RangeError naming them', () => {
  const bad = (options: Record<string, string>) => () => slicesExperiment.run(params(100, 2, options));
  assert.throws(bad({ slices: '0' }), RangeError);
  assert.throws(bad({ slices: '10,x' }), /slices=10,x/);
  assert.throws(bad({ match: '0' }), /match/);
  assert.throws(bad({ hops: '0' }), /hops/);
  assert.throws(bad({ fanout: '0' }), /fanout/);
  assert.throws(bad({ ringSeed: 'magic' }), /ringSeed/);
  assert.throws(bad({ keepSize: '2' }), /keepSize/);
  assert.throws(bad({ lease: '1' }), /lease/);
  assert.throws(bad({ reach: 'everywhere' }), /reach=everywhere/);
  assert.throws(bad({ spares: '2' }), /spares/);
  assert.throws(bad({ attempts: '0' }), /attempts/);
});

test('peercloud sim slices: registered, --opt and --json work, figures are declared', () => {
  const r = spawnSync(process.execPath, [bin, 'sim', 'slices', '--nodes', '300', '--cycles', '12', '--opt', 'slices=5,20', '--kill', '10%@8', '--json', '-q'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.experiment, 'slices');
  assert.equal(doc.summary.s1Want, 20);
  assert.equal(typeof doc.summary.ringRepairCycles === 'number' || doc.summary.ringRepairCycles === null, true);
  const charts = experimentCharts(doc);
  assert.deepEqual(charts.map((c) => c.file), ['slice-members.svg', 'ring-neighbours.svg']);
});
