import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { ViewTable } from '../../src/protocols/peer-sampling/view-table.js';
import { runCycles } from '../../src/simulator/engine/engine.js';
import { ClusteringEstimator } from '../../src/simulator/observers/clustering.js';
import {
  OverlayGraph,
  OverlayObserver,
  inDegreeHistogram,
  randomGraphClustering,
  randomGraphPathLength,
} from '../../src/simulator/observers/graph.js';
import { OverlaySnapshot, StampSet } from '../../src/simulator/observers/overlay-snapshot.js';
import { PathLengthEstimator } from '../../src/simulator/observers/path-length.js';
import { Population } from '../../src/simulator/population.js';
import { createWorld, defaultWorld, startWorld, type WorldParams } from '../../src/simulator/world.js';

/** A population of `n` nodes with the given ones dead, and views holding the given out-lists. */
function overlay(n: number, c: number, out: number[][], dead: number[] = []): { views: ViewTable; pop: Population } {
  const pop = new Population(n);
  for (let i = 0; i < n; i++) pop.spawn();
  for (const d of dead) pop.kill(d);
  const views = new ViewTable(c, n);
  out.forEach((peers, v) => {
    for (const p of peers) {
      // ViewTable.add refuses self-pointers; write raw entries so the observers' own filtering is tested.
      const base = v * c;
      views.ids[base + views.sizes[v]] = p;
      views.sizes[v]++;
    }
  });
  return { views, pop };
}

/** Straightforward reference implementations on adjacency sets, to check the typed-array ones. */
function reference(n: number, c: number, views: ViewTable, pop: Population) {
  const live = [...Array(n).keys()].filter((v) => pop.isAlive(v));
  const und = new Map<number, Set<number>>(live.map((v) => [v, new Set<number>()]));
  const inDeg = new Map<number, number>(live.map((v) => [v, 0]));
  let dead = 0;
  let entries = 0;
  for (const v of live) {
    for (let i = 0; i < views.sizes[v]; i++) {
      const w = views.ids[v * c + i];
      entries++;
      if (!pop.isAlive(w)) {
        dead++;
        continue;
      }
      if (w === v) continue;
      inDeg.set(w, inDeg.get(w)! + 1);
      und.get(v)!.add(w);
      und.get(w)!.add(v);
    }
  }
  const degrees = live.map((v) => inDeg.get(v)!);
  const mean = degrees.reduce((a, b) => a + b, 0) / live.length;
  const std = Math.sqrt(degrees.reduce((a, d) => a + (d - mean) ** 2, 0) / live.length);
  const local = (v: number): number => {
    const nb = [...und.get(v)!];
    if (nb.length < 2) return 0;
    let links = 0;
    for (let i = 0; i < nb.length; i++) for (let j = i + 1; j < nb.length; j++) if (und.get(nb[i])!.has(nb[j])) links++;
    return links / ((nb.length * (nb.length - 1)) / 2);
  };
  const bfs = (s: number): Map<number, number> => {
    const dist = new Map<number, number>([[s, 0]]);
    const queue = [s];
    for (let q = 0; q < queue.length; q++) {
      for (const w of und.get(queue[q])!) {
        if (!dist.has(w)) {
          dist.set(w, dist.get(queue[q])! + 1);
          queue.push(w);
        }
      }
    }
    return dist;
  };
  let pathSum = 0;
  let pairs = 0;
  const seen = new Set<number>();
  const sizes: number[] = [];
  for (const v of live) {
    const d = bfs(v);
    for (const [w, k] of d) if (w !== v) {
      pathSum += k;
      pairs++;
    }
    if (!seen.has(v)) {
      for (const w of d.keys()) seen.add(w);
      sizes.push(d.size);
    }
  }
  let undirectedEdges = 0;
  for (const s of und.values()) undirectedEdges += s.size;
  undirectedEdges /= 2;
  return {
    live,
    inDeg,
    mean,
    std,
    max: Math.max(...degrees),
    dead,
    entries,
    clustering: live.reduce((a, v) => a + local(v), 0) / live.length,
    pathLength: pairs > 0 ? pathSum / pairs : 0,
    components: sizes.length,
    largest: Math.max(...sizes),
    undirectedDegree: (2 * undirectedEdges) / live.length,
  };
}

function randomOverlay(seed: number, n: number, c: number, deadFraction: number) {
  const rng = new SeededRandom(seed);
  const out: number[][] = [];
  for (let v = 0; v < n; v++) {
    const k = rng.int(c + 1);
    const peers = new Set<number>();
    while (peers.size < k) peers.add(rng.int(n));
    out.push([...peers]);
  }
  const dead = [...Array(n).keys()].filter(() => rng.next() < deadFraction);
  return overlay(n, c, out, dead);
}

describe('overlay observers against reference implementations', () => {
  for (const [seed, n, c, deadFraction] of [
    [1, 40, 3, 0],
    [2, 60, 2, 0.2],
    [3, 80, 5, 0.5],
    [4, 30, 1, 0.1],
    [5, 120, 8, 0.3],
  ] as const) {
    it(`matches on a random overlay (seed ${seed}, n=${n}, c=${c}, ${deadFraction * 100}% dead)`, () => {
      const { views, pop } = randomOverlay(seed, n, c, deadFraction);
      const ref = reference(n, c, views, pop);
      // Samples as large as the population make clustering and path length exact averages.
      const m = new OverlayGraph({ clusteringSample: n, pathSources: n }).measure(views, pop, true, 'test');
      assert.equal(m.liveNodes, ref.live.length);
      assert.ok(Math.abs(m.inDegreeMean - ref.mean) < 1e-12);
      assert.ok(Math.abs(m.inDegreeStdDev - ref.std) < 1e-12);
      assert.equal(m.inDegreeMax, ref.max);
      assert.equal(m.deadLinks, ref.dead);
      assert.equal(m.deadLinksFraction, ref.entries > 0 ? ref.dead / ref.entries : 0);
      assert.equal(m.partitions, ref.components);
      assert.equal(m.largestClusterNodes, ref.largest);
      assert.equal(m.largestCluster, ref.largest / ref.live.length);
      assert.ok(Math.abs(m.clustering! - ref.clustering) < 1e-12, `clustering ${m.clustering} vs ${ref.clustering}`);
      assert.ok(Math.abs(m.pathLength! - ref.pathLength) < 1e-12, `path length ${m.pathLength} vs ${ref.pathLength}`);
      assert.ok(Math.abs(m.undirectedDegreeMean! - ref.undirectedDegree) < 1e-12);
    });
  }

  it('ignores self-pointers, counts pointers to dead nodes as dead links only', () => {
    const { views, pop } = overlay(4, 3, [[0, 1, 3], [2], [1, 3], [0]], [3]);
    const m = new OverlayGraph().measure(views, pop, true, 't');
    assert.equal(m.liveNodes, 3);
    assert.equal(m.deadLinks, 2); // 0→3 and 2→3; 3's own view does not count
    assert.equal(m.deadLinksFraction, 2 / 6);
    assert.equal(m.inDegreeMean, 3 / 3); // 0→1, 1→2, 2→1
    assert.equal(m.partitions, 1);
  });

  it('finds partitions and isolated nodes', () => {
    // {0,1,2} a triangle, {3,4} a pair, 5 isolated (points only at a dead node), 6 dead.
    const { views, pop } = overlay(7, 2, [[1, 2], [2], [0], [4], [], [6], [0]], [6]);
    const m = new OverlayGraph().measure(views, pop, true, 't');
    assert.equal(m.partitions, 3);
    assert.equal(m.largestClusterNodes, 3);
    assert.equal(m.largestCluster, 3 / 6);
    assert.equal(m.deadLinks, 1);
  });

  it('ring lattice: clustering 1/2 and the known path length', () => {
    // Each node links to its 2 nearest neighbours on each side: local clustering 3(k-2)/(4(k-1)) = 1/2.
    const n = 101;
    const out = [...Array(n).keys()].map((v) => [(v + 1) % n, (v + 2) % n, (v - 1 + n) % n, (v - 2 + n) % n]);
    const { views, pop } = overlay(n, 4, out);
    const m = new OverlayGraph({ clusteringSample: 10, pathSources: 3 }).measure(views, pop, true, 't');
    assert.equal(m.clustering, 0.5);
    // Distances 1..25 reach 4 nodes each: mean (4 * 25*26/2) / 100 = 13.
    assert.equal(m.pathLength, 13);
    assert.equal(m.undirectedDegreeMean, 4);
  });

  it('star: the hub has clustering 0, path length 2 between leaves', () => {
    const n = 50;
    const out = [[], ...[...Array(n - 1)].map(() => [0])];
    const { views, pop } = overlay(n, 1, out);
    const m = new OverlayGraph({ clusteringSample: n, pathSources: n }).measure(views, pop, true, 't');
    assert.equal(m.clustering, 0);
    assert.equal(m.inDegreeMax, n - 1);
    // Pairs: hub–leaf at 1 (2·49 of them), leaf–leaf at 2 (49·48).
    assert.equal(m.pathLength, (2 * 49 + 2 * 49 * 48) / (2 * 49 + 49 * 48));
  });

  it('bottom-up BFS steps give the same distances as plain top-down BFS', () => {
    const { views, pop } = randomOverlay(9, 3000, 12, 0.1);
    const snap = new OverlaySnapshot().build(views, pop.aliveFlags, pop.handles, true);
    const plain = new PathLengthEstimator(0);
    const eager = new PathLengthEstimator(1000, 1e9); // bottom-up from the first level on
    const usual = new PathLengthEstimator();
    for (const source of [0, 17, 1234, 2999]) {
      if (!pop.isAlive(source)) continue;
      const expected = plain.bfs(snap, source);
      assert.ok(expected.reached > 2500);
      // Repeated searches reuse the stamp array: results must not depend on earlier searches.
      for (let rep = 0; rep < 2; rep++) {
        assert.deepEqual(eager.bfs(snap, source), expected);
        assert.deepEqual(usual.bfs(snap, source), expected);
      }
    }
  });

  it('in-degree histogram counts every live node once', () => {
    const { views, pop } = randomOverlay(11, 500, 6, 0.2);
    const snap = new OverlaySnapshot().build(views, pop.aliveFlags, pop.handles, false);
    const hist = inDegreeHistogram(snap);
    const ref = reference(500, 6, views, pop);
    assert.equal(hist.reduce((a, b) => a + b, 0), ref.live.length);
    for (let d = 0; d < hist.length; d++) assert.equal(hist[d], [...ref.inDeg.values()].filter((x) => x === d).length);
    assert.deepEqual(new OverlayGraph().inDegreeHistogram(views, pop), hist);
  });

  it('the snapshot grows with the population and reuses its arrays', () => {
    const g = new OverlayGraph({ clusteringSample: 5, pathSources: 2 });
    const small = randomOverlay(1, 20, 3, 0);
    const big = randomOverlay(2, 2000, 3, 0);
    const a1 = g.measure(small.views, small.pop, true, 's');
    const b = g.measure(big.views, big.pop, true, 'b');
    const a2 = g.measure(small.views, small.pop, true, 's');
    assert.deepEqual(a2, a1);
    assert.equal(b.liveNodes, 2000);
  });

  it('clustering estimate from a sample is close to the exact average', () => {
    const { views, pop } = randomOverlay(3, 4000, 10, 0);
    const snap = new OverlaySnapshot().build(views, pop.aliveFlags, pop.handles, true);
    const est = new ClusteringEstimator();
    const exact = est.average(snap, new StampSet(), snap.live, snap.liveCount);
    const sampled = new OverlayGraph({ clusteringSample: 1000, pathSources: 1 }).measure(views, pop, true, 'x').clustering!;
    assert.ok(Math.abs(sampled - exact) < 0.2 * exact + 1e-4, `${sampled} vs ${exact}`);
  });

  it('random-graph references', () => {
    assert.equal(randomGraphClustering(50, 10_000), 0.005);
    // (ln N − γ)/ln k + 1/2 for N = 10^4, k = 60: about 2.61.
    assert.ok(Math.abs(randomGraphPathLength(60, 10_000) - 2.609) < 0.01);
    assert.equal(randomGraphPathLength(1, 100), 0);
    assert.equal(randomGraphPathLength(10, 1), 0);
  });

  it('rejects bad sample sizes and observeEvery with a RangeError naming them', () => {
    assert.throws(() => new OverlayGraph({ clusteringSample: 0, pathSources: 1 }), /clusteringSample/);
    assert.throws(() => new OverlayGraph({ clusteringSample: 1, pathSources: 1.5 }), /pathSources/);
    assert.throws(() => new OverlayObserver(new ViewTable(3), { seed: 1, observeEvery: 0 }), /observeEvery/);
  });
});

describe('OverlayObserver in a simulation', () => {
  const params: WorldParams = { ...defaultWorld, nodes: 2000, view: 20, seed: 42 };

  it('adds clustering and path length only every observeEvery cycles and at the final cycle', () => {
    const world = createWorld(params);
    world.sim.observers.push(new OverlayObserver(world.sampling!.views, { seed: 42, observeEvery: 3, finalCycle: 7, prefix: 'ps.' }));
    const rows = runCycles(startWorld(world), 7);
    const full = rows.filter((r) => r['ps.pathLength'] !== undefined).map((r) => r.cycle);
    assert.deepEqual(full, [0, 3, 6, 7]);
    for (const r of rows) {
      assert.equal(r['ps.liveNodes'], 2000);
      assert.equal(typeof r['ps.largestCluster'], 'number');
      assert.equal(r['ps.clustering'] === undefined, !full.includes(r.cycle));
    }
  });

  for (const mode of ['cycle', 'event'] as const) {
    for (const sampling of ['newscast', 'cyclon'] as const) {
      it(`observing does not perturb the run (${sampling}, ${mode}-driven, kill and churn)`, () => {
        const p: WorldParams = { ...params, sampling, mode, kills: [{ fraction: 0.3, cycle: 3 }], churn: 0.01, latency: { kind: 'uniform', minMs: 5, maxMs: 300 }, requestLoss: 0.05, responseLoss: 0.05 };
        const run = (observe: boolean) => {
          const world = createWorld(p);
          if (observe) world.sim.observers.push(new OverlayObserver(world.sampling!.views, { seed: p.seed, clusteringSample: 300, pathSources: 5 }));
          runCycles(startWorld(world), 6);
          const v = world.sampling!.views;
          return { ids: Array.from(v.ids), ages: Array.from(v.ages), sizes: Array.from(v.sizes), live: Array.from(world.sim.population.live()), next: world.sim.rng.uint32() };
        };
        assert.deepEqual(run(true), run(false));
      });
    }
  }
});
