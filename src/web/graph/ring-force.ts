/**
 * A d3-force force that lays each slice's ring out as a circle, members in ring order, so a
 * slice reads as the cycle T-Man builds rather than a crumpled path inside the view's hairball.
 * Each tick, per ring: the members' centroid, a circle around it sized for the ring
 * (circumference = members · spacing), and the rotation that best matches where the members
 * already are; each member is moved part of the way to its slot. It moves positions rather than
 * adding velocity, and not in proportion to alpha: in a big overlay each member's view links pull
 * it far harder than any gentle force could, and the circle must win anyway (its centre still
 * goes where the rest of the layout puts the members). A ring that is not one whole cycle
 * (being repaired, or a member unreachable) only gets the radial pull: members spread on a circle
 * in whatever order, without pretending to an order that does not exist yet.
 */

/** The parts of a d3-force node this force reads and moves. */
export interface RingNode {
  x?: number;
  y?: number;
  vx?: number;
  vy?: number;
}

export interface Ring {
  /** Node indices in ring order (a whole cycle), or in any order when `ordered` is false. */
  readonly members: readonly number[];
  readonly ordered: boolean;
}

/**
 * Groups ring links ([source, target] index pairs, member → successor) by slice and finds each
 * slice's cycle. `ringSlice[e]` is link e's slice.
 */
export function ringsFromLinks(ring: Uint32Array, ringSlice?: Uint32Array): Ring[] {
  const bySlice = new Map<number, Map<number, number>>();
  for (let e = 0; e < ring.length >> 1; e++) {
    const s = ringSlice ? ringSlice[e] : 0;
    let succ = bySlice.get(s);
    if (!succ) bySlice.set(s, (succ = new Map()));
    succ.set(ring[2 * e], ring[2 * e + 1]);
  }
  const rings: Ring[] = [];
  for (const succ of bySlice.values()) {
    const members = new Set<number>();
    for (const [a, b] of succ) members.add(a).add(b);
    // One whole cycle: following successors from any member visits every member and returns.
    const first = succ.keys().next().value as number;
    const cycle: number[] = [first];
    let at = succ.get(first);
    while (at !== undefined && at !== first && cycle.length <= members.size) {
      cycle.push(at);
      at = succ.get(at);
    }
    const ordered = at === first && cycle.length === members.size;
    rings.push({ members: ordered ? cycle : [...members], ordered });
  }
  return rings;
}

/**
 * `spacing`: layout units between neighbouring members; `pull`: the fraction of the way to its
 * slot a member moves each tick.
 */
export function ringForce(spacing = 24, pull = 0.2) {
  let nodes: RingNode[] = [];
  let rings: Ring[] = [];
  const force = () => {
    for (const ring of rings) {
      const m = ring.members.length;
      if (m < 3) continue;
      let cx = 0;
      let cy = 0;
      for (const i of ring.members) {
        cx += nodes[i].x ?? 0;
        cy += nodes[i].y ?? 0;
      }
      cx /= m;
      cy /= m;
      const radius = Math.max(spacing, (m * spacing) / (2 * Math.PI));
      // Best rotation for the slots: the mean of (angle of member j − 2πj/m), as a circular mean.
      let rot = 0;
      if (ring.ordered) {
        let sx = 0;
        let sy = 0;
        for (let j = 0; j < m; j++) {
          const n = nodes[ring.members[j]];
          const a = Math.atan2((n.y ?? 0) - cy, (n.x ?? 0) - cx) - (2 * Math.PI * j) / m;
          sx += Math.cos(a);
          sy += Math.sin(a);
        }
        rot = Math.atan2(sy, sx);
      }
      for (let j = 0; j < m; j++) {
        const n = nodes[ring.members[j]];
        const x = n.x ?? 0;
        const y = n.y ?? 0;
        let tx: number;
        let ty: number;
        if (ring.ordered) {
          const a = rot + (2 * Math.PI * j) / m;
          tx = cx + radius * Math.cos(a);
          ty = cy + radius * Math.sin(a);
        } else {
          const d = Math.hypot(x - cx, y - cy) || 1;
          tx = cx + ((x - cx) * radius) / d;
          ty = cy + ((y - cy) * radius) / d;
        }
        n.x = x + (tx - x) * pull;
        n.y = y + (ty - y) * pull;
      }
    }
  };
  force.initialize = (n: RingNode[]) => {
    nodes = n;
  };
  force.rings = (r: Ring[]) => {
    rings = r;
    return force;
  };
  return force;
}
