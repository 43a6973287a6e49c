import type { OverlaySnapshot } from './overlay-snapshot.js';

export interface Components {
  /** Connected components among live nodes (an isolated live node is a component of its own). */
  count: number;
  /** Nodes in the largest component. */
  largest: number;
}

/**
 * Connected components of the undirected overlay (edge u–v if u→v or v→u) by union-find with union
 * by size and path halving: near-linear in the number of edges, one pass over the views, and no
 * in-edge lists needed, so it is cheap enough to run every cycle at 10^6 nodes.
 */
export class ComponentFinder {
  private parent = new Int32Array(0);
  private size = new Int32Array(0);

  find(snapshot: OverlaySnapshot): Components {
    const n = snapshot.handles;
    if (this.parent.length < n) {
      this.parent = new Int32Array(n);
      this.size = new Int32Array(n);
    }
    const parent = this.parent;
    const size = this.size;
    const live = snapshot.live;
    const liveCount = snapshot.liveCount;
    for (let k = 0; k < liveCount; k++) {
      const v = live[k];
      parent[v] = v;
      size[v] = 1;
    }
    const { ids, sizes, c } = snapshot.views;
    const alive = snapshot.alive;
    let components = liveCount;
    for (let k = 0; k < liveCount; k++) {
      const v = live[k];
      const base = v * c;
      const deg = sizes[v];
      // v's root is found once per node and kept current across its edges: half the finds.
      let a = findRoot(parent, v);
      for (let i = 0; i < deg; i++) {
        const w = ids[base + i];
        if (w < 0 || w >= n || alive[w] !== 1) continue;
        const b = findRoot(parent, w);
        if (a === b) continue;
        if (size[a] < size[b]) {
          parent[a] = b;
          size[b] += size[a];
          a = b;
        } else {
          parent[b] = a;
          size[a] += size[b];
        }
        components--;
      }
    }
    let largest = 0;
    for (let k = 0; k < liveCount; k++) {
      const v = live[k];
      if (parent[v] === v && size[v] > largest) largest = size[v];
    }
    return { count: components, largest };
  }
}

/**
 * Root of x's tree, with path halving. Once the giant component has formed almost every node hangs
 * directly under its root; skipping the (no-op) write in that case keeps those cache lines clean,
 * which matters when the parent array does not fit in cache (10^6 nodes).
 */
function findRoot(parent: Int32Array, x: number): number {
  for (;;) {
    const p = parent[x];
    if (p === x) return x;
    const g = parent[p];
    if (g === p) return p;
    parent[x] = g;
    x = g;
  }
}
