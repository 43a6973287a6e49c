/**
 * Observer for T-Man's sorted ring (Jelasity, Montresor, Babaoglu, Computer Networks 53(13), 2009,
 * §4: "missing target links"). The target topology is the sorted ring over the *live* nodes of each
 * group: every node should have its true successor and predecessor (by key, among the live members
 * of its group, wrapping around) in its T-Man view. A group of two nodes has one target link per
 * node (successor = predecessor); a group of one has none.
 *
 * missingLinks counts target links absent from the views (the paper's measure). wrongNeighbors is
 * stricter and is what peercloud relies on: the number of (node, side) pairs where the closest
 * entry of the view on that side, i.e. what TMan.successor()/predecessor() answer, is not the true
 * live neighbour (for instance a dead node not yet purged, ranked before the live one).
 */
import type { PeerHandle } from '../../core/handles.js';
import type { ProfileDirectory, TManViews } from '../../protocols/tman/tman.js';
import type { Observer, Simulation } from '../simulation.js';

const RING = 4294967296;

export interface MissingLinksOptions {
  /**
   * Groups may change between cycles (slices): recompute the targets every cycle. Otherwise they
   * are recomputed only when nodes join or leave.
   */
  dynamicGroups?: boolean;
}

export class MissingLinksObserver implements Observer {
  readonly name = 'tman-missing-links';
  private dirty = true;
  private successors = new Int32Array(0);
  private predecessors = new Int32Array(0);
  private targetLinks = 0;

  constructor(
    sim: Simulation,
    private readonly views: TManViews,
    private readonly profiles: ProfileDirectory,
    private readonly options: MissingLinksOptions = {},
  ) {
    sim.onJoin(() => {
      this.dirty = true;
    });
    sim.onLeave(() => {
      this.dirty = true;
    });
  }

  observe(sim: Simulation): Record<string, number> {
    const live = sim.population.live();
    if (this.dirty || this.options.dynamicGroups) this.computeTargets(live, sim.population.handles);
    this.dirty = false;
    const views = this.views;
    const c = views.c;
    const ids = views.ids;
    const keys = views.keys;
    let missing = 0;
    let wrong = 0;
    for (let k = 0; k < live.length; k++) {
      const node = live[k];
      const succ = this.successors[node];
      if (succ < 0) continue;
      const pred = this.predecessors[node];
      const own = this.profiles.keyOf(node);
      const base = node * c;
      const n = views.sizes[node];
      let haveSucc = false;
      let havePred = false;
      let closestSucc = -1;
      let closestPred = -1;
      let succDistance = Infinity;
      let predDistance = Infinity;
      for (let i = 0; i < n; i++) {
        const id = ids[base + i];
        if (id === succ) haveSucc = true;
        if (id === pred) havePred = true;
        const cw = (keys[base + i] - own + RING) % RING;
        if (cw === 0) continue;
        if (cw < succDistance) {
          succDistance = cw;
          closestSucc = id;
        }
        if (RING - cw < predDistance) {
          predDistance = RING - cw;
          closestPred = id;
        }
      }
      if (!haveSucc) missing++;
      if (closestSucc !== succ) wrong++;
      if (pred !== succ) {
        if (!havePred) missing++;
        if (closestPred !== pred) wrong++;
      }
    }
    const targets = this.targetLinks;
    return {
      liveNodes: live.length,
      missingLinks: missing,
      missingLinksFraction: targets > 0 ? missing / targets : 0,
      ringComplete: missing === 0 ? 1 : 0,
      wrongNeighbors: wrong,
      wrongNeighborsFraction: targets > 0 ? wrong / targets : 0,
    };
  }

  /** Sorts the live nodes by (group, key) and records each one's successor and predecessor. */
  private computeTargets(live: Int32Array, handles: number): void {
    if (this.successors.length < handles) {
      this.successors = new Int32Array(handles * 2);
      this.predecessors = new Int32Array(handles * 2);
    }
    const n = live.length;
    const sortKey = new Float64Array(n);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const h = live[i];
      // group * 2^32 + key is exact in a double for groups below 2^21.
      sortKey[i] = this.profiles.groupOf(h) * RING + this.profiles.keyOf(h);
      order[i] = i;
    }
    order.sort((a, b) => sortKey[a] - sortKey[b] || live[a] - live[b]);
    let targets = 0;
    for (let start = 0; start < n; ) {
      const group = Math.floor(sortKey[order[start]] / RING);
      let end = start + 1;
      while (end < n && Math.floor(sortKey[order[end]] / RING) === group) end++;
      const size = end - start;
      for (let p = start; p < end; p++) {
        const node: PeerHandle = live[order[p]];
        if (size < 2) {
          this.successors[node] = -1;
          this.predecessors[node] = -1;
          continue;
        }
        this.successors[node] = live[order[p + 1 < end ? p + 1 : start]];
        this.predecessors[node] = live[order[p > start ? p - 1 : end - 1]];
        targets += size === 2 ? 1 : 2;
      }
      start = end;
    }
    this.targetLinks = targets;
  }
}
