/**
 * The overlay graph in headless Chromium, through the graph lab page (synthetic overlays, see
 * graph-lab-server.ts): it draws, it tells screen readers what it shows, it is usable from the
 * keyboard and the pointer, and a new crawl does not move the nodes that were already there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { withContrast } from '../../src/web/graph/graph-colors.js';
import type { GraphData } from '../../src/web/graph/model.js';
import type { SyntheticOptions } from '../../src/web/graph/synthetic.js';
import { chromiumSkipReason, launchChromium } from './chromium.js';
import { type GraphLabServer, startGraphLab } from './graph-lab-server.js';

/** What the tests use of the lab page's window.graphLab (graph-lab.tsx; DOM types stay out of Node). */
interface LabWindow {
  graphLab: {
    prepare(o: SyntheticOptions): unknown;
    show(data?: GraphData): void;
    mutate(m: { unreachable?: string[]; join?: number; view?: number; shuffle?: boolean; seed?: number }): GraphData;
    data(): GraphData | null;
    api(): {
      positionOf(id: string): { x: number; y: number } | null;
      screenPositionOf(id: string): { x: number; y: number } | null;
      drawnVersion(): number;
      latestVersion(): number;
    } | null;
    selections: (string | null)[];
    stats: { frames: unknown[]; layouts: { version: number; settled: boolean }[] };
  };
  document: {
    querySelector(s: string): {
      width: number;
      height: number;
      clientWidth: number;
      clientHeight: number;
      getContext(t: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
    } | null;
  };
}

/** The DOM as seen from a page function's source (the Node build has no DOM types). */
interface DocWindow {
  document: { querySelector(s: string): { textContent: string | null } | null };
}

/** Waits until an element's text equals (or starts with) `want`. */
async function waitForText(page: Page, selector: string, want: string, how: 'equals' | 'startsWith' = 'equals'): Promise<void> {
  await page.waitForFunction(
    ([sel, text, mode]) => {
      const t = (globalThis as unknown as DocWindow).document.querySelector(sel)?.textContent ?? '';
      return mode === 'equals' ? t === text : t.startsWith(text);
    },
    [selector, want, how] as const,
    { timeout: 10_000 },
  );
}

const ANNOUNCER = '[data-testid="graph-announcer"]';
/** The interactive canvas (nodes, rings); the view links are on a layer under it. */
const NODE_LAYER = 'canvas.pc-graph__canvas';
const LINK_LAYER = 'canvas.pc-graph__links';
const SMALL: SyntheticOptions = { nodes: 30, view: 4, slices: 2, sliceSize: 6, unreachable: 0.1, unknown: 0.05, seed: 3 };
const skip = chromiumSkipReason();

describe('overlay graph in Chromium', { skip }, () => {
  let lab: GraphLabServer;
  let browser: Browser;
  before(async () => {
    lab = await startGraphLab();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await lab?.close();
  });

  /** A fresh page showing a synthetic overlay, once its first frame is drawn. */
  async function open(options: SyntheticOptions = SMALL, deviceScaleFactor = 1): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 }, deviceScaleFactor });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${lab.url}?wait&height=500`);
    await page.evaluate((o) => {
      const w = globalThis as unknown as LabWindow;
      w.graphLab.prepare(o);
      w.graphLab.show();
    }, options);
    await page.waitForFunction(() => (globalThis as unknown as LabWindow).graphLab.stats.frames.length > 0, null, { timeout: 30_000 });
    assert.deepEqual(errors, [], 'no errors in the page');
    return page;
  }

  async function settled(page: Page): Promise<void> {
    await page.waitForFunction(
      () => {
        const g = (globalThis as unknown as LabWindow).graphLab;
        const api = g.api();
        return !!api && api.drawnVersion() === api.latestVersion() && g.stats.layouts.some((l) => l.settled && l.version === api.latestVersion());
      },
      null,
      { timeout: 60_000, polling: 100 },
    );
  }

  /** A canvas's pixels as RGBA bytes, and its size in device pixels. */
  async function pixels(page: Page, selector: string): Promise<{ data: number[]; width: number; height: number }> {
    return page.evaluate((sel) => {
      const c = (globalThis as unknown as LabWindow).document.querySelector(sel);
      if (!c) throw new Error(`no ${sel}`);
      return { data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data), width: c.width, height: c.height };
    }, selector);
  }

  /** Pixels that are neither white nor transparent. */
  function ink(px: number[]): number {
    let count = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] < 240 || px[i + 1] < 240 || px[i + 2] < 240)) count++;
    return count;
  }

  test('draws the overlay, each ring in its slice colour, and names the picture for screen readers', async () => {
    const page = await open();
    await settled(page);
    const data = (await page.evaluate(() => (globalThis as unknown as LabWindow).graphLab.data())) as GraphData;
    const { data: px, width, height } = await pixels(page, NODE_LAYER);
    assert.ok(ink(px) > 0.005 * width * height, `only ${ink(px)} inked pixels of ${width * height} on the node layer`);
    // All view links are drawn once the layout is still (a small graph: in one frame).
    await page.waitForFunction(() => {
      const f = (globalThis as unknown as LabWindow).graphLab.stats.frames as { viewEdgesShown: number }[];
      const d = (globalThis as unknown as LabWindow).graphLab.data();
      return f.length > 0 && f[f.length - 1].viewEdgesShown === d?.viewEdges.length;
    });
    const links = await pixels(page, LINK_LAYER);
    assert.ok(ink(links.data) > 0.005 * width * height, `only ${ink(links.data)} inked pixels on the link layer`);
    // Ring links and members are drawn in the slice colour made dark enough for 3:1 on white.
    for (const slice of data.slices) {
      const hex = withContrast(slice.color);
      const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
      let hits = 0;
      for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 12) hits++;
      assert.ok(hits > 100, `slice ${slice.name} (${hex}): ${hits} pixels`);
    }
    const unreachable = data.nodes.filter((n) => n.state === 'unreachable').length;
    assert.ok(unreachable > 0, 'the fixture has unreachable nodes');
    const label = await page.getAttribute(NODE_LAYER, 'aria-label');
    assert.equal(label?.startsWith(`Overlay graph: ${data.nodes.length} nodes, ${unreachable} unreachable, ${data.slices.length} slices`), true, label ?? 'no label');
    assert.equal(await page.getAttribute(NODE_LAYER, 'role'), 'img');
    assert.equal(await page.getAttribute(NODE_LAYER, 'tabindex'), '0');
    await page.close();
  });

  test('keyboard: focus ring, ] and [ step through nodes, arrows, Escape clears; the live region follows', async () => {
    const page = await open();
    await settled(page);
    const data = (await page.evaluate(() => (globalThis as unknown as LabWindow).graphLab.data())) as GraphData;
    const byLabel = [...data.nodes].sort((a, b) => (a.label < b.label ? -1 : 1));
    const self = data.nodes.find((n) => n.self);
    assert.ok(self);
    const selections = () => page.evaluate(() => (globalThis as unknown as LabWindow).graphLab.selections.slice());
    const announced = () => page.locator(ANNOUNCER).textContent();

    await page.keyboard.press('Tab'); // the lab's checkbox
    await page.keyboard.press('Tab'); // the canvas
    assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { tagName: string } } }).document.activeElement.tagName), 'CANVAS');
    const outline = await page.$eval(NODE_LAYER, (c) => {
      const s = (globalThis as unknown as { getComputedStyle(e: unknown): { outlineStyle: string; outlineWidth: string } }).getComputedStyle(c);
      return `${s.outlineStyle} ${s.outlineWidth}`;
    });
    assert.equal(outline, 'solid 3px', 'a visible focus ring');
    assert.equal(await announced(), 'No node selected');

    await page.keyboard.press(']');
    assert.deepEqual(await selections(), [self.id], 'the first step lands on the serving node');
    await waitForText(page, ANNOUNCER, `Selected ${self.label} (this node): live`, 'startsWith');
    const at = byLabel.findIndex((n) => n.id === self.id);
    await page.keyboard.press(']');
    await page.keyboard.press(']');
    await page.keyboard.press('[');
    assert.deepEqual((await selections()).slice(1), [byLabel[at + 1].id, byLabel[at + 2].id, byLabel[at + 1].id]);
    await waitForText(page, ANNOUNCER, `Selected ${byLabel[at + 1].label}:`, 'startsWith');

    // An arrow moves to another node (the nearest that way, if any): some direction must have one.
    const before = (await selections()).length;
    for (const key of ['ArrowRight', 'ArrowLeft', 'ArrowUp', 'ArrowDown']) await page.keyboard.press(key);
    const moved = (await selections()).slice(before);
    assert.ok(moved.length > 0 && moved.every((id) => id !== null && data.nodes.some((n) => n.id === id)), `arrows selected ${moved}`);

    await page.keyboard.press('Escape');
    assert.equal((await selections()).at(-1), null);
    await waitForText(page, ANNOUNCER, 'No node selected');
    assert.equal(await page.getAttribute(ANNOUNCER, 'aria-live'), 'polite');

    // + zooms in around the centre (nodes spread out on screen), 0 fits again.
    const spread = () =>
      page.evaluate((ids) => {
        const api = (globalThis as unknown as LabWindow).graphLab.api();
        const p = ids.map((id) => api?.screenPositionOf(id) ?? { x: 0, y: 0 });
        return Math.max(...p.map((q) => q.x)) - Math.min(...p.map((q) => q.x));
      }, data.nodes.map((n) => n.id));
    const fitted = await spread();
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    assert.ok((await spread()) > fitted * 1.4, 'zoomed in');
    await page.keyboard.press('0');
    await page.waitForFunction(
      ([ids, w]) => {
        const api = (globalThis as unknown as LabWindow).graphLab.api();
        const xs = (ids as string[]).map((id) => api?.screenPositionOf(id)?.x ?? 0);
        return Math.abs(Math.max(...xs) - Math.min(...xs) - (w as number)) < 2;
      },
      [data.nodes.map((n) => n.id), fitted] as const,
    );
    await page.close();
  });

  test('pointer: hovering a node shows its tooltip, clicking selects it, clicking empty space clears', async () => {
    const page = await open();
    await settled(page);
    const data = (await page.evaluate(() => (globalThis as unknown as LabWindow).graphLab.data())) as GraphData;
    const target = data.nodes.find((n) => n.state === 'live' && !n.self && n.slice !== null);
    assert.ok(target);
    const box = await page.locator(NODE_LAYER).boundingBox();
    assert.ok(box);
    const at = await page.evaluate((id) => (globalThis as unknown as LabWindow).graphLab.api()?.screenPositionOf(id) ?? null, target.id);
    assert.ok(at);
    await page.mouse.move(box.x + at.x, box.y + at.y);
    const tooltip = page.locator('.pc-graph__tooltip');
    await tooltip.waitFor({ state: 'visible' });
    const text = await tooltip.textContent();
    assert.ok(text?.includes(target.label) && text.includes(target.id) && text.includes('live · slice '), text ?? '');
    await page.mouse.click(box.x + at.x, box.y + at.y);
    await waitForText(page, '[data-testid="selected"]', target.id);
    // A corner of the canvas is empty (the fit leaves a margin).
    await page.mouse.click(box.x + 3, box.y + box.height - 3);
    await waitForText(page, '[data-testid="selected"]', 'none');
    const selections = await page.evaluate(() => (globalThis as unknown as LabWindow).graphLab.selections.slice());
    assert.deepEqual(selections, [target.id, null]);
    await page.close();
  });

  test('a new crawl (one node dead, one joined, another order) leaves the other nodes where they were', async () => {
    const page = await open({ ...SMALL, nodes: 60, unreachable: 0 });
    await settled(page);
    const data = (await page.evaluate(() => (globalThis as unknown as LabWindow).graphLab.data())) as GraphData;
    const positions = (ids: string[]) =>
      page.evaluate((list) => {
        const api = (globalThis as unknown as LabWindow).graphLab.api();
        return list.map((id) => api?.positionOf(id) ?? null);
      }, ids);
    const ids = data.nodes.map((n) => n.id);
    const before = await positions(ids);
    const victim = data.nodes.find((n) => n.state === 'live' && !n.self && n.slice === null);
    assert.ok(victim);
    const next = await page.evaluate((id) => (globalThis as unknown as LabWindow).graphLab.mutate({ unreachable: [id], join: 1, view: 5, shuffle: true, seed: 5 }), victim.id);
    assert.notDeepEqual(next.nodes.map((n) => n.id).slice(0, ids.length), ids, 'the order changed');
    await settled(page);
    const label = await page.getAttribute(NODE_LAYER, 'aria-label');
    const unreachable = next.nodes.filter((n) => n.state === 'unreachable').length;
    assert.ok(label?.startsWith(`Overlay graph: ${ids.length + 1} nodes, ${unreachable} unreachable,`), label ?? '');
    const afterwards = await positions(ids);
    let extent = 0;
    for (const p of before) if (p) extent = Math.max(extent, Math.hypot(p.x, p.y));
    const moves = ids
      .map((id, i) => ({ id, d: Math.hypot((afterwards[i]?.x ?? NaN) - (before[i]?.x ?? NaN), (afterwards[i]?.y ?? NaN) - (before[i]?.y ?? NaN)) }))
      .filter((m) => m.id !== victim.id)
      .map((m) => m.d)
      .sort((a, b) => a - b);
    assert.ok(moves.every(Number.isFinite), 'every old node still has a position');
    const median = moves[moves.length >> 1];
    assert.ok(median < 0.1 * extent, `median move ${median.toFixed(1)} against a radius of ${extent.toFixed(0)}`);
    // The newcomer is placed near the nodes it links to, not somewhere random.
    const joined = next.nodes.find((n) => n.label === 'joined-0');
    assert.ok(joined);
    const [jp] = await positions([joined.id]);
    assert.ok(jp && Math.hypot(jp.x, jp.y) < extent * 1.2, 'the joined node is inside the picture');
    await page.close();
  });

  test('the canvas follows its container and the device pixel ratio', async () => {
    const page = await open(SMALL, 2);
    const size = async () =>
      page.evaluate(() => {
        const c = (globalThis as unknown as LabWindow).document.querySelector('canvas.pc-graph__canvas');
        return c ? { css: c.clientWidth, cssHeight: c.clientHeight, width: c.width, height: c.height } : null;
      });
    const s1 = await size();
    assert.ok(s1 && s1.width === 2 * s1.css && s1.height === 2 * s1.cssHeight && s1.cssHeight > 490, JSON.stringify(s1));
    await page.setViewportSize({ width: 600, height: 700 });
    await page.waitForFunction((w) => {
      const c = (globalThis as unknown as LabWindow).document.querySelector('canvas.pc-graph__canvas');
      return !!c && c.clientWidth < w && c.width === 2 * c.clientWidth;
    }, s1.css);
    await page.close();
  });
});
