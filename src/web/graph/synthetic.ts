/**
 * Synthetic overlays for the graph lab page, its tests and the dashboard benchmark: GraphData
 * shaped like a crawl (model.ts) of n nodes with random peer sampling views, a few slices whose
 * members form T-Man rings, and some unreachable or unknown nodes. Seeded, so runs compare.
 */
import { type GraphData, type GraphEdge, type GraphNode, type GraphSlice, type RingEdge, sliceColor } from './model.js';
import { seededRandom } from './random.js';

export interface SyntheticOptions {
  readonly nodes: number;
  /** Peer sampling view size (links each node's view adds). */
  readonly view?: number;
  readonly slices?: number;
  readonly sliceSize?: number;
  /** Fractions of nodes shown unreachable and unknown. */
  readonly unreachable?: number;
  readonly unknown?: number;
  readonly seed?: number;
}

/** `pc` and 32 base32 characters, like a real node id. */
function fakeId(random: () => number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let s = 'pc';
  for (let k = 0; k < 32; k++) s += alphabet[Math.floor(random() * 32)];
  return s;
}

export function syntheticGraph(o: SyntheticOptions): GraphData {
  const n = o.nodes;
  const random = seededRandom(o.seed ?? 1);
  const viewSize = Math.min(o.view ?? 20, Math.max(0, n - 1));
  const sliceCount = o.slices ?? 3;
  const sliceSize = Math.min(o.sliceSize ?? 12, Math.floor(n / Math.max(1, sliceCount)));
  const width = String(n - 1).length;

  const state: GraphNode['state'][] = [];
  for (let i = 0; i < n; i++) {
    const r = random();
    // Node 0 serves the dashboard: always live.
    state.push(i === 0 ? 'live' : r < (o.unreachable ?? 0) ? 'unreachable' : r < (o.unreachable ?? 0) + (o.unknown ?? 0) ? 'unknown' : 'live');
  }
  // Slices: disjoint sets of live nodes, in random order (a T-Man ring sorts by id, not by index).
  const sliceOf: (number | null)[] = new Array(n).fill(null);
  const slices: GraphSlice[] = [];
  const ringEdges: RingEdge[] = [];
  const pool = [...Array(n).keys()].filter((i) => state[i] === 'live');
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  for (let s = 0; s < sliceCount && (s + 1) * sliceSize <= pool.length && sliceSize >= 2; s++) {
    const members = pool.slice(s * sliceSize, (s + 1) * sliceSize);
    slices.push({ sliceId: (s + 1).toString(16).padStart(32, '0'), name: `slice-${String.fromCharCode(97 + (s % 26))}${s >= 26 ? s : ''}`, color: sliceColor(s) });
    for (let m = 0; m < members.length; m++) {
      sliceOf[members[m]] = s;
      ringEdges.push({ source: members[m], target: members[(m + 1) % members.length], slice: s });
    }
  }
  const nodes: GraphNode[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push({ id: fakeId(random), label: `node-${String(i).padStart(width, '0')}`, state: state[i], slice: sliceOf[i], self: i === 0 });
  }
  // Views: like model.ts, only live nodes' views give links; each undirected pair once.
  const viewEdges: GraphEdge[] = [];
  const seen = new Set<number>();
  for (let a = 0; a < n; a++) {
    if (state[a] !== 'live') continue;
    for (let k = 0; k < viewSize; k++) {
      const b = Math.floor(random() * n);
      if (b === a) continue;
      const key = a < b ? a * n + b : b * n + a;
      if (seen.has(key)) continue;
      seen.add(key);
      viewEdges.push({ source: a, target: b });
    }
  }
  return { nodes, viewEdges, ringEdges, slices };
}

export interface Mutation {
  /** Node ids to show unreachable (their own view links go, as in a crawl). */
  readonly unreachable?: readonly string[];
  /** New live nodes joining, each with `view` links to existing nodes. */
  readonly join?: number;
  readonly view?: number;
  /** Shuffle the node order (a new crawl lists nodes in another order). */
  readonly shuffle?: boolean;
  readonly seed?: number;
}

/** The next "crawl" of a graph: some nodes died, some joined, listed in another order. */
export function mutateGraph(data: GraphData, m: Mutation): GraphData {
  const random = seededRandom(m.seed ?? 7);
  const dead = new Set(m.unreachable ?? []);
  type Node = { -readonly [K in keyof GraphNode]: GraphNode[K] };
  const nodes: Node[] = data.nodes.map((n) => (dead.has(n.id) ? { ...n, state: 'unreachable', slice: null } : { ...n }));
  const pairs: [string, string][] = [];
  for (const e of data.viewEdges) {
    const a = nodes[e.source];
    const b = nodes[e.target];
    if (dead.has(a.id) && dead.has(b.id)) continue;
    // The crawl no longer has the dead node's view; keep links that others' views could give.
    if ((dead.has(a.id) || dead.has(b.id)) && random() < 0.5) continue;
    pairs.push([a.id, b.id]);
  }
  const rings: [string, string, number][] = data.ringEdges.filter((e) => !dead.has(data.nodes[e.source].id)).map((e) => [data.nodes[e.source].id, data.nodes[e.target].id, e.slice]);
  const old = nodes.length;
  for (let j = 0; j < (m.join ?? 0); j++) {
    const id = `pcjoined${m.seed ?? 7}x${j}`;
    nodes.push({ id, label: `joined-${j}`, state: 'live', slice: null, self: false });
    for (let k = 0; k < (m.view ?? 8); k++) pairs.push([id, nodes[Math.floor(random() * old)].id]);
  }
  if (m.shuffle) {
    for (let i = nodes.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [nodes[i], nodes[j]] = [nodes[j], nodes[i]];
    }
  }
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const seen = new Set<string>();
  const viewEdges: GraphEdge[] = [];
  for (const [a, b] of pairs) {
    const key = a < b ? `${a} ${b}` : `${b} ${a}`;
    if (a === b || seen.has(key)) continue;
    seen.add(key);
    viewEdges.push({ source: index.get(a) as number, target: index.get(b) as number });
  }
  const ringEdges: RingEdge[] = rings.map(([a, b, slice]) => ({ source: index.get(a) as number, target: index.get(b) as number, slice }));
  return { nodes, viewEdges, ringEdges, slices: data.slices };
}
