/**
 * Where each node starts when the graph changes. The dashboard gets a new crawl every couple of
 * seconds, listing nodes in whatever order the crawl found them: positions are kept by node id
 * (with their velocities, so a running layout does not jolt), and a node seen for the first time
 * is put next to a neighbour that already has a place, so a join shows up where it belongs
 * instead of flying in from the middle. Nodes with no placed neighbour (a new island), and all new
 * nodes when they outnumber the placed ones (the first crawls), are laid on d3's phyllotaxis
 * spiral, the start d3-force itself uses.
 */

export interface Body {
  x: number;
  y: number;
  vx: number;
  vy: number;
}

export interface Placement {
  readonly bodies: Body[];
  /** How many nodes kept an earlier position. */
  readonly kept: number;
}

const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));

/** d3-force's initial spiral: point i of a sunflower of radius 10·√(i + ½). */
export function phyllotaxis(i: number, cx = 0, cy = 0): { x: number; y: number } {
  const r = 10 * Math.sqrt(0.5 + i);
  const a = i * GOLDEN_ANGLE;
  return { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) };
}

/** Neighbour lists (compressed sparse rows) of an undirected graph given as index pairs. */
export function adjacency(nodeCount: number, pairLists: readonly Uint32Array[]): { start: Uint32Array; list: Uint32Array } {
  const start = new Uint32Array(nodeCount + 1);
  for (const pairs of pairLists) for (let i = 0; i < pairs.length; i++) start[pairs[i] + 1]++;
  for (let i = 0; i < nodeCount; i++) start[i + 1] += start[i];
  const fill = start.slice(0, nodeCount);
  const list = new Uint32Array(start[nodeCount]);
  for (const pairs of pairLists) {
    for (let i = 0; i < pairs.length; i += 2) {
      list[fill[pairs[i]]++] = pairs[i + 1];
      list[fill[pairs[i + 1]]++] = pairs[i];
    }
  }
  return { start, list };
}

/**
 * Bodies for `ids`, in that order: earlier positions by id, new nodes near a placed neighbour
 * (breadth first, so a chain of new nodes grows out of the old picture), the rest on a spiral
 * around the centre of what is already placed. `spread` is how far from its neighbour a new node
 * lands (a random point within that radius: two joins next to the same node must not coincide).
 */
export function placeNodes(
  previous: ReadonlyMap<string, Body>,
  ids: readonly string[],
  links: readonly Uint32Array[],
  random: () => number,
  spread = 12,
): Placement {
  const n = ids.length;
  const bodies: Body[] = new Array(n);
  const placed = new Uint8Array(n);
  const queue = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  let kept = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    const p = previous.get(ids[i]);
    if (p && Number.isFinite(p.x) && Number.isFinite(p.y)) {
      bodies[i] = { x: p.x, y: p.y, vx: Number.isFinite(p.vx) ? p.vx : 0, vy: Number.isFinite(p.vy) ? p.vy : 0 };
      placed[i] = 1;
      queue[tail++] = i;
      kept++;
      sx += p.x;
      sy += p.y;
    }
  }
  if (kept === n) return { bodies, kept };
  const { start, list } = adjacency(n, links);
  const cx = kept > 0 ? sx / kept : 0;
  const cy = kept > 0 ? sy / kept : 0;
  // Spiral slots for seeds of new islands start outside the placed nodes, so a new component
  // does not land on top of the old picture's centre.
  let spiral = kept;
  const grow = () => {
    while (head < tail) {
      const from = bodies[queue[head++]];
      const v = queue[head - 1];
      for (let j = start[v]; j < start[v + 1]; j++) {
        const w = list[j];
        if (placed[w]) continue;
        const r = spread * Math.sqrt(random());
        const a = 2 * Math.PI * random();
        bodies[w] = { x: from.x + r * Math.cos(a), y: from.y + r * Math.sin(a), vx: 0, vy: 0 };
        placed[w] = 1;
        queue[tail++] = w;
      }
    }
  };
  // When most nodes are new (the first crawls), growing them out of a few placed ones would pack
  // thousands of nodes into a tiny blob that the charge force then blows apart: spiral instead.
  const nearNeighbours = n - kept <= kept;
  if (nearNeighbours) grow();
  for (let i = 0; i < n; i++) {
    if (placed[i]) continue;
    const p = phyllotaxis(spiral++, cx, cy);
    bodies[i] = { x: p.x, y: p.y, vx: 0, vy: 0 };
    placed[i] = 1;
    queue[tail++] = i;
    if (nearNeighbours) grow();
  }
  return { bodies, kept };
}
