/**
 * Ranking functions for T-Man (Jelasity, Montresor, Babaoglu, "T-Man: Gossip-based fast overlay
 * topology construction", Computer Networks 53(13), 2009, §2–§3). A ranking function orders a set of
 * candidate profiles by how much a base node would like them as neighbours; the target topology is
 * "every node linked to the first few nodes of its own ranking". Profiles here are numeric keys; a
 * ring key is an unsigned 32-bit integer and distances wrap around 2^32.
 */

const RING = 4294967296; // 2^32
/** Candidates per call are packed as distance * INDEX_SPACE + index into one double. */
const INDEX_SPACE = 1024;
/** Most candidates a single ranking call accepts (view + self + random sample). */
export const MAX_CANDIDATES = INDEX_SPACE;

/**
 * Orders candidates for a base node. Implementations must be deterministic (ties broken by the
 * candidates' positions) and must not allocate per call: T-Man ranks four buffers per exchange.
 */
export interface RankingFunction {
  readonly name: string;
  /**
   * Writes into `out` the indices (into `keys[0..n)`) of the `count` candidates the node with key
   * `baseKey` prefers, best first, and returns how many were written (min(count, n)).
   * `n` must not exceed MAX_CANDIDATES.
   */
  select(baseKey: number, keys: ArrayLike<number>, n: number, count: number, out: Int32Array): number;
}

/**
 * The SORTED RING ranking of the T-Man paper: a ring node wants its nearest successors *and* its
 * nearest predecessors, so ranking by plain distance is not enough (a node could end up with
 * neighbours on one side only). The candidates are sorted by clockwise distance from the base key;
 * the ranking then alternates between the closest successor (smallest clockwise distance) and the
 * closest predecessor (smallest counter-clockwise distance): succ1, pred1, succ2, pred2, … so that
 * the first k entries hold k/2 neighbours on each side. A candidate with the base key itself (a key
 * collision) counts as an immediate successor.
 */
export class SortedRingRanking implements RankingFunction {
  readonly name = 'sorted-ring';
  private readonly packed = new Float64Array(MAX_CANDIDATES);

  private readonly successors = new Float64Array(MAX_CANDIDATES);
  private readonly predecessors = new Float64Array(MAX_CANDIDATES);

  select(baseKey: number, keys: ArrayLike<number>, n: number, count: number, out: Int32Array): number {
    if (n > count) return this.selectFew(baseKey, keys, n, count, out);
    const packed = this.packed;
    for (let i = 0; i < n; i++) {
      const clockwise = (keys[i] - baseKey + RING) % RING;
      packed[i] = clockwise * INDEX_SPACE + i;
    }
    sortRange(packed, n);
    const want = n;
    let front = 0;
    let back = n - 1;
    let written = 0;
    while (written < want) {
      out[written++] = packed[front++] % INDEX_SPACE;
      if (written < want) out[written++] = packed[back--] % INDEX_SPACE;
    }
    return written;
  }

  /**
   * More candidates than wanted (the common case: ~40 candidates, 10 or 20 wanted): keep the
   * ⌈count/2⌉ smallest clockwise distances and the ⌊count/2⌋ largest in two small sorted buffers
   * instead of sorting everything. The two sets are disjoint because n > count, so the result is
   * the same as the full sort followed by alternation.
   */
  private selectFew(baseKey: number, keys: ArrayLike<number>, n: number, count: number, out: Int32Array): number {
    const lo = this.successors; // ascending
    const hi = this.predecessors; // descending
    const wantLo = (count + 1) >> 1;
    const wantHi = count >> 1;
    let nLo = 0;
    let nHi = 0;
    for (let i = 0; i < n; i++) {
      const v = ((keys[i] - baseKey + RING) % RING) * INDEX_SPACE + i;
      if (nLo < wantLo || v < lo[nLo - 1]) {
        let j = nLo < wantLo ? nLo++ : nLo - 1;
        while (j > 0 && lo[j - 1] > v) {
          lo[j] = lo[j - 1];
          j--;
        }
        lo[j] = v;
      }
      if (wantHi > 0 && (nHi < wantHi || v > hi[nHi - 1])) {
        let j = nHi < wantHi ? nHi++ : nHi - 1;
        while (j > 0 && hi[j - 1] < v) {
          hi[j] = hi[j - 1];
          j--;
        }
        hi[j] = v;
      }
    }
    let written = 0;
    for (let k = 0; written < count; k++) {
      out[written++] = lo[k] % INDEX_SPACE;
      if (written < count) out[written++] = hi[k] % INDEX_SPACE;
    }
    return written;
  }
}

/**
 * Plain ring distance: rank by min(clockwise, counter-clockwise) distance. Simpler than the sorted
 * ring, but a node whose nearest candidates all lie on one side keeps only that side; kept for
 * comparison and as an example of the pluggable interface.
 */
export class RingDistanceRanking implements RankingFunction {
  readonly name = 'ring-distance';
  private readonly packed = new Float64Array(MAX_CANDIDATES);

  select(baseKey: number, keys: ArrayLike<number>, n: number, count: number, out: Int32Array): number {
    const packed = this.packed;
    for (let i = 0; i < n; i++) {
      const clockwise = (keys[i] - baseKey + RING) % RING;
      const distance = clockwise <= RING / 2 ? clockwise : RING - clockwise;
      packed[i] = distance * INDEX_SPACE + i;
    }
    sortRange(packed, n);
    const want = Math.min(count, n);
    for (let i = 0; i < want; i++) out[i] = packed[i] % INDEX_SPACE;
    return want;
  }
}

/** Line distance |key − base| on the real line (no wrap-around): e.g. for attribute-ordered lists. */
export class LineDistanceRanking implements RankingFunction {
  readonly name = 'line-distance';
  private readonly distance = new Float64Array(MAX_CANDIDATES);
  private readonly index = new Float64Array(MAX_CANDIDATES);

  select(baseKey: number, keys: ArrayLike<number>, n: number, count: number, out: Int32Array): number {
    // Keys may be arbitrary doubles here, so distances cannot share a double with the index:
    // a selection sort over the (small) number of wanted entries instead.
    const d = this.distance;
    const idx = this.index;
    for (let i = 0; i < n; i++) {
      d[i] = Math.abs(keys[i] - baseKey);
      idx[i] = i;
    }
    const want = Math.min(count, n);
    for (let k = 0; k < want; k++) {
      let best = k;
      for (let i = k + 1; i < n; i++) if (d[i] < d[best] || (d[i] === d[best] && idx[i] < idx[best])) best = i;
      const td = d[k];
      d[k] = d[best];
      d[best] = td;
      const ti = idx[k];
      idx[k] = idx[best];
      idx[best] = ti;
      out[k] = idx[k];
    }
    return want;
  }
}

export type RankingName = 'sorted-ring' | 'ring-distance' | 'line-distance';

export function createRanking(name: RankingName): RankingFunction {
  switch (name) {
    case 'sorted-ring':
      return new SortedRingRanking();
    case 'ring-distance':
      return new RingDistanceRanking();
    case 'line-distance':
      return new LineDistanceRanking();
    default:
      throw new RangeError(`ranking must be sorted-ring, ring-distance or line-distance, got ${String(name)}`);
  }
}

/**
 * In-place ascending sort of values[0..n): insertion sort for short ranges, quicksort (median of
 * three) above. Written out rather than `subarray(0, n).sort()` so that ranking allocates nothing.
 */
function sortRange(values: Float64Array, n: number): void {
  quicksort(values, 0, n - 1);
}

function quicksort(a: Float64Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const mid = (lo + hi) >>> 1;
    // Median of three into a[mid].
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    // Recurse into the smaller half, loop on the larger: bounded stack depth.
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
