import { NO_PEER, type PeerHandle, type PeerSampler } from '../../core/handles.js';
import type { Random } from '../../core/random.js';
import { grownCapacity, resized } from '../../core/typed-arrays.js';
import type { ExchangeProtocol, NodeState } from '../exchange.js';
import { type PeerSamplingConfig, validatePeerSamplingConfig } from './config.js';
import { MAX_AGE, ViewTable } from './view-table.js';

const HISTOGRAM_AGES = 1024;

/** One gossip message of the peer sampling service: a buffer of (peer, age) descriptors. */
export interface DescriptorBuffer {
  ids: PeerHandle[];
  ages: number[];
}

/**
 * The peer sampling service: every node keeps a small, constantly refreshed partial view, and the
 * union of the views is a random-like overlay that survives churn. One instance serves all the
 * nodes whose views live in its `ViewTable`.
 *
 * `algorithm: 'framework'` follows Fig. 1 of Jelasity et al. (TOCS 2007) literally: the sender
 * permutes its view, moves the H oldest entries to the end, sends its own fresh descriptor plus the
 * head of the view, and both sides run select(c, H, S, buffer). `algorithm: 'cyclon'` is the Cyclon
 * shuffle: age, contact the oldest entry and drop it, swap l descriptors, fill empty slots first and
 * then overwrite the entries that were sent.
 */
export class PeerSampling implements ExchangeProtocol<DescriptorBuffer, DescriptorBuffer>, NodeState, PeerSampler {
  readonly name = 'sampling';
  readonly views: ViewTable;
  private readonly c: number;
  private readonly push: boolean;
  private readonly pull: boolean;
  // Scratch space for view selection: the view plus an incoming buffer. Exchanges are processed one
  // at a time (single-threaded), so one scratch area per protocol instance suffices.
  private readonly mergedIds: Int32Array;
  private readonly mergedAges: Int32Array;
  private readonly removed: Uint8Array;
  private stamp: Int32Array = new Int32Array(1024);
  private position: Int32Array = new Int32Array(1024);
  private epoch = 0;
  private readonly histogram = new Int32Array(HISTOGRAM_AGES);

  constructor(
    readonly config: PeerSamplingConfig,
    private readonly rng: Random,
    views?: ViewTable,
  ) {
    validatePeerSamplingConfig(config);
    this.c = config.viewSize;
    this.views = views ?? new ViewTable(config.viewSize);
    if (this.views.c !== config.viewSize) throw new RangeError('view table and config disagree on the view size');
    this.push = config.propagation !== 'pull';
    this.pull = config.propagation !== 'push';
    const room = this.c + config.exchangeLength;
    this.mergedIds = new Int32Array(room);
    this.mergedAges = new Int32Array(room);
    this.removed = new Uint8Array(room);
  }

  ensureCapacity(capacity: number): void {
    this.views.ensureCapacity(capacity);
  }

  resetNode(self: PeerHandle): void {
    this.views.clear(self);
  }

  /** Bootstrapping: seed a node's view with contact descriptors (fresh, age 0). */
  addContacts(self: PeerHandle, contacts: readonly PeerHandle[]): void {
    for (const peer of contacts) this.views.add(self, peer, 0);
  }

  // ---- PeerSampler ----------------------------------------------------------------------------

  samplePeer(self: PeerHandle): PeerHandle {
    const n = this.views.sizes[self];
    if (n === 0) return NO_PEER;
    return this.views.ids[self * this.c + this.rng.int(n)];
  }

  samplePeers(self: PeerHandle, count: number, out: PeerHandle[]): void {
    const n = this.views.sizes[self];
    const base = self * this.c;
    if (count >= n) {
      for (let i = 0; i < n; i++) out.push(this.views.ids[base + i]);
      return;
    }
    // Partial Fisher–Yates over a copy of the indices.
    const idx = this.mergedIds;
    for (let i = 0; i < n; i++) idx[i] = i;
    for (let i = 0; i < count; i++) {
      const j = i + this.rng.int(n - i);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
      out.push(this.views.ids[base + idx[i]]);
    }
  }

  // ---- Exchange -------------------------------------------------------------------------------

  selectPeer(self: PeerHandle): PeerHandle {
    const n = this.views.sizes[self];
    if (n === 0) return NO_PEER;
    const base = self * this.c;
    if (this.config.peerSelection === 'rand') return this.views.ids[base + this.rng.int(n)];
    let oldest = 0;
    for (let i = 1; i < n; i++) if (this.views.ages[base + i] > this.views.ages[base + oldest]) oldest = i;
    return this.views.ids[base + oldest];
  }

  initiate(self: PeerHandle, peer: PeerHandle): DescriptorBuffer {
    if (this.config.algorithm === 'cyclon') return this.cyclonInitiate(self, peer);
    return this.push ? this.makeBuffer(self) : { ids: [], ages: [] };
  }

  handle(self: PeerHandle, from: PeerHandle, req: DescriptorBuffer): DescriptorBuffer {
    if (this.config.algorithm === 'cyclon') return this.cyclonHandle(self, from, req);
    // Pure push still answers with an empty buffer: the acknowledgement lets the transport close the
    // exchange, and carries nothing.
    const reply = this.pull ? this.makeBuffer(self) : { ids: [], ages: [] };
    this.select(self, req);
    this.increaseAge(self);
    return reply;
  }

  complete(self: PeerHandle, _peer: PeerHandle, req: DescriptorBuffer, res: DescriptorBuffer): void {
    if (this.config.algorithm === 'cyclon') {
      // Cyclon may replace the entries it sent (all of the request but its own descriptor).
      this.cyclonMerge(self, res, req.ids, 1);
      return;
    }
    if (this.pull) this.select(self, res);
    this.increaseAge(self);
  }

  fail(self: PeerHandle, _peer: PeerHandle, _req: DescriptorBuffer): void {
    // Cyclon already dropped the unresponsive peer in initiate(), which is how it forgets dead
    // nodes; the framework only lets time pass, so the healer parameter can purge them.
    if (this.config.algorithm === 'framework') this.increaseAge(self);
  }

  // ---- Framework (TOCS 2007, Fig. 1) ----------------------------------------------------------

  /**
   * (self, 0) followed by the head of the permuted view with the H oldest moved to the end, i.e.
   * c/2-1 entries drawn uniformly from the view minus its H oldest. When view selection later needs
   * to know which entries were at the head (S > 0), those entries are physically moved there.
   */
  private makeBuffer(self: PeerHandle): DescriptorBuffer {
    const base = self * this.c;
    const n = this.views.sizes[self];
    const ids = this.views.ids;
    const ages = this.views.ages;
    const out = Math.min(this.config.exchangeLength - 1, n);
    const bufIds: PeerHandle[] = [self];
    const bufAges: number[] = [0];
    const h = Math.min(this.config.healing, n);
    const mark = this.removed;
    if (h > 0) markOldest(ages, base, n, h, mark, this.histogram, this.rng);
    else mark.fill(0, 0, n);
    if (h > 0 && this.config.swapping > 0) this.moveMarkedToEnd(base, n);
    // Partial Fisher–Yates: the first draws come uniformly from the entries that are not among the
    // H oldest (the head of the permuted view); only a view shorter than H + c/2 - 1 (while
    // bootstrapping) reaches into the oldest, which the move put at the end in permuted order.
    // Only S > 0 needs the view itself reordered (head = sent); the move already did the partition.
    const idx = this.mergedIds;
    let fresh = 0;
    if (h > 0 && this.config.swapping > 0) {
      for (let i = 0; i < n; i++) idx[i] = i;
      fresh = n - h;
    } else {
      for (let i = 0; i < n; i++) if (mark[i] === 0) idx[fresh++] = i;
      let w = fresh;
      for (let i = 0; i < n; i++) if (mark[i] === 1) idx[w++] = i;
    }
    const take = Math.min(out, n);
    for (let i = 0; i < take; i++) {
      const segmentEnd = i < fresh ? fresh : n;
      const j = i + this.rng.int(segmentEnd - i);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
      bufIds.push(ids[base + idx[i]]);
      bufAges.push(ages[base + idx[i]]);
    }
    if (this.config.swapping > 0) this.moveToHead(base, idx, take);
    return { ids: bufIds, ages: bufAges };
  }

  /** Swaps the entries at positions idx[0..k) into positions 0..k of a node's view. */
  private moveToHead(base: number, idx: Int32Array, k: number): void {
    const ids = this.views.ids;
    const ages = this.views.ages;
    for (let i = 0; i < k; i++) {
      const from = idx[i];
      if (from === i) continue;
      const ti = ids[base + i];
      ids[base + i] = ids[base + from];
      ids[base + from] = ti;
      const ta = ages[base + i];
      ages[base + i] = ages[base + from];
      ages[base + from] = ta;
      // Keep later indices valid if they pointed at position i, which just moved to `from`.
      for (let j = i + 1; j < k; j++) if (idx[j] === i) idx[j] = from;
    }
  }

  /** Stable partition of a node's view: entries with mark 0 first, marked ones at the end. */
  private moveMarkedToEnd(base: number, n: number): void {
    const ids = this.views.ids;
    const ages = this.views.ages;
    const mark = this.removed;
    const tmpIds = this.mergedIds;
    const tmpAges = this.mergedAges;
    let w = 0;
    for (let i = 0; i < n; i++) if (mark[i] === 0) { tmpIds[w] = ids[base + i]; tmpAges[w++] = ages[base + i]; }
    for (let i = 0; i < n; i++) if (mark[i] === 1) { tmpIds[w] = ids[base + i]; tmpAges[w++] = ages[base + i]; }
    for (let i = 0; i < n; i++) { ids[base + i] = tmpIds[i]; ages[base + i] = tmpAges[i]; }
  }

  /**
   * view.select(c, H, S, buffer): append the buffer, keep the freshest copy of each peer, drop the
   * min(H, size-c) oldest, then min(S, size-c) from the head (the entries just sent), then random
   * entries until c remain.
   */
  private select(self: PeerHandle, buffer: DescriptorBuffer): void {
    const c = this.c;
    const views = this.views;
    const base = self * c;
    const n0 = views.sizes[self];
    const mIds = this.mergedIds;
    const mAges = this.mergedAges;
    const stampEpoch = this.nextStamp();
    const m = Math.min(buffer.ids.length, this.config.exchangeLength);
    // Make sure every handle we may see fits the stamp arrays before the hot loop.
    let maxHandle = self;
    for (let i = 0; i < m; i++) if (buffer.ids[i] > maxHandle) maxHandle = buffer.ids[i];
    for (let i = 0; i < n0; i++) if (views.ids[base + i] > maxHandle) maxHandle = views.ids[base + i];
    if (maxHandle >= this.stamp.length) this.growStamps(maxHandle);
    const stamp = this.stamp;
    const position = this.position;
    let n = 0;
    // Append the view then the buffer, keeping the first position and the freshest age of each peer.
    const vIds = views.ids;
    const vAges = views.ages;
    for (let k = 0; k < n0; k++) {
      const peer = vIds[base + k];
      stamp[peer] = stampEpoch;
      position[peer] = n;
      mIds[n] = peer;
      mAges[n++] = vAges[base + k];
    }
    const bIds = buffer.ids;
    const bAges = buffer.ages;
    for (let k = 0; k < m; k++) {
      const peer = bIds[k];
      if (peer === self || peer < 0) continue;
      const age = bAges[k];
      if (stamp[peer] === stampEpoch) {
        const at = position[peer];
        if (age < mAges[at]) mAges[at] = age;
        continue;
      }
      stamp[peer] = stampEpoch;
      position[peer] = n;
      mIds[n] = peer;
      mAges[n++] = age;
    }

    // Remove the min(H, n - c) oldest.
    let drop = Math.min(this.config.healing, n - c);
    if (drop > 0) n = this.removeOldest(n, drop);
    // Remove min(S, n - c) from the head.
    drop = Math.min(this.config.swapping, n - c);
    if (drop > 0) {
      mIds.copyWithin(0, drop, n);
      mAges.copyWithin(0, drop, n);
      n -= drop;
    }
    // Remove at random down to c.
    while (n > c) {
      const i = this.rng.int(n);
      n--;
      mIds[i] = mIds[n];
      mAges[i] = mAges[n];
    }
    for (let i = 0; i < n; i++) {
      views.ids[base + i] = mIds[i];
      views.ages[base + i] = mAges[i];
    }
    views.sizes[self] = n;
  }

  /** Drops the `drop` oldest merged entries, preserving order; returns the new length. */
  private removeOldest(n: number, drop: number): number {
    const mIds = this.mergedIds;
    const mAges = this.mergedAges;
    const mark = this.removed;
    markOldest(mAges, 0, n, drop, mark, this.histogram, this.rng);
    let w = 0;
    for (let i = 0; i < n; i++) {
      if (mark[i] === 0) {
        mIds[w] = mIds[i];
        mAges[w++] = mAges[i];
      }
    }
    return w;
  }

  private increaseAge(self: PeerHandle): void {
    const base = self * this.c;
    const n = this.views.sizes[self];
    const ages = this.views.ages;
    for (let i = 0; i < n; i++) if (ages[base + i] < MAX_AGE) ages[base + i]++;
  }

  // ---- Cyclon ---------------------------------------------------------------------------------

  private cyclonInitiate(self: PeerHandle, peer: PeerHandle): DescriptorBuffer {
    this.increaseAge(self);
    const at = this.views.indexOf(self, peer);
    if (at >= 0) this.views.removeAt(self, at);
    const ids: PeerHandle[] = [self];
    const ages: number[] = [0];
    this.randomEntries(self, this.config.exchangeLength - 1, ids, ages);
    return { ids, ages };
  }

  private cyclonHandle(self: PeerHandle, _from: PeerHandle, req: DescriptorBuffer): DescriptorBuffer {
    const ids: PeerHandle[] = [];
    const ages: number[] = [];
    this.randomEntries(self, this.config.exchangeLength, ids, ages);
    this.cyclonMerge(self, req, ids, 0);
    return { ids, ages };
  }

  /** Appends `count` distinct random entries of the view (fewer if the view is smaller). */
  private randomEntries(self: PeerHandle, count: number, ids: PeerHandle[], ages: number[]): void {
    const n = this.views.sizes[self];
    const base = self * this.c;
    const idx = this.mergedIds;
    for (let i = 0; i < n; i++) idx[i] = i;
    const k = Math.min(count, n);
    for (let i = 0; i < k; i++) {
      const j = i + this.rng.int(n - i);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
      ids.push(this.views.ids[base + idx[i]]);
      ages.push(this.views.ages[base + idx[i]]);
    }
  }

  /**
   * Cyclon's merge: ignore self and peers already known; use empty slots first, then overwrite the
   * entries this node sent in the same shuffle (`sent[from..]`), each at most once.
   */
  private cyclonMerge(self: PeerHandle, incoming: DescriptorBuffer, sent: readonly PeerHandle[], from: number): void {
    const views = this.views;
    const base = self * this.c;
    let nextSent = from;
    const m = Math.min(incoming.ids.length, this.config.exchangeLength);
    for (let i = 0; i < m; i++) {
      const peer = incoming.ids[i];
      if (peer === self || peer < 0 || views.indexOf(self, peer) >= 0) continue;
      const age = Math.min(incoming.ages[i], MAX_AGE);
      if (views.sizes[self] < this.c) {
        views.add(self, peer, age);
        continue;
      }
      // Overwrite one of the entries we sent, if still present.
      while (nextSent < sent.length) {
        const slot = views.indexOf(self, sent[nextSent++]);
        if (slot >= 0) {
          views.ids[base + slot] = peer;
          views.ages[base + slot] = age;
          break;
        }
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private nextStamp(): number {
    this.epoch++;
    if (this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    return this.epoch;
  }

  private growStamps(peer: PeerHandle): void {
    const size = grownCapacity(this.stamp.length, peer + 1);
    this.stamp = resized(this.stamp, size);
    this.position = resized(this.position, size);
  }
}

/**
 * Marks (mark[i] = 1) the k oldest of ages[offset .. offset+n) and leaves mark[i] = 0 for the
 * others. Among entries tied at the threshold age the choice is uniform when `rng` is given
 * (selection sampling), by lowest index otherwise. Ages are small integers, so a histogram finds the age
 * threshold in O(n) instead of k passes over the view: view selection runs twice per exchange,
 * which makes this the simulator's hottest loop.
 */
export function markOldest(
  ages: Int32Array,
  offset: number,
  n: number,
  k: number,
  mark: Uint8Array,
  histogram: Int32Array,
  rng?: Random,
): void {
  let maxAge = 0;
  for (let i = 0; i < n; i++) if (ages[offset + i] > maxAge) maxAge = ages[offset + i];
  if (maxAge >= histogram.length) {
    mark.fill(0, 0, n);
    for (let j = 0; j < k; j++) {
      let best = -1;
      for (let i = 0; i < n; i++) if (mark[i] === 0 && (best < 0 || ages[offset + i] > ages[offset + best])) best = i;
      mark[best] = 1;
    }
    return;
  }
  for (let i = 0; i < n; i++) histogram[ages[offset + i]]++;
  let above = 0;
  let threshold = maxAge;
  for (; threshold > 0; threshold--) {
    const here = histogram[threshold];
    if (above + here >= k) break;
    above += here;
  }
  let ties = k - above;
  let tied = histogram[threshold];
  for (let i = 0; i < n; i++) {
    const a = ages[offset + i];
    histogram[a] = 0;
    if (a > threshold) mark[i] = 1;
    else if (a === threshold) {
      // Selection sampling: mark with probability ties/tied, which picks a uniform subset.
      const pick = ties > 0 && (rng === undefined ? true : ties >= tied || rng.int(tied) < ties);
      tied--;
      if (pick) {
        mark[i] = 1;
        ties--;
      } else mark[i] = 0;
    } else mark[i] = 0;
  }
}
