import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKGROUND, blend, COLORS, contrastRatio, FADE_FLOOR, FADE_MS, fadeOpacity, GRAPHIC_CONTRAST, parseColor, TEXT_CONTRAST, viewLinkAlpha, withAlpha, withContrast } from '../../src/web/graph/graph-colors.js';
import { announceSelection, ariaLabel, countGraph, describeNode } from '../../src/web/graph/graph-summary.js';
import { cycle, labelOrder, nearestInDirection } from '../../src/web/graph/keyboard-nav.js';
import { type GraphData, SLICE_COLORS, sliceColor } from '../../src/web/graph/model.js';
import { syntheticGraph } from '../../src/web/graph/synthetic.js';
import { approach, ensureVisible, fitTransform, toScreen, toWorld, zoomAround } from '../../src/web/graph/viewport.js';

const tiny: GraphData = {
  nodes: [
    { id: 'pc-c', label: 'carol', state: 'live', slice: 0, self: false },
    { id: 'pc-a', label: 'alice', state: 'live', slice: 0, self: true },
    { id: 'pc-b', label: 'bob', state: 'unreachable', slice: null, self: false },
    { id: 'pc-d', label: 'dave', state: 'unknown', slice: null, self: false },
  ],
  viewEdges: [
    { source: 0, target: 1 },
    { source: 1, target: 2 },
    { source: 1, target: 3 },
  ],
  ringEdges: [
    { source: 0, target: 1, slice: 0 },
    { source: 1, target: 0, slice: 0 },
  ],
  slices: [{ sliceId: 'f'.repeat(32), name: 'web', color: SLICE_COLORS[0] }],
};

test('contrast: WCAG ratios, and every slice colour is darkened to 3:1 on white', () => {
  assert.equal(contrastRatio('#000000', '#ffffff').toFixed(0), '21');
  assert.equal(contrastRatio('#ffffff', '#ffffff'), 1);
  assert.ok(Math.abs(contrastRatio('#767676', '#ffffff') - 4.54) < 0.01);
  assert.ok(contrastRatio(SLICE_COLORS[0], BACKGROUND) < 3, 'the palette has colours too light for white (why withContrast exists)');
  for (let i = 0; i < 40; i++) {
    const c = sliceColor(i);
    const fixed = withContrast(c);
    assert.match(fixed, /^#[0-9a-f]{6}$/);
    assert.ok(contrastRatio(fixed, BACKGROUND) >= GRAPHIC_CONTRAST, `${c} → ${fixed}`);
    if (contrastRatio(c, BACKGROUND) >= GRAPHIC_CONTRAST) assert.equal(fixed, withContrast(fixed), 'already fine: unchanged');
  }
  assert.equal(withContrast('#009e73'), '#009e73', 'a dark enough colour is left as it is');
  assert.ok(contrastRatio(withContrast('#ffffff', '#000000', 7), '#000000') >= 7, 'works on dark backgrounds too');
  assert.throws(() => withContrast('not a colour'), /not a colour/);
  // CSS Color 4 syntax (model.ts's sliceColor past ten slices) parses like the comma syntax.
  assert.equal(parseColor('hsl(120 100% 25%)').formatHex(), '#008000');
  assert.equal(parseColor('rgb(0 128 0 / 50%)').opacity, 0.5);
  assert.equal(parseColor('hsl(295.08000000000015 65% 50%)').formatHex(), parseColor('hsl(295.08, 65%, 50%)').formatHex());
});

test('contrast: node states, labels, links and the faded unreachable mark keep AA on white', () => {
  for (const key of ['live', 'unreachable', 'unknown', 'self', 'selected'] as const) assert.ok(contrastRatio(COLORS[key], BACKGROUND) >= GRAPHIC_CONTRAST, key);
  assert.ok(contrastRatio(COLORS.label, COLORS.labelHalo) >= TEXT_CONTRAST, 'labels on their halo');
  assert.ok(contrastRatio(blend(COLORS.unreachable, FADE_FLOOR), BACKGROUND) >= GRAPHIC_CONTRAST, 'a dead node faded to the floor still reads');
  assert.equal(fadeOpacity(0), 1);
  assert.ok(fadeOpacity(FADE_MS / 2) < 1 && fadeOpacity(FADE_MS / 2) > FADE_FLOOR);
  assert.equal(fadeOpacity(10 * FADE_MS), FADE_FLOOR);
  // Few view links are drawn dark enough to read; many are faint, their density shows.
  assert.ok(contrastRatio(blend(COLORS.viewLink, viewLinkAlpha(100)), BACKGROUND) >= GRAPHIC_CONTRAST);
  assert.ok(viewLinkAlpha(100_000) < viewLinkAlpha(1000));
  assert.equal(withAlpha('#ff0000', 0.5), 'rgba(255, 0, 0, 0.5)');
});

test('counts, the accessible name and the live region sentence', () => {
  const c = countGraph(tiny);
  assert.deepEqual(c, { nodes: 4, live: 2, unreachable: 1, unknown: 1, slices: 1, viewLinks: 3, ringLinks: 2 });
  assert.equal(ariaLabel(c), 'Overlay graph: 4 nodes, 1 unreachable, 1 slice (2 live, 1 unknown; 3 view links)');
  assert.equal(ariaLabel(countGraph({ nodes: [], viewEdges: [], ringEdges: [], slices: [] })), 'Overlay graph: no nodes yet');
  assert.equal(announceSelection(tiny, null), 'No node selected');
  assert.equal(announceSelection(tiny, 'pc-a'), 'Selected alice (this node): live, in slice web');
  assert.equal(announceSelection(tiny, 'pc-b'), 'Selected bob: unreachable');
  assert.equal(announceSelection(tiny, 'pc-zz'), 'Selected node pc-zz is no longer in the graph');
  assert.deepEqual(describeNode(tiny, 1), ['alice (this node)', 'live · slice web', '3 view links · ring → carol', 'pc-a']);
  assert.deepEqual(describeNode(tiny, 3), ['dave', 'unknown', '1 view link', 'pc-d']);
});

test('keyboard: ] and [ cycle by label from the serving node, wrapping around', () => {
  const order = labelOrder(tiny.nodes);
  assert.deepEqual(order.map((i) => tiny.nodes[i].label), ['alice', 'bob', 'carol', 'dave']);
  assert.equal(cycle(order, null, 1, 1), 1, 'nothing selected: the serving node');
  assert.equal(cycle(order, null, 1), order[0]);
  assert.equal(cycle(order, null, -1), order[3]);
  assert.equal(cycle(order, 1, 1), 2);
  assert.equal(cycle(order, 3, 1), 1, 'wraps forward');
  assert.equal(cycle(order, 1, -1), 3, 'wraps backward');
  assert.equal(cycle([], null, 1), null);
  // Same labels: the id breaks the tie, so the order is total and stable.
  const twins = labelOrder([
    { id: 'pc-2', label: 'x', state: 'live', slice: null, self: false },
    { id: 'pc-1', label: 'x', state: 'live', slice: null, self: false },
  ]);
  assert.deepEqual(twins, [1, 0]);
});

test('keyboard: arrows go to the nearest node in that direction, none when nothing is there', () => {
  // 0 at the origin; 1 right, 2 far right, 3 up (screen y grows downwards), 4 down-right at 45°.
  const xy = Float32Array.from([0, 0, 10, 1, 30, 0, 0, -20, 8, 8]);
  assert.equal(nearestInDirection(xy, 0, 1, 0), 1);
  assert.equal(nearestInDirection(xy, 0, 0, -1), 3);
  assert.equal(nearestInDirection(xy, 0, 0, 1), 4);
  assert.equal(nearestInDirection(xy, 0, -1, 0), null);
  assert.equal(nearestInDirection(xy, 1, -1, 0), 0);
});

test('viewport: fit, zoom around a point, round trips and keeping a node in view', () => {
  const xy = Float32Array.from([-100, -50, 100, 50, Number.NaN, Number.NaN]);
  const t = fitTransform(xy, 440, 240, 20);
  // 200 × 100 in (440 − 40) × (240 − 40): the width limits, k = 2, centred.
  assert.deepEqual(t, { k: 2, x: 220, y: 120 });
  assert.deepEqual(toScreen(t, -100, -50), { x: 20, y: 20 });
  assert.deepEqual(toWorld(t, 420, 220), { x: 100, y: 50 });
  assert.equal(fitTransform(Float32Array.from([5, 5]), 400, 300).k, 2, 'one node: not blown up');
  const z = zoomAround(t, 2, 20, 20);
  assert.equal(z.k, 4);
  assert.deepEqual(toScreen(z, -100, -50), { x: 20, y: 20 }, 'the point under the pointer stays put');
  assert.equal(zoomAround(t, 1e9, 0, 0).k, 8, 'zoom is bounded');
  const off = { k: 1, x: 0, y: 0 };
  assert.equal(ensureVisible(off, 100, 100, 400, 300), off, 'visible: unchanged');
  const moved = ensureVisible(off, 500, -50, 400, 300, 40);
  assert.deepEqual(toScreen(moved, 500, -50), { x: 360, y: 40 });
  assert.deepEqual(approach({ k: 1, x: 0, y: 0 }, { k: 3, x: 10, y: -10 }, 0.5), { k: 2, x: 5, y: -5 });
});

test('synthetic overlays look like crawls: ids, views, whole rings, states', () => {
  const d = syntheticGraph({ nodes: 500, view: 20, slices: 3, sliceSize: 10, unreachable: 0.05, unknown: 0.02, seed: 4 });
  assert.equal(d.nodes.length, 500);
  assert.equal(new Set(d.nodes.map((n) => n.id)).size, 500);
  assert.ok(d.nodes.every((n) => /^pc[a-z2-7]{32}$/.test(n.id)));
  assert.equal(d.nodes.filter((n) => n.self).length, 1);
  assert.equal(d.slices.length, 3);
  assert.equal(d.ringEdges.length, 30);
  for (let s = 0; s < 3; s++) {
    const succ = new Map(d.ringEdges.filter((e) => e.slice === s).map((e) => [e.source, e.target]));
    let at = succ.keys().next().value as number;
    for (let k = 0; k < 10; k++) at = succ.get(at) as number;
    assert.equal(at, succ.keys().next().value, `slice ${s} is one cycle of 10`);
  }
  const keys = new Set(d.viewEdges.map((e) => (e.source < e.target ? `${e.source}:${e.target}` : `${e.target}:${e.source}`)));
  assert.equal(keys.size, d.viewEdges.length, 'each pair once');
  assert.ok(d.viewEdges.length > 4000 && d.viewEdges.length <= 500 * 20);
  assert.deepEqual(syntheticGraph({ nodes: 50, seed: 2 }), syntheticGraph({ nodes: 50, seed: 2 }), 'seeded');
});
