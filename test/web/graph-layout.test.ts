import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LayoutEngine, MAX_REHEAT } from '../../src/web/graph/layout-engine.js';
import { boundedLinks, drawOrder, idHash, layoutLinksPerNode, linkRank, rankOrder } from '../../src/web/graph/link-subset.js';
import type { GraphData } from '../../src/web/graph/model.js';
import { adjacency, type Body, placeNodes } from '../../src/web/graph/positions.js';
import { seededRandom } from '../../src/web/graph/random.js';
import { ringForce, ringsFromLinks } from '../../src/web/graph/ring-force.js';
import { mutateGraph, syntheticGraph } from '../../src/web/graph/synthetic.js';

function pairsOf(edges: readonly { source: number; target: number }[]): Uint32Array {
  const out = new Uint32Array(2 * edges.length);
  edges.forEach((e, i) => {
    out[2 * i] = e.source;
    out[2 * i + 1] = e.target;
  });
  return out;
}

function layoutInput(d: GraphData) {
  return { ids: d.nodes.map((n) => n.id), view: pairsOf(d.viewEdges), ring: pairsOf(d.ringEdges), ringSlice: Uint32Array.from(d.ringEdges.map((e) => e.slice)) };
}

test('link ranks are symmetric and rank order is a permutation sorted by rank', () => {
  const ha = idHash('pcaaaa');
  const hb = idHash('pcbbbb');
  assert.notEqual(ha, hb);
  assert.equal(linkRank(ha, hb), linkRank(hb, ha));
  const d = syntheticGraph({ nodes: 200, view: 10, seed: 3 });
  const pairs = pairsOf(d.viewEdges);
  const hashes = Uint32Array.from(d.nodes.map((n) => idHash(n.id)));
  const order = rankOrder(pairs, hashes);
  assert.deepEqual([...order].sort((a, b) => a - b), [...Array(order.length).keys()]);
  const rank = (e: number) => linkRank(hashes[pairs[2 * e]], hashes[pairs[2 * e + 1]]);
  for (let i = 1; i < order.length; i++) assert.ok(rank(order[i - 1]) <= rank(order[i]), `rank order broken at ${i}`);
});

test('the same links are chosen whatever order the crawl lists nodes and links in', () => {
  const d = syntheticGraph({ nodes: 3000, view: 20, seed: 5 });
  const shuffled = mutateGraph(d, { shuffle: true, seed: 11 });
  const chosenKeys = (g: GraphData) => {
    const pairs = pairsOf(g.viewEdges);
    const hashes = Uint32Array.from(g.nodes.map((n) => idHash(n.id)));
    const kept = boundedLinks(pairs, rankOrder(pairs, hashes), g.nodes.length, layoutLinksPerNode(g.nodes.length));
    return new Set([...kept].map((e) => [g.nodes[pairs[2 * e]].id, g.nodes[pairs[2 * e + 1]].id].sort().join(' ')));
  };
  // mutateGraph drops nothing here (no deaths), so the link sets are equal and so must the choices be.
  assert.equal(shuffled.viewEdges.length, d.viewEdges.length);
  assert.deepEqual(chosenKeys(shuffled), chosenKeys(d));
});

test('bounded links: every linked node keeps one, none keeps many, at most k·n in all', () => {
  const n = 5000;
  const d = syntheticGraph({ nodes: n, view: 20, seed: 2 });
  const pairs = pairsOf(d.viewEdges);
  const hashes = Uint32Array.from(d.nodes.map((x) => idHash(x.id)));
  const k = layoutLinksPerNode(n);
  assert.equal(layoutLinksPerNode(500), Number.POSITIVE_INFINITY, 'small graphs keep every link');
  assert.ok(k >= 3 && k <= 10, `k = ${k}`);
  const order = rankOrder(pairs, hashes);
  const kept = boundedLinks(pairs, order, n, k);
  assert.ok(kept.length <= k * n && kept.length < pairs.length / 2 / 2, `${kept.length} of ${pairs.length / 2} kept`);
  const had = new Uint32Array(n);
  const has = new Uint32Array(n);
  for (let e = 0; e < pairs.length / 2; e++) had[pairs[2 * e]]++, had[pairs[2 * e + 1]]++;
  for (const e of kept) has[pairs[2 * e]]++, has[pairs[2 * e + 1]]++;
  for (let i = 0; i < n; i++) {
    if (had[i] > 0) assert.ok(has[i] >= 1, `node ${i} lost all its links`);
    assert.ok(has[i] <= Math.max(had[i], 3 * k), `node ${i} keeps ${has[i]} links`);
  }
  // Drawing order: the layout's links first, then every other link once.
  const drawn = drawOrder(order, kept);
  assert.deepEqual([...drawn.subarray(0, kept.length)], [...kept]);
  assert.deepEqual([...drawn].sort((a, b) => a - b), [...Array(pairs.length / 2).keys()]);
});

test('placement keeps known positions by id and puts a new node next to a placed neighbour', () => {
  const previous = new Map<string, Body>([
    ['a', { x: 0, y: 0, vx: 1, vy: 0 }],
    ['b', { x: 100, y: 0, vx: 0, vy: 0 }],
    ['c', { x: 200, y: 50, vx: 0, vy: 0 }],
    ['d', { x: -50, y: 80, vx: 0, vy: 0 }],
    ['e', { x: 60, y: -90, vx: 0, vy: 0 }],
  ]);
  // New order, 'c' gone, 'n' new and linked to 'b' only, 'm' new and linked to 'n' only, 'z' alone.
  const ids = ['n', 'b', 'a', 'm', 'z', 'd', 'e'];
  const links = [Uint32Array.from([0, 1, 3, 0])];
  const { bodies, kept } = placeNodes(previous, ids, links, seededRandom(1), 10);
  assert.equal(kept, 4);
  assert.deepEqual(bodies[1], { x: 100, y: 0, vx: 0, vy: 0 });
  assert.deepEqual(bodies[2], { x: 0, y: 0, vx: 1, vy: 0 }, 'velocity kept too');
  assert.ok(Math.hypot(bodies[0].x - 100, bodies[0].y) <= 10, `n at ${bodies[0].x},${bodies[0].y}, not next to b`);
  assert.ok(Math.hypot(bodies[3].x - bodies[0].x, bodies[3].y - bodies[0].y) <= 10, 'm grows out of n');
  assert.ok(Number.isFinite(bodies[4].x) && Number.isFinite(bodies[4].y), 'an isolated node still gets a place');
  for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) assert.ok(bodies[i].x !== bodies[j].x || bodies[i].y !== bodies[j].y, 'no two nodes on one spot');
});

test('a first crawl (all nodes new) is laid on a spiral, not packed around one node', () => {
  const ids = Array.from({ length: 500 }, (_, i) => `n${i}`);
  const star = new Uint32Array(2 * 499);
  for (let i = 1; i < 500; i++) star.set([0, i], 2 * (i - 1));
  const { bodies, kept } = placeNodes(new Map(), ids, [star], seededRandom(1));
  assert.equal(kept, 0);
  const far = bodies.filter((b) => Math.hypot(b.x, b.y) > 100).length;
  assert.ok(far >= 350, `only ${far} of 500 nodes beyond radius 100`);
});

test('adjacency lists both ends of every link', () => {
  const { start, list } = adjacency(4, [Uint32Array.from([0, 1, 1, 2]), Uint32Array.from([3, 0])]);
  const of = (i: number) => [...list.subarray(start[i], start[i + 1])].sort();
  assert.deepEqual([of(0), of(1), of(2), of(3)], [[1, 3], [0, 2], [1], [0]]);
});

test('rings: a whole cycle is found in successor order; a broken one is marked unordered', () => {
  const whole = ringsFromLinks(Uint32Array.from([5, 7, 7, 2, 2, 5]), Uint32Array.from([0, 0, 0]));
  assert.equal(whole.length, 1);
  assert.equal(whole[0].ordered, true);
  assert.deepEqual(whole[0].members, [5, 7, 2]);
  // Two slices; the second is missing a successor (being repaired).
  const two = ringsFromLinks(Uint32Array.from([0, 1, 1, 0, 3, 4, 4, 5]), Uint32Array.from([0, 0, 1, 1]));
  assert.deepEqual(two.map((r) => r.ordered), [true, false]);
  assert.deepEqual([...two[1].members].sort(), [3, 4, 5]);
});

test('the ring force puts the members of a ring on a circle in ring order', () => {
  const rnd = seededRandom(4);
  const nodes = Array.from({ length: 8 }, () => ({ x: rnd() * 200, y: rnd() * 200, vx: 0, vy: 0 }));
  const force = ringForce(24, 0.2);
  force.initialize(nodes);
  force.rings(ringsFromLinks(Uint32Array.from([0, 3, 3, 6, 6, 1, 1, 4, 4, 7, 7, 2, 2, 5, 5, 0])));
  for (let i = 0; i < 200; i++) force();
  const cx = nodes.reduce((s, n) => s + n.x, 0) / 8;
  const cy = nodes.reduce((s, n) => s + n.y, 0) / 8;
  const radius = Math.max(24, (8 * 24) / (2 * Math.PI));
  for (const n of nodes) assert.ok(Math.abs(Math.hypot(n.x - cx, n.y - cy) - radius) < 0.5, 'on the circle');
  // In ring order, successive members are one slot apart (the chord of 1/8 turn).
  const order = [0, 3, 6, 1, 4, 7, 2, 5];
  const chord = 2 * radius * Math.sin(Math.PI / 8);
  for (let j = 0; j < 8; j++) {
    const a = nodes[order[j]];
    const b = nodes[order[(j + 1) % 8]];
    assert.ok(Math.abs(Math.hypot(a.x - b.x, a.y - b.y) - chord) < 0.5, `members ${order[j]} and ${order[(j + 1) % 8]} not neighbours on the circle`);
  }
});

test('the layout settles, then a new crawl in another order keeps everyone where they were', () => {
  const d = syntheticGraph({ nodes: 150, view: 8, slices: 2, sliceSize: 8, seed: 9 });
  const engine = new LayoutEngine(1);
  const first = engine.setGraph(layoutInput(d));
  assert.equal(first.reheat, 1);
  assert.equal(first.kept, 0);
  let ticks = 0;
  while (!engine.settled && ticks < 1000) {
    engine.tick();
    ticks++;
  }
  assert.ok(engine.settled, 'settles (alpha decays below alphaMin)');
  assert.ok(ticks > 100 && ticks < 400, `${ticks} ticks`);
  const before = engine.positions();
  const where = new Map(d.nodes.map((n, i) => [n.id, [before[2 * i], before[2 * i + 1]]]));

  // The same overlay, listed in another order: positions follow ids, and no reheat at all.
  const same = mutateGraph(d, { shuffle: true, seed: 3 });
  const u = engine.setGraph(layoutInput(same));
  assert.equal(u.kept, 150);
  assert.equal(u.reheat, 0, 'an unchanged overlay does not move');
  assert.ok(engine.settled);
  const xy = engine.positions();
  same.nodes.forEach((n, i) => assert.deepEqual([xy[2 * i], xy[2 * i + 1]], where.get(n.id)));

  // A death and two joins: a gentle reheat; the others barely move.
  const dead = d.nodes[10].id;
  const next = mutateGraph(same, { unreachable: [dead], join: 2, view: 6, seed: 4 });
  const v = engine.setGraph(layoutInput(next));
  assert.equal(v.kept, 150);
  assert.ok(v.reheat > 0 && v.reheat <= MAX_REHEAT, `reheat ${v.reheat}`);
  while (!engine.settled) engine.tick();
  const after = engine.positions();
  let extent = 0;
  for (const [x, y] of where.values()) extent = Math.max(extent, Math.hypot(x, y));
  const moved: number[] = [];
  next.nodes.forEach((n, i) => {
    const w = where.get(n.id);
    if (w && n.id !== dead) moved.push(Math.hypot(after[2 * i] - w[0], after[2 * i + 1] - w[1]));
  });
  moved.sort((a, b) => a - b);
  const median = moved[moved.length >> 1];
  assert.ok(median < 0.1 * extent, `median move ${median.toFixed(1)} against a radius of ${extent.toFixed(0)}`);
});
