import type { PeerHandle } from '../../core/handles.js';
import type { OverlaySnapshot, StampSet } from './overlay-snapshot.js';

/**
 * Local clustering coefficient (Watts & Strogatz 1998) on the undirected overlay: for a node v with
 * k distinct neighbours (peers in its view or peers holding it in theirs), the fraction of the
 * k(k-1)/2 neighbour pairs that are themselves linked. Nodes with fewer than two neighbours count
 * as 0, as in Jelasity et al.'s peer sampling study (TOCS 2007, §5) and the usual convention.
 *
 * The average is taken over a caller-given sample of nodes: every local coefficient costs about
 * k · c view reads, so 1000 nodes give a tight estimate at any network size.
 */
export class ClusteringEstimator {
  private neighbours = new Int32Array(0);

  /** Mean local clustering coefficient over nodes[0 .. count); the snapshot needs in-edges. */
  average(snapshot: OverlaySnapshot, stamps: StampSet, nodes: Int32Array, count: number): number {
    if (count === 0) return 0;
    let sum = 0;
    for (let i = 0; i < count; i++) sum += this.local(snapshot, stamps, nodes[i]);
    return sum / count;
  }

  local(snapshot: OverlaySnapshot, stamps: StampSet, v: PeerHandle): number {
    snapshot.requireInEdges();
    const { ids, sizes, c } = snapshot.views;
    const alive = snapshot.alive;
    const handles = snapshot.handles;
    const mark = stamps.reserve(handles);
    const need = c + snapshot.maxInDegree;
    if (this.neighbours.length < need) this.neighbours = new Int32Array(need);
    const nb = this.neighbours;
    const epoch = stamps.next();
    // The distinct undirected neighbours of v, marked so that membership is one array read.
    let k = 0;
    const vBase = v * c;
    for (let i = 0, n = sizes[v]; i < n; i++) {
      const w = ids[vBase + i];
      if (w < 0 || w >= handles || alive[w] !== 1 || w === v || mark[w] === epoch) continue;
      mark[w] = epoch;
      nb[k++] = w;
    }
    const inList = snapshot.inList;
    for (let j = snapshot.inStart[v], end = snapshot.inStart[v + 1]; j < end; j++) {
      const u = inList[j];
      if (mark[u] === epoch) continue;
      mark[u] = epoch;
      nb[k++] = u;
    }
    if (k < 2) return 0;
    // Undirected links among the neighbours: walk each neighbour's out-edges; a pair linked in both
    // directions is counted only from its smaller endpoint.
    let links = 0;
    for (let a = 0; a < k; a++) {
      const u = nb[a];
      const uBase = u * c;
      for (let i = 0, n = sizes[u]; i < n; i++) {
        const w = ids[uBase + i];
        if (w < 0 || w >= handles || mark[w] !== epoch || w === u) continue;
        if (u < w || !pointsAt(ids, w * c, sizes[w], u)) links++;
      }
    }
    return links / ((k * (k - 1)) / 2);
  }
}

function pointsAt(ids: Int32Array, base: number, n: number, target: PeerHandle): boolean {
  for (let i = 0; i < n; i++) if (ids[base + i] === target) return true;
  return false;
}
