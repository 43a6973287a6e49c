/**
 * The force layout, without any DOM: d3-force's simulation over the overlay, fed by the layout
 * worker (layout-worker.ts) and tested in Node. Forces:
 *  - charge (many-body, Barnes–Hut; a coarser theta for big graphs),
 *  - links: the peer sampling view's links, a bounded subset per node for big graphs
 *    (link-subset.ts), plus every slice's ring links, stiffer,
 *  - rings (ring-force.ts): each slice's members pulled onto a circle in ring order, so a ring
 *    reads as a coloured cycle,
 *  - weak x/y pulls and a centring force, so unreachable or unknown nodes (no links of their own)
 *    stay in the picture.
 * The simulation cools (alpha decays) and stops; a new graph reheats it only as much as it
 * changed, so a crawl that finds the same overlay leaves the picture still.
 */
import { forceCenter, forceLink, forceManyBody, forceSimulation, forceX, forceY, type Simulation, type SimulationLinkDatum, type SimulationNodeDatum } from 'd3-force';
import { boundedLinks, drawOrder, idHash, layoutLinksPerNode, linkRank, rankOrder } from './link-subset.js';
import { type Body, placeNodes } from './positions.js';
import { seededRandom } from './random.js';
import { ringForce, ringsFromLinks } from './ring-force.js';

export interface LayoutGraph {
  readonly ids: readonly string[];
  /** View links as index pairs into ids. */
  readonly view: Uint32Array;
  /** Ring links as index pairs into ids (member → successor), and each one's slice. */
  readonly ring: Uint32Array;
  readonly ringSlice: Uint32Array;
}

export interface LayoutUpdate {
  /** View link indices in drawing order (see link-subset.ts drawOrder). */
  readonly drawOrder: Uint32Array;
  /** How many view links the layout uses. */
  readonly layoutLinks: number;
  /** Nodes that kept their position. */
  readonly kept: number;
  /** How much this change reheats the layout (alpha at least this; 0: no change, left still). */
  readonly reheat: number;
}

interface SimNode extends SimulationNodeDatum, Body {
  x: number;
  y: number;
  vx: number;
  vy: number;
}

interface SimLink extends SimulationLinkDatum<SimNode> {
  readonly ring: boolean;
}

export const ALPHA_MIN = 0.001;
/** Ticks from alpha 1 to ALPHA_MIN: d3's 300, fewer for big graphs (a tick costs more there). */
export function coolingTicks(nodeCount: number): number {
  return nodeCount > 2000 ? 200 : 300;
}
/** Most a crawl reheats a cooled layout: enough to fit joins in, not enough to reshuffle. */
export const MAX_REHEAT = 0.3;
const VIEW_DISTANCE = 30;
const RING_DISTANCE = 24;
const RING_STRENGTH = 0.7;

export class LayoutEngine {
  private readonly random: () => number;
  private readonly sim: Simulation<SimNode, SimLink>;
  private readonly links = forceLink<SimNode, SimLink>();
  private readonly charge = forceManyBody<SimNode>();
  private readonly rings = ringForce(RING_DISTANCE);
  private nodes: SimNode[] = [];
  private ids: readonly string[] = [];
  /** Layout links of the current graph by rank (link-subset.ts), to measure change. */
  private linkKeys = new Set<number>();
  private first = true;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
    this.links
      .distance((l) => (l.ring ? RING_DISTANCE : VIEW_DISTANCE))
      .strength((l) => (l.ring ? RING_STRENGTH : 1 / Math.max(1, Math.min(this.degree(l.source), this.degree(l.target)))));
    // d3's simulation starts a d3-timer of its own; stopped at once, ticks are driven by tick().
    this.sim = forceSimulation<SimNode, SimLink>([])
      .stop()
      .randomSource(seededRandom(seed ^ 0x5eed))
      .alphaMin(ALPHA_MIN)
      .force('charge', this.charge)
      .force('link', this.links)
      .force('rings', this.rings)
      .force('x', forceX<SimNode>(0).strength(0.03))
      .force('y', forceY<SimNode>(0).strength(0.03))
      .force('center', forceCenter<SimNode>(0, 0).strength(0.1));
  }

  private degreeOf: Uint32Array = new Uint32Array(0);
  private degree(end: string | number | SimNode): number {
    return typeof end === 'object' ? this.degreeOf[end.index ?? 0] : 1;
  }

  /** Replaces the graph, keeping positions by id, and reheats by how much it changed. */
  setGraph(graph: LayoutGraph): LayoutUpdate {
    const n = graph.ids.length;
    const previous = new Map<string, Body>();
    for (let i = 0; i < this.nodes.length; i++) previous.set(this.ids[i], this.nodes[i]);
    const { bodies, kept } = placeNodes(previous, graph.ids, [graph.view, graph.ring], this.random);

    const hashes = new Uint32Array(n);
    for (let i = 0; i < n; i++) hashes[i] = idHash(graph.ids[i]);
    const order = rankOrder(graph.view, hashes);
    const chosen = boundedLinks(graph.view, order, n, layoutLinksPerNode(n));

    const links: SimLink[] = [];
    // Links are compared by rank, a 31-bit hash of both ids: a rare collision only misjudges
    // how much to reheat by one link.
    const keys = new Set<number>();
    const add = (a: number, b: number, ring: boolean) => {
      links.push({ source: a, target: b, ring });
      keys.add(linkRank(hashes[a], hashes[b]));
    };
    for (const e of chosen) add(graph.view[2 * e], graph.view[2 * e + 1], false);
    for (let i = 0; i < graph.ring.length; i += 2) add(graph.ring[i], graph.ring[i + 1], true);

    let changedLinks = 0;
    for (const k of keys) if (!this.linkKeys.has(k)) changedLinks++;
    for (const k of this.linkKeys) if (!keys.has(k)) changedLinks++;
    const removed = previous.size - kept;
    const change = (n - kept + removed) / Math.max(1, n) + changedLinks / Math.max(1, keys.size + this.linkKeys.size);

    this.degreeOf = new Uint32Array(n);
    for (const l of links) {
      this.degreeOf[l.source as number]++;
      this.degreeOf[l.target as number]++;
    }
    this.nodes = bodies as SimNode[];
    this.ids = graph.ids;
    this.linkKeys = keys;
    // Barnes–Hut: a coarser approximation for big graphs keeps a tick near 10 ms at 5000 nodes.
    this.charge.strength(-30).theta(n > 2000 ? 1.2 : 0.9);
    this.sim.alphaDecay(1 - ALPHA_MIN ** (1 / coolingTicks(n)));
    // Links first emptied: sim.nodes() re-initialises every force, and the old links' ends must
    // not be looked up among the new nodes.
    this.links.links([]);
    this.sim.nodes(this.nodes);
    this.links.links(links);
    this.rings.rings(ringsFromLinks(graph.ring, graph.ringSlice));

    let reheat = 0;
    if (this.first) reheat = 1;
    else if (change > 0) reheat = Math.min(MAX_REHEAT, 0.02 + change);
    this.first = n === 0;
    if (reheat > this.sim.alpha()) this.sim.alpha(reheat);
    return { drawOrder: drawOrder(order, chosen), layoutLinks: chosen.length, kept, reheat };
  }

  /** Runs one step of the simulation (nothing once settled). */
  tick(): void {
    if (!this.settled) this.sim.tick();
  }

  get alpha(): number {
    return this.sim.alpha();
  }

  get settled(): boolean {
    return this.sim.alpha() < ALPHA_MIN || this.nodes.length === 0;
  }

  get size(): number {
    return this.nodes.length;
  }

  /** Positions as [x0, y0, x1, y1, ...] in the order of the last graph's ids (a fresh array). */
  positions(): Float32Array {
    const xy = new Float32Array(2 * this.nodes.length);
    for (let i = 0; i < this.nodes.length; i++) {
      xy[2 * i] = this.nodes[i].x;
      xy[2 * i + 1] = this.nodes[i].y;
    }
    return xy;
  }
}
