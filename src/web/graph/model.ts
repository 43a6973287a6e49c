/**
 * From a crawled overlay (GET /v1/overlay) to what the graph draws: nodes, the peer sampling
 * view's links (undirected, each pair once) and every slice's ring links (member → successor),
 * each slice with a colour. Pure, so it is tested in Node (test/web/graph-model.test.ts).
 */
import type { OverlayReport } from '../../monitoring/overlay-crawler.js';
import { withContrast } from './graph-colors.js';

export type NodeState = 'live' | 'unreachable' | 'unknown';

export interface GraphNode {
  readonly id: string;
  readonly label: string;
  readonly state: NodeState;
  /** Index into GraphData.slices, or null outside any slice. */
  readonly slice: number | null;
  /** The node serving this dashboard. */
  readonly self: boolean;
}

/** Indices into GraphData.nodes. */
export interface GraphEdge {
  readonly source: number;
  readonly target: number;
}

export interface RingEdge extends GraphEdge {
  readonly slice: number;
}

export interface GraphSlice {
  readonly sliceId: string;
  readonly name: string;
  readonly color: string;
}

export interface GraphData {
  readonly nodes: readonly GraphNode[];
  readonly viewEdges: readonly GraphEdge[];
  readonly ringEdges: readonly RingEdge[];
  readonly slices: readonly GraphSlice[];
}

/**
 * Okabe–Ito's colour-blind-safe palette (minus black and yellow, which vanish on one background
 * or the other), then further hues for clouds with many slices (golden-angle steps). Every colour
 * is darkened where needed to 3:1 contrast on the page's white (WCAG's minimum for graphics):
 * several of Okabe–Ito's are lighter than that.
 */
export const SLICE_COLORS = ['#e69f00', '#56b4e9', '#009e73', '#d55e00', '#cc79a7', '#0072b2', '#8c6d31', '#7570b3', '#66a61e', '#e7298a'];

export function sliceColor(index: number): string {
  return withContrast(index < SLICE_COLORS.length ? SLICE_COLORS[index] : `hsl(${Math.round((index * 137.508) % 360)}, 65%, 40%)`);
}

export function graphFromOverlay(report: OverlayReport): GraphData {
  const index = new Map<string, number>();
  const nodes: GraphNode[] = [];
  const sliceIndex = new Map<string, number>();
  const slices: GraphSlice[] = [];
  // Slices in a stable order (by id), so a slice keeps its colour from one crawl to the next.
  const sliceRefs = new Map<string, string>();
  for (const n of report.nodes) if (n.state === 'live' && n.snapshot?.slice) sliceRefs.set(n.snapshot.slice.sliceId, n.snapshot.slice.name);
  for (const [sliceId, name] of [...sliceRefs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    sliceIndex.set(sliceId, slices.length);
    slices.push({ sliceId, name, color: sliceColor(slices.length) });
  }
  for (const n of report.nodes) {
    index.set(n.id, nodes.length);
    const s = n.state === 'live' && n.snapshot?.slice ? (sliceIndex.get(n.snapshot.slice.sliceId) ?? null) : null;
    nodes.push({ id: n.id, label: n.snapshot?.name || n.id.slice(0, 8), state: n.state, slice: s, self: n.id === report.self });
  }
  const viewEdges: GraphEdge[] = [];
  // Pairs as one number (not a string key): this loop sees every view entry of every node, ~10^5 at 5000 nodes.
  const seen = new Set<number>();
  const count = nodes.length;
  const ringEdges: RingEdge[] = [];
  for (const n of report.nodes) {
    if (n.state !== 'live' || !n.snapshot) continue;
    const a = index.get(n.id) as number;
    for (const v of n.snapshot.view) {
      const b = index.get(v.id);
      if (b === undefined || b === a) continue;
      const key = a < b ? a * count + b : b * count + a;
      if (seen.has(key)) continue;
      seen.add(key);
      viewEdges.push({ source: a, target: b });
    }
    const slice = nodes[a].slice;
    const succ = n.snapshot.ring.successor;
    if (slice !== null && succ !== null) {
      const b = index.get(succ);
      if (b !== undefined && b !== a) ringEdges.push({ source: a, target: b, slice });
    }
  }
  return { nodes, viewEdges, ringEdges, slices };
}
