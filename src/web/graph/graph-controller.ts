/**
 * The imperative half of OverlayGraph: owns the canvas, the layout worker, the zoom/pan
 * transform and the animation loop, so that nothing per node goes through Preact's virtual DOM.
 * The component feeds it props (setData, setSelected, setShowViewEdges) and renders the few
 * HTML bits around the canvas (toolbar, tooltip, live region) from its callbacks.
 *
 * Frames are drawn with requestAnimationFrame, only when something changed: new positions,
 * a zoom or pan, hover or selection (the node layer only), a resize, an unreachable node still
 * fading, or view links still to add once the layout is still (renderer.ts).
 */
import { COLORS, FADE_FLOOR, FADE_MS, fadeOpacity, withContrast } from './graph-colors.js';
import { describeNode } from './graph-summary.js';
import { cycle, labelOrder, nearestInDirection } from './keyboard-nav.js';
import type { FromWorker, GraphMessage, PositionsMessage } from './layout-protocol.js';
import type { GraphData } from './model.js';
import { drawNodeLayer, drawViewLinks, nodeRadius, type Scene, toDevice } from './renderer.js';
import { approach, ensureVisible, fitTransform, IDENTITY, panBy, toScreen, toWorld, type Transform, zoomAround } from './viewport.js';

export interface HoverInfo {
  readonly id: string;
  readonly lines: readonly string[];
  /** Where to show the tooltip, in CSS pixels from the canvas's top left. */
  readonly x: number;
  readonly y: number;
}

export interface GraphStatus {
  /** View links drawn per frame and in all (drawn < total: a subset, for the frame budget). */
  readonly drawnViewLinks: number;
  readonly totalViewLinks: number;
  readonly layout: 'idle' | 'running' | 'settled';
}

export interface FrameStats {
  /** performance.now() at the start of the frame, and the drawing's own time (ms). */
  readonly at: number;
  readonly drawMs: number;
  readonly version: number;
  readonly nodes: number;
  /** View links stroked in this frame, and on screen after it. */
  readonly viewEdgesDrawn: number;
  readonly viewEdgesShown: number;
}

export interface LayoutStats {
  readonly at: number;
  readonly version: number;
  readonly alpha: number;
  readonly settled: boolean;
  readonly ticks: number;
  readonly tickMs: number;
  /** With a new graph's first positions: how many view links the layout pulls on. */
  readonly layoutLinks?: number;
}

/** Read access for tests and benchmarks (the graph lab page). */
export interface GraphProbeApi {
  /** Layout coordinates of a node as last drawn, or null. */
  positionOf(id: string): { x: number; y: number } | null;
  /** Where a node is on the canvas, in CSS pixels from its top left, or null. */
  screenPositionOf(id: string): { x: number; y: number } | null;
  /** The graph version on screen and the last one given. */
  drawnVersion(): number;
  latestVersion(): number;
}

/** Optional instrumentation (benchmarks, tests); the dashboard passes none. */
export interface GraphProbe {
  frame?(stats: FrameStats): void;
  layout?(stats: LayoutStats): void;
  attach?(api: GraphProbeApi): void;
}

export interface ControllerCallbacks {
  onSelect(id: string | null): void;
  onHover(hover: HoverInfo | null): void;
  onStatus(status: GraphStatus): void;
  onError(message: string): void;
  readonly probe?: GraphProbe;
}

/**
 * The view link budget adapts to two measures: the drawing's own time (JS, target DRAW_TARGET_MS)
 * and the frame's real length, from one animation frame to the next, which includes rasterising
 * the canvas: without a GPU that is where the cost of many links goes (a 20 000-link stroke takes
 * ~100 ms of software raster, invisible to the JS timer).
 */
const DRAW_TARGET_MS = 8;
const FRAME_MS = 1000 / 60;
const FIRST_VIEW_BUDGET = 800;
const MIN_VIEW_BUDGET = 200;
const ZOOM_STEP = 1.25;

/** A slice's colour made readable on white; the neutral node colour if it is not a colour at all. */
function sliceStroke(color: string): string {
  try {
    return withContrast(color);
  } catch {
    return COLORS.live;
  }
}

export class GraphController {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly linkCtx: CanvasRenderingContext2D;
  private readonly worker: Worker;
  private readonly resize: ResizeObserver;
  /** Fires when the device pixel ratio changes (browser zoom, another screen): no resize then. */
  private dprQuery: MediaQueryList | null = null;
  private scene: Scene | null = null;
  /** The newest graph, sent to the worker and waiting for its first positions. */
  private pending: Omit<Scene, 'xy' | 'drawOrder'> | null = null;
  private version = 0;
  private transform: Transform = IDENTITY;
  /** Keep fitting the whole graph as the layout moves, until the user zooms or pans. */
  private follow = true;
  private width = 0;
  private height = 0;
  private dpr = 1;
  private raf = 0;
  /** What the next frame must redraw: the link layer (and so the node layer) or the node layer. */
  private linksDirty = true;
  private nodesDirty = true;
  /** View links on the link layer so far (drawOrder[0, linkProgress)). */
  private linkProgress = 0;
  /** Positions in device pixels for the current frame (reused). */
  private device: Float32Array = new Float32Array(0);
  private fadeTimer: ReturnType<typeof setTimeout> | null = null;
  private hovered = -1;
  private selectedId: string | null = null;
  private showViewEdges = true;
  private viewBudget = FIRST_VIEW_BUDGET;
  private layoutState: GraphStatus['layout'] = 'idle';
  private lastStatus = '';
  private order: number[] | null = null;
  private readonly unreachableSince = new Map<string, number>();
  private drag: { id: number; x: number; y: number; moved: boolean } | null = null;
  /** A frame-length measurement is pending (see measureFrame). */
  private frameProbe = false;
  private disposed = false;

  /**
   * `canvas` is the node layer (interactive, on top), `linkCanvas` the link layer under it, both
   * the same size; `container` is watched for resizes.
   */
  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly linkCanvas: HTMLCanvasElement,
    container: HTMLElement,
    private readonly cb: ControllerCallbacks,
    workerUrl: string | URL = new URL('./layout-worker.js', import.meta.url),
  ) {
    const ctx = canvas.getContext('2d');
    const linkCtx = linkCanvas.getContext('2d', { alpha: false });
    if (!ctx || !linkCtx) throw new Error('this browser has no 2D canvas');
    this.ctx = ctx;
    this.linkCtx = linkCtx;
    this.worker = new Worker(workerUrl, { type: 'module', name: 'overlay-layout' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.onWorker(e.data);
    this.worker.onerror = (e) => this.cb.onError(`layout worker failed: ${e.message || 'could not load'}`);
    this.resize = new ResizeObserver(() => this.measure());
    this.resize.observe(container);
    this.measure();
    canvas.addEventListener('wheel', this.onWheel, { passive: false });
    canvas.addEventListener('pointerdown', this.onPointerDown);
    canvas.addEventListener('pointermove', this.onPointerMove);
    canvas.addEventListener('pointerup', this.onPointerUp);
    canvas.addEventListener('pointercancel', this.onPointerCancel);
    canvas.addEventListener('pointerleave', this.onPointerLeave);
    cb.probe?.attach?.({
      positionOf: (id) => {
        const i = this.scene?.indexById.get(id);
        return i === undefined || !this.scene ? null : { x: this.scene.xy[2 * i], y: this.scene.xy[2 * i + 1] };
      },
      screenPositionOf: (id) => {
        const i = this.scene?.indexById.get(id);
        return i === undefined || !this.scene ? null : toScreen(this.transform, this.scene.xy[2 * i], this.scene.xy[2 * i + 1]);
      },
      drawnVersion: () => this.scene?.version ?? 0,
      latestVersion: () => this.version,
    });
  }

  dispose(): void {
    this.disposed = true;
    this.worker.terminate();
    this.resize.disconnect();
    this.dprQuery?.removeEventListener('change', this.onDprChange);
    if (this.raf) cancelAnimationFrame(this.raf);
    if (this.fadeTimer) clearTimeout(this.fadeTimer);
    this.canvas.removeEventListener('wheel', this.onWheel);
    this.canvas.removeEventListener('pointerdown', this.onPointerDown);
    this.canvas.removeEventListener('pointermove', this.onPointerMove);
    this.canvas.removeEventListener('pointerup', this.onPointerUp);
    this.canvas.removeEventListener('pointercancel', this.onPointerCancel);
    this.canvas.removeEventListener('pointerleave', this.onPointerLeave);
  }

  /** A new crawl: sent to the worker; drawn once the worker placed it (a few ms). */
  setData(data: GraphData): void {
    const version = ++this.version;
    const n = data.nodes.length;
    const view = new Uint32Array(2 * data.viewEdges.length);
    for (let i = 0; i < data.viewEdges.length; i++) {
      view[2 * i] = data.viewEdges[i].source;
      view[2 * i + 1] = data.viewEdges[i].target;
    }
    const ring = new Uint32Array(2 * data.ringEdges.length);
    const ringSlice = new Uint32Array(data.ringEdges.length);
    for (let i = 0; i < data.ringEdges.length; i++) {
      ring[2 * i] = data.ringEdges[i].source;
      ring[2 * i + 1] = data.ringEdges[i].target;
      ringSlice[i] = data.ringEdges[i].slice;
    }
    const indexById = new Map<string, number>();
    const ids: string[] = new Array(n);
    const now = performance.now();
    const stillUnreachable = new Set<string>();
    for (let i = 0; i < n; i++) {
      const node = data.nodes[i];
      ids[i] = node.id;
      indexById.set(node.id, i);
      if (node.state === 'unreachable') {
        stillUnreachable.add(node.id);
        if (!this.unreachableSince.has(node.id)) this.unreachableSince.set(node.id, this.scene ? now : now - FADE_MS);
      }
    }
    for (const id of this.unreachableSince.keys()) if (!stillUnreachable.has(id)) this.unreachableSince.delete(id);
    this.pending = { version, data, view, ring, ringSlice, indexById, sliceColors: data.slices.map((s) => sliceStroke(s.color)) };
    // The view links go by copy (the scene keeps them for drawing); ids are cloned.
    const msg: GraphMessage = { type: 'graph', version, ids, view: view.slice(), ring: ring.slice(), ringSlice: ringSlice.slice() };
    this.worker.postMessage(msg, [msg.view.buffer, msg.ring.buffer, msg.ringSlice.buffer]);
  }

  setSelected(id: string | null): void {
    if (id === this.selectedId) return;
    this.selectedId = id;
    const moved = this.keepSelectedVisible();
    this.requestDraw(!moved);
  }

  setShowViewEdges(show: boolean): void {
    this.showViewEdges = show;
    this.emitStatus();
    this.requestDraw();
  }

  /** Fits the whole graph and keeps fitting it while the layout moves. */
  fit(): void {
    this.follow = true;
    this.requestDraw();
  }

  zoomBy(factor: number): void {
    this.follow = false;
    this.transform = zoomAround(this.transform, factor, this.width / 2, this.height / 2);
    this.requestDraw();
  }

  /** Keyboard commands on the focused canvas; true if the key was handled. */
  handleKey(key: string): boolean {
    const scene = this.scene;
    switch (key) {
      case '+':
      case '=':
        this.zoomBy(ZOOM_STEP);
        return true;
      case '-':
      case '_':
        this.zoomBy(1 / ZOOM_STEP);
        return true;
      case '0':
        this.fit();
        return true;
      case 'Escape':
        if (this.selectedId === null) return false;
        this.cb.onSelect(null);
        return true;
    }
    if (!scene) return false;
    const current = this.selectedId === null ? null : (scene.indexById.get(this.selectedId) ?? null);
    const start = scene.data.nodes.findIndex((n) => n.self);
    const step = (delta: number) => cycle((this.order ??= labelOrder(scene.data.nodes)), current, delta, start >= 0 ? start : null);
    const arrows: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    let next: number | null;
    if (key === ']') next = step(1);
    else if (key === '[') next = step(-1);
    else if (key === 'Home') next = (this.order ??= labelOrder(scene.data.nodes))[0] ?? null;
    else if (key === 'End') next = (this.order ??= labelOrder(scene.data.nodes)).at(-1) ?? null;
    else if (key in arrows) next = current === null ? step(1) : nearestInDirection(scene.xy, current, ...arrows[key]);
    else return false;
    // An arrow with no node that way keeps the selection (the key is still ours: no page scroll).
    if (next !== null && next !== current) this.cb.onSelect(scene.data.nodes[next].id);
    return true;
  }

  /** Pans to show the selected node if it is off screen; true if the view moved. */
  private keepSelectedVisible(): boolean {
    const i = this.selectedId === null ? undefined : this.scene?.indexById.get(this.selectedId);
    if (i === undefined || !this.scene) return false;
    const t = ensureVisible(this.transform, this.scene.xy[2 * i], this.scene.xy[2 * i + 1], this.width, this.height);
    if (t === this.transform) return false;
    this.follow = false;
    this.transform = t;
    return true;
  }

  private onWorker(msg: FromWorker): void {
    if (this.disposed) return;
    if (msg.type === 'error') {
      this.cb.onError(msg.message);
      return;
    }
    this.cb.probe?.layout?.({ at: performance.now(), version: msg.version, alpha: msg.alpha, settled: msg.settled, ticks: msg.ticks, tickMs: msg.tickMs, layoutLinks: msg.layoutLinks });
    if (this.pending && msg.version === this.pending.version) this.promote(msg);
    else if (this.scene && msg.version === this.scene.version) this.scene.xy = msg.xy;
    else return; // positions of a graph already replaced
    const state = msg.settled ? 'settled' : 'running';
    if (state !== this.layoutState) {
      this.layoutState = state;
      this.emitStatus();
    }
    this.requestDraw();
  }

  private promote(msg: PositionsMessage): void {
    const p = this.pending;
    if (!p || !msg.drawOrder) return;
    const hoveredId = this.scene && this.hovered >= 0 ? this.scene.data.nodes[this.hovered]?.id : undefined;
    this.scene = { ...p, xy: msg.xy, drawOrder: msg.drawOrder };
    this.pending = null;
    this.order = null;
    this.hovered = hoveredId === undefined ? -1 : (p.indexById.get(hoveredId) ?? -1);
    this.emitStatus();
  }

  private emitStatus(): void {
    const total = this.scene?.drawOrder.length ?? 0;
    // While the layout moves, a frame's worth of links; once still, all of them (a chunk a frame).
    const drawn = !this.showViewEdges ? 0 : this.layoutState === 'running' ? Math.min(total, Math.floor(this.viewBudget)) : total;
    const status: GraphStatus = { drawnViewLinks: drawn, totalViewLinks: total, layout: this.layoutState };
    const key = `${status.drawnViewLinks}/${status.totalViewLinks}/${status.layout}`;
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    this.cb.onStatus(status);
  }

  private measure(): void {
    // The drawing area inside the border (the bitmap must match it, or it is stretched).
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    if (width === this.width && height === this.height && dpr === this.dpr) return;
    if (dpr !== this.dpr || !this.dprQuery) {
      this.dprQuery?.removeEventListener('change', this.onDprChange);
      this.dprQuery = window.matchMedia(`(resolution: ${dpr}dppx)`);
      this.dprQuery.addEventListener('change', this.onDprChange);
    }
    this.width = width;
    this.height = height;
    this.dpr = dpr;
    for (const c of [this.canvas, this.linkCanvas]) {
      c.width = Math.max(1, Math.round(width * dpr));
      c.height = Math.max(1, Math.round(height * dpr));
    }
    this.requestDraw();
  }

  /** Asks for a frame redrawing both layers, or (nodesOnly) just the node layer. */
  private requestDraw(nodesOnly = false): void {
    if (!nodesOnly) this.linksDirty = true;
    this.nodesDirty = true;
    if (this.raf === 0 && !this.disposed) this.raf = requestAnimationFrame(this.frame);
  }

  private readonly fade = (i: number): number => {
    const since = this.scene ? this.unreachableSince.get(this.scene.data.nodes[i].id) : undefined;
    return since === undefined ? FADE_FLOOR : fadeOpacity(performance.now() - since);
  };

  private readonly frame = (frameStart: number): void => {
    this.raf = 0;
    const scene = this.scene;
    if (!scene || this.width === 0) return;
    const started = performance.now();
    let again = false;
    if (this.follow) {
      const target = fitTransform(scene.xy, this.width, this.height);
      const first = this.transform === IDENTITY;
      const next = first ? target : approach(this.transform, target, 0.3);
      const animating = Math.abs(next.k - target.k) > 1e-3 * target.k || Math.abs(next.x - target.x) > 0.5 || Math.abs(next.y - target.y) > 0.5;
      const t = animating ? next : target;
      if (t.k !== this.transform.k || t.x !== this.transform.x || t.y !== this.transform.y) {
        this.transform = t;
        this.linksDirty = this.nodesDirty = true;
      }
      again = animating;
    }
    const viewport = { transform: this.transform, width: this.width, height: this.height, dpr: this.dpr };
    const total = this.showViewEdges ? scene.drawOrder.length : 0;
    if (this.linksDirty) this.linkProgress = 0;
    let linksDrawn = 0;
    if (this.linksDirty || this.nodesDirty || this.linkProgress < total) this.device = toDevice(scene.xy, viewport, this.device);
    if (this.linksDirty || this.linkProgress < total) {
      const to = Math.min(total, this.linkProgress + Math.max(1, Math.floor(this.viewBudget)));
      drawViewLinks(this.linkCtx, scene, viewport, this.device, this.linkProgress, to);
      linksDrawn = to - this.linkProgress;
      this.linkProgress = to;
      // Further chunks only while the picture is still: moving, each frame starts afresh anyway.
      if (this.linkProgress < total && this.layoutState !== 'running') again = true;
    }
    this.linksDirty = false;
    if (this.nodesDirty) {
      const selected = this.selectedId === null ? -1 : (scene.indexById.get(this.selectedId) ?? -1);
      drawNodeLayer(this.ctx, scene, { ...viewport, hovered: this.hovered, selected, showViewEdges: this.showViewEdges, fade: this.fade }, this.device);
      this.nodesDirty = false;
    }
    const drawMs = performance.now() - started;
    if (linksDrawn > 0) this.measureFrame(frameStart, drawMs, linksDrawn, total);
    this.cb.probe?.frame?.({ at: started, drawMs, version: scene.version, nodes: scene.data.nodes.length, viewEdgesDrawn: linksDrawn, viewEdgesShown: this.linkProgress });
    if (again) {
      if (this.raf === 0 && !this.disposed) this.raf = requestAnimationFrame(this.frame);
    } else this.scheduleFade(started);
  };

  /**
   * Fewer view links when a frame takes too long, more when there is room: the mesh is context,
   * the nodes and rings must stay fluid. The frame's length is known at the start of the next
   * animation frame (a one-off callback, whether or not that frame draws).
   */
  private measureFrame(frameStart: number, drawMs: number, drawn: number, total: number): void {
    if (this.frameProbe) return;
    this.frameProbe = true;
    requestAnimationFrame((next) => {
      this.frameProbe = false;
      if (this.disposed || !this.showViewEdges) return;
      const frameMs = next - frameStart;
      const slow = drawMs > DRAW_TARGET_MS * 1.5 || frameMs > 1.8 * FRAME_MS;
      const room = drawMs < DRAW_TARGET_MS / 2 && frameMs < 1.3 * FRAME_MS;
      if (slow && this.viewBudget > MIN_VIEW_BUDGET) this.viewBudget = Math.max(MIN_VIEW_BUDGET, Math.floor(Math.min(this.viewBudget, drawn) * 0.6));
      else if (room && drawn >= this.viewBudget && this.viewBudget < total) this.viewBudget = Math.min(total, Math.ceil(this.viewBudget * 1.2));
      else return;
      this.emitStatus();
    });
  }

  /** While an unreachable node is still fading, redraw a few times a second. */
  private scheduleFade(now: number): void {
    if (this.fadeTimer !== null) return;
    let fading = false;
    for (const since of this.unreachableSince.values()) if (now - since < FADE_MS) fading = true;
    if (!fading) return;
    this.fadeTimer = setTimeout(() => {
      this.fadeTimer = null;
      this.requestDraw(true);
    }, 250);
  }

  private hitTest(sx: number, sy: number): number {
    const scene = this.scene;
    if (!scene) return -1;
    const w = toWorld(this.transform, sx, sy);
    // Hit radius: the node plus a few pixels, so small nodes stay easy to point at.
    const reach = (nodeRadius(scene.data.nodes.length, this.transform.k) + 4) / this.transform.k;
    let best = -1;
    let bestD = reach * reach;
    for (let i = 0; i < scene.data.nodes.length; i++) {
      const dx = scene.xy[2 * i] - w.x;
      const dy = scene.xy[2 * i + 1] - w.y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  private setHovered(i: number): void {
    if (i === this.hovered) return;
    this.hovered = i;
    const scene = this.scene;
    if (i < 0 || !scene) this.cb.onHover(null);
    else {
      const s = toScreen(this.transform, scene.xy[2 * i], scene.xy[2 * i + 1]);
      this.cb.onHover({ id: scene.data.nodes[i].id, lines: describeNode(scene.data, i), x: s.x, y: s.y });
    }
    this.requestDraw(true);
  }

  /** A pointer's position in the drawing area (inside the canvas's border). */
  private local(e: PointerEvent | WheelEvent): { x: number; y: number } {
    const rect = this.canvas.getBoundingClientRect();
    return { x: e.clientX - rect.left - this.canvas.clientLeft, y: e.clientY - rect.top - this.canvas.clientTop };
  }

  private readonly onDprChange = (): void => {
    if (!this.disposed) this.measure();
  };

  private readonly onWheel = (e: WheelEvent): void => {
    e.preventDefault();
    const p = this.local(e);
    // Pixel deltas from wheels and touchpads alike; lines and pages scaled to about pixels.
    const delta = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.height : 1);
    this.follow = false;
    this.transform = zoomAround(this.transform, Math.exp(-delta * 0.002), p.x, p.y);
    this.setHovered(-1);
    this.requestDraw();
  };

  private readonly onPointerDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    const p = this.local(e);
    this.drag = { id: e.pointerId, x: p.x, y: p.y, moved: false };
    this.canvas.setPointerCapture(e.pointerId);
  };

  private readonly onPointerMove = (e: PointerEvent): void => {
    const p = this.local(e);
    const d = this.drag;
    if (d && d.id === e.pointerId) {
      if (!d.moved && Math.hypot(p.x - d.x, p.y - d.y) < 4) return;
      d.moved = true;
      this.follow = false;
      this.transform = panBy(this.transform, p.x - d.x, p.y - d.y);
      d.x = p.x;
      d.y = p.y;
      this.setHovered(-1);
      this.requestDraw();
      return;
    }
    this.setHovered(this.hitTest(p.x, p.y));
  };

  private readonly onPointerUp = (e: PointerEvent): void => {
    const d = this.drag;
    if (!d || d.id !== e.pointerId) return;
    this.drag = null;
    if (d.moved || !this.scene) return;
    // A click (no drag): select the node under the pointer, or clear on empty space.
    const p = this.local(e);
    const i = this.hitTest(p.x, p.y);
    const id = i >= 0 ? this.scene.data.nodes[i].id : null;
    if (id !== this.selectedId) this.cb.onSelect(id);
  };

  private readonly onPointerCancel = (): void => {
    this.drag = null;
  };

  private readonly onPointerLeave = (): void => {
    if (!this.drag) this.setHovered(-1);
  };
}
