/**
 * Draws the overlay on two stacked 2D canvases.
 *  - The link layer (behind): the faint view links, in the stable order of link-subset.ts, a
 *    chunk at a time: a chunk per frame while the layout moves, further chunks added on top in
 *    the following frames once it is still, until all are drawn. Stroking 20 000 links costs
 *    ~100 ms of raster without a GPU; a chunk is sized to fit a frame.
 *  - The node layer (front, transparent): the selected node's links, each slice's ring in its
 *    colour, nodes batched by style into paths of a few hundred shapes (not a path per node:
 *    5000 nodes in a few milliseconds of script), the marks of the serving, hovered and selected
 *    nodes, and labels. Hovering or selecting redraws only this layer.
 */
import { COLORS, viewLinkAlpha, withAlpha } from './graph-colors.js';
import type { GraphData } from './model.js';
import type { Transform } from './viewport.js';

/** A graph version with the positions the worker computed for it. */
export interface Scene {
  readonly version: number;
  readonly data: GraphData;
  /** View and ring links as index pairs; the slice of each ring link. */
  readonly view: Uint32Array;
  readonly ring: Uint32Array;
  readonly ringSlice: Uint32Array;
  /** View link indices in drawing order (from the worker). */
  readonly drawOrder: Uint32Array;
  /** Positions [x0, y0, ...] by node index, replaced as the layout moves. */
  xy: Float32Array;
  /** Slice colours, darkened for contrast (graph-colors.ts). */
  readonly sliceColors: readonly string[];
  readonly indexById: ReadonlyMap<string, number>;
}

export interface Viewport {
  readonly transform: Transform;
  /** Canvas size in CSS pixels, and device pixels per CSS pixel. */
  readonly width: number;
  readonly height: number;
  readonly dpr: number;
}

export interface NodeLayerOptions extends Viewport {
  /** Node indices, -1 for none. */
  readonly hovered: number;
  readonly selected: number;
  readonly showViewEdges: boolean;
  /** Opacity of each unreachable node (it fades after dying), by node index; others ignore it. */
  readonly fade: (index: number) => number;
}

/** Labels for every node below this many nodes; above, only hovered, selected and serving ones. */
export const ALL_LABELS_BELOW = 40;
/** Live nodes are drawn as small squares rather than circles when more than this many are on screen. */
export const SQUARE_NODES_ABOVE = 1500;

/** Node radius in CSS pixels for a graph of n nodes at zoom k. */
export function nodeRadius(n: number, k: number): number {
  const base = n > 2000 ? 2.5 : n > 300 ? 3.5 : 5;
  return base * Math.min(2.5, Math.max(1, Math.sqrt(k)));
}

/**
 * Positions in device pixels ([x0, y0, ...]) for the viewport, into `out` if it is big enough.
 * Everything is drawn with the identity transform in device pixels: under a scaling transform
 * Skia's software raster loses its fast paths for rectangles and thin lines (measured: 5000
 * squares went from one frame to three).
 */
export function toDevice(xy: Float32Array, o: Viewport, out?: Float32Array): Float32Array {
  const p = out && out.length >= xy.length ? out : new Float32Array(xy.length);
  const f = o.dpr * o.transform.k;
  const tx = o.dpr * o.transform.x;
  const ty = o.dpr * o.transform.y;
  for (let i = 0; i < xy.length; i += 2) {
    p[i] = xy[i] * f + tx;
    p[i + 1] = xy[i + 1] * f + ty;
  }
  return p;
}

/** Segments or shapes per path: small paths keep the scan converter's active edge lists short. */
const PATH_CHUNK = 256;

/**
 * Draws view links drawOrder[from, to) on the link layer, `p` being positions in device pixels
 * (toDevice); from = 0 starts afresh (white), later chunks are added over what is there.
 */
export function drawViewLinks(ctx: CanvasRenderingContext2D, scene: Scene, o: Viewport, p: Float32Array, from: number, to: number): void {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  if (from === 0) {
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  }
  const end = Math.min(to, scene.drawOrder.length);
  if (end <= from) return;
  ctx.strokeStyle = withAlpha(COLORS.viewLink, viewLinkAlpha(scene.drawOrder.length));
  ctx.lineWidth = 0.75 * o.dpr;
  for (let start = from; start < end; start += PATH_CHUNK) {
    ctx.beginPath();
    for (let i = start; i < Math.min(end, start + PATH_CHUNK); i++) {
      const e = scene.drawOrder[i];
      const a = 2 * scene.view[2 * e];
      const b = 2 * scene.view[2 * e + 1];
      ctx.moveTo(p[a], p[a + 1]);
      ctx.lineTo(p[b], p[b + 1]);
    }
    ctx.stroke();
  }
}

/** Draws the node layer (transparent where there is nothing); `p` as for drawViewLinks. */
export function drawNodeLayer(ctx: CanvasRenderingContext2D, scene: Scene, o: NodeLayerOptions, p: Float32Array): void {
  const { k } = o.transform;
  const { data } = scene;
  const n = data.nodes.length;
  const d = o.dpr;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';

  if (o.selected >= 0 && o.showViewEdges) {
    // The selected node's own view links, all of them, over the faint mesh.
    ctx.beginPath();
    for (let e = 0; e < scene.view.length; e += 2) {
      const s = scene.view[e];
      const t = scene.view[e + 1];
      if (s !== o.selected && t !== o.selected) continue;
      ctx.moveTo(p[2 * s], p[2 * s + 1]);
      ctx.lineTo(p[2 * t], p[2 * t + 1]);
    }
    ctx.strokeStyle = withAlpha(COLORS.selected, 0.75);
    ctx.lineWidth = 1.5 * d;
    ctx.stroke();
  }

  const r = nodeRadius(n, k) * d;
  const line = d;
  // Cull nodes outside the canvas (zoomed in on a big graph).
  const x1 = ctx.canvas.width + 2 * r;
  const y1 = ctx.canvas.height + 2 * r;
  const visible = (i: number) => p[2 * i] >= -2 * r && p[2 * i] <= x1 && p[2 * i + 1] >= -2 * r && p[2 * i + 1] <= y1;
  let shown = 0;
  for (let i = 0; i < n; i++) if (visible(i)) shown++;
  // Thousands of tiny circles cost tens of milliseconds of raster without a GPU (each arc is a
  // curved contour); squares of the same area are several times cheaper and look alike at 2-3 px.
  const squares = shown > SQUARE_NODES_ABOVE;
  const side = r * Math.sqrt(Math.PI);
  const fillNodes = (color: string, slice: number | null) => {
    ctx.fillStyle = color;
    let inPath = 0;
    ctx.beginPath();
    for (let i = 0; i < n; i++) {
      const node = data.nodes[i];
      if (node.state !== 'live' || node.slice !== slice || !visible(i)) continue;
      if (squares) ctx.rect(p[2 * i] - side / 2, p[2 * i + 1] - side / 2, side, side);
      else {
        ctx.moveTo(p[2 * i] + r, p[2 * i + 1]);
        ctx.arc(p[2 * i], p[2 * i + 1], r, 0, 2 * Math.PI);
      }
      if (++inPath === PATH_CHUNK) {
        ctx.fill();
        ctx.beginPath();
        inPath = 0;
      }
    }
    if (inPath > 0) ctx.fill();
  };

  // Nodes outside slices first, then the rings and their members on top: in a big graph the
  // rings would otherwise vanish under the crowd.
  fillNodes(COLORS.live, null);

  // Unknown nodes: hollow grey (shape, not only colour, tells them apart).
  ctx.beginPath();
  for (let i = 0; i < n; i++) {
    if (data.nodes[i].state !== 'unknown' || !visible(i)) continue;
    ctx.moveTo(p[2 * i] + r, p[2 * i + 1]);
    ctx.arc(p[2 * i], p[2 * i + 1], r, 0, 2 * Math.PI);
  }
  ctx.fillStyle = '#ffffff';
  ctx.fill();
  ctx.strokeStyle = COLORS.unknown;
  ctx.lineWidth = 1.5 * line;
  ctx.stroke();

  // Unreachable nodes: hollow red with a cross, fading after they die (few, drawn one by one).
  ctx.lineWidth = 1.75 * line;
  ctx.strokeStyle = COLORS.unreachable;
  for (let i = 0; i < n; i++) {
    if (data.nodes[i].state !== 'unreachable' || !visible(i)) continue;
    const x = p[2 * i];
    const y = p[2 * i + 1];
    const c = r * 0.7;
    ctx.globalAlpha = o.fade(i);
    ctx.beginPath();
    ctx.moveTo(x + r, y);
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = '#ffffff';
    ctx.fill();
    ctx.moveTo(x - c, y - c);
    ctx.lineTo(x + c, y + c);
    ctx.moveTo(x + c, y - c);
    ctx.lineTo(x - c, y + c);
    ctx.stroke();
  }
  ctx.globalAlpha = 1;

  // Rings: one path per slice, thick, in the slice's colour; then the slice's members.
  for (let s = 0; s < scene.sliceColors.length; s++) {
    ctx.beginPath();
    for (let e = 0; e < scene.ringSlice.length; e++) {
      if (scene.ringSlice[e] !== s) continue;
      const a = 2 * scene.ring[2 * e];
      const b = 2 * scene.ring[2 * e + 1];
      ctx.moveTo(p[a], p[a + 1]);
      ctx.lineTo(p[b], p[b + 1]);
    }
    ctx.strokeStyle = scene.sliceColors[s];
    ctx.lineWidth = 2.5 * d;
    ctx.stroke();
    fillNodes(scene.sliceColors[s], s);
  }

  const ringAround = (i: number, gap: number, width: number, color: string) => {
    ctx.beginPath();
    ctx.arc(p[2 * i], p[2 * i + 1], r + gap * d, 0, 2 * Math.PI);
    ctx.strokeStyle = color;
    ctx.lineWidth = width * d;
    ctx.stroke();
  };
  const labelled = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (!data.nodes[i].self) continue;
    ringAround(i, 2.5, 2, COLORS.self);
    labelled.add(i);
  }
  if (o.hovered >= 0 && o.hovered < n) {
    ringAround(o.hovered, 2.5, 2, COLORS.label);
    labelled.add(o.hovered);
  }
  if (o.selected >= 0 && o.selected < n) {
    ringAround(o.selected, 3, 3.5, COLORS.selected);
    labelled.add(o.selected);
  }
  if (n < ALL_LABELS_BELOW) for (let i = 0; i < n; i++) labelled.add(i);

  // Labels: dark text on a white halo (readable over links).
  ctx.font = `${12 * d}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  ctx.lineWidth = 3 * d;
  ctx.strokeStyle = COLORS.labelHalo;
  ctx.fillStyle = COLORS.label;
  for (const i of labelled) {
    if (!visible(i)) continue;
    const node = data.nodes[i];
    const sx = p[2 * i] + r + 4 * d;
    const sy = p[2 * i + 1];
    const text = node.self ? `${node.label} (this node)` : node.label;
    ctx.strokeText(text, sx, sy);
    ctx.fillText(text, sx, sy);
  }
}
