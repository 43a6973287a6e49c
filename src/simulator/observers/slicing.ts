/**
 * Disorder measures of slicing (Jelasity & Kermarrec, "Ordered slicing of very large-scale overlay
 * networks", IEEE P2P 2006, §3; Fernández et al., "Distributed slicing in dynamic systems",
 * ICDCS 2007, §3), over the live nodes:
 *
 * - gdm, the global disorder measure (1/N) Σ_i (α_i − ρ_i)², where α_i ∈ {1..N} is the rank of node
 *   i's attribute value among the live nodes and ρ_i ∈ {1..N} the rank of its estimate (its r value
 *   for JK, its rank estimate for the ranking algorithm). This is the papers' normalisation: ranks
 *   are integers, so a random assignment has GDM ≈ N²/6 and a sorted one 0. Tied values get the
 *   average of their ranks (many estimates tie early in the ranking algorithm).
 * - sdm, the slice disorder measure Σ_i |true slice − believed slice| for s equal slices, where the
 *   true slice of the node at position q ∈ {0..N−1} in the attribute order is ⌊q·s/N⌋ and the
 *   believed slice is what the node answers (SliceEstimator.slice).
 * - accuracy, the fraction of live nodes whose believed slice is the true one.
 */
import type { PeerHandle } from '../../core/handles.js';
import type { AttributeSource, SliceEstimator } from '../../protocols/slicing/slices.js';
import type { Observer, Simulation } from '../simulation.js';

export class SlicingObserver implements Observer {
  readonly name = 'slicing-disorder';
  private values = new Float64Array(0);
  private order = new Int32Array(0);
  private attrRank = new Float64Array(0);
  private estRank = new Float64Array(0);
  private truePosition = new Int32Array(0);

  constructor(
    private readonly estimator: SliceEstimator,
    private readonly attribute: AttributeSource,
    readonly slices = 10,
  ) {
    if (!Number.isInteger(slices) || slices < 1) throw new RangeError(`slices must be a positive integer, got ${slices}`);
  }

  observe(sim: Simulation): Record<string, number> {
    const live = sim.population.live();
    const n = live.length;
    if (n === 0) return { gdm: 0, sdm: 0, accuracy: 1 };
    this.reserve(n);
    const values = this.values;
    for (let i = 0; i < n; i++) values[i] = this.attribute(live[i]);
    this.rank(live, this.attrRank, this.truePosition);
    for (let i = 0; i < n; i++) values[i] = this.estimator.estimatedRank(live[i]);
    this.rank(live, this.estRank, null);
    let gdm = 0;
    let sdm = 0;
    let right = 0;
    const s = this.slices;
    for (let i = 0; i < n; i++) {
      const d = this.attrRank[i] - this.estRank[i];
      gdm += d * d;
      const truth = Math.floor((this.truePosition[i] * s) / n);
      const believed = this.estimator.slice(live[i], s);
      sdm += Math.abs(truth - believed);
      if (truth === believed) right++;
    }
    return { gdm: gdm / n, sdm, accuracy: right / n };
  }

  /**
   * Ranks values[0..n) (1-based, ties averaged) into `ranks`; `positions`, when given, receives the
   * 0-based position of each node in the order with ties broken by handle (for the true slices).
   */
  private rank(live: Int32Array, ranks: Float64Array, positions: Int32Array | null): void {
    const n = live.length;
    const values = this.values;
    const order = this.order.subarray(0, n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => values[a] - values[b] || live[a] - live[b]);
    for (let start = 0; start < n; ) {
      let end = start + 1;
      while (end < n && values[order[end]] === values[order[start]]) end++;
      const mid = (start + 1 + end) / 2; // average of ranks start+1 .. end
      for (let p = start; p < end; p++) {
        ranks[order[p]] = mid;
        if (positions) positions[order[p]] = p;
      }
      start = end;
    }
  }

  private reserve(n: number): void {
    if (this.values.length >= n) return;
    const size = Math.max(n, this.values.length * 2);
    this.values = new Float64Array(size);
    this.order = new Int32Array(size);
    this.attrRank = new Float64Array(size);
    this.estRank = new Float64Array(size);
    this.truePosition = new Int32Array(size);
  }
}

/** Convenience for tests: the true slice of every live node, by handle. */
export function trueSlices(live: ArrayLike<PeerHandle>, attribute: AttributeSource, s: number): Map<PeerHandle, number> {
  const nodes = Array.from(live);
  nodes.sort((a, b) => attribute(a) - attribute(b) || a - b);
  const out = new Map<PeerHandle, number>();
  nodes.forEach((h, q) => out.set(h, Math.floor((q * s) / nodes.length)));
  return out;
}
