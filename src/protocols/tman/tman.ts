/**
 * T-Man: gossip-based overlay topology construction (Jelasity, Montresor, Babaoglu, "T-Man:
 * Gossip-based fast overlay topology construction", Computer Networks 53(13):2321–2339, 2009).
 *
 * Every node keeps a view of the c best-ranked peers it has heard of. Once per cycle (§3, Fig. 1):
 *   p      ← uniform choice among the ψ best-ranked entries of the view
 *   buffer ← view ∪ {myDescriptor} ∪ fresh random sample from the peer sampling service
 *   send the m entries of buffer ranked best *for p*; p answers symmetrically with its own buffer
 *   ranked for us; both sides merge what they receive and keep the c best-ranked for themselves.
 * With the SORTED RING ranking this builds the sorted ring from a random overlay in O(log N) cycles.
 *
 * Descriptors are (handle, key) pairs: a protocol may not read another node's state, so a peer's
 * profile (its ring key) always travels next to its handle, in views and messages alike. Peers
 * handed out by the peer sampling service come without a profile in our PeerSampler interface; the
 * injected `ProfileDirectory` resolves them. It stands for "descriptors from peer sampling carry the
 * profile": the simulator reads its key table, the daemon its peer directory.
 *
 * Groups ("one ring per slice", the P2P cloud design of seeds/002): every node belongs to a group (e.g. its slice) and
 * only links to members of the same group. Messages carry the sender's group; a node answering a
 * peer of another group sends nothing useful and the initiator drops that peer from its view, and
 * random samples from other groups are ignored. When a node's group changes (read from the
 * directory at each active step) its view starts over.
 *
 * Failures: a peer that does not answer (`fail`) is removed from the view, so dead entries are
 * replaced by the next-closest live nodes learned through gossip and the ring repairs itself.
 * That alone is not enough in practice: a node only contacts its ψ best entries, so a dead node is
 * discovered only by its immediate neighbours, while everybody else keeps it and keeps advertising
 * it; the neighbour re-learns it from the next message and spends its exchanges on it forever
 * (observed: after 50% of the nodes crash, a few survivors never find their new neighbour, and
 * under churn a third of the view entries end up dead). Two standard remedies, both local:
 * - descriptor ages, as in the peer sampling service of the same authors (TOCS 2007): a node
 *   sends its own descriptor with age 0, entries age by one per cycle of their holder and by one
 *   per hop, a merge keeps the youngest copy and entries older than `maxAge` are dropped. Live
 *   nodes keep refreshing their descriptors in their neighbourhood, dead ones fade out everywhere
 *   within maxAge cycles;
 * - a memory of the last `failureMemory` failed peers, not taken back from gossip for maxAge
 *   cycles (after which their descriptors are gone everywhere), so a dead neighbour costs one
 *   failed exchange, not one per cycle.
 */
import { NO_PEER, type PeerHandle, type PeerSampler } from '../../core/handles.js';
import type { Random } from '../../core/random.js';
import type { ExchangeProtocol, NodeState } from '../exchange.js';
import { type TManConfig, defaultTManConfig, validateTManConfig } from './config.js';
import { MAX_CANDIDATES, type RankingFunction, createRanking } from './ranking.js';

/** One T-Man message: the sender's profile plus up to m descriptors ranked for the receiver. */
export interface TManBuffer {
  /** The sender's ring key, so that the receiver can rank its answer for the sender. */
  senderKey: number;
  /** The sender's group; every descriptor in the buffer belongs to it. */
  group: number;
  ids: PeerHandle[];
  keys: number[];
  /** Cycles since each described node issued its descriptor (0 for the sender itself). */
  ages: number[];
}

/** Profiles of nodes: the ring key and group of a handle (own node included). */
export interface ProfileDirectory {
  /** The node's ring key: an unsigned 32-bit integer for ring rankings. */
  keyOf(node: PeerHandle): number;
  /** The node's group (slice id); 0 when there is a single ring. */
  groupOf(node: PeerHandle): number;
}

const MAX_AGE = 0xffff;

/** The T-Man views of many nodes: node n owns slots [n*c, n*c + size(n)), best-ranked first. */
export class TManViews {
  ids: Int32Array;
  keys: Uint32Array | Float64Array;
  ages: Uint16Array;
  sizes: Uint8Array;
  private cap = 0;

  /**
   * Ring keys are 32-bit, so they are stored as such (at 10^6 nodes and c = 20 that saves 80 MB);
   * `wideKeys` stores arbitrary doubles for rankings over other profiles.
   */
  constructor(
    readonly c: number,
    readonly wideKeys = false,
  ) {
    this.ids = new Int32Array(0);
    this.keys = wideKeys ? new Float64Array(0) : new Uint32Array(0);
    this.ages = new Uint16Array(0);
    this.sizes = new Uint8Array(0);
  }

  get capacity(): number {
    return this.cap;
  }

  ensureCapacity(capacity: number): void {
    if (capacity <= this.cap) return;
    let next = Math.max(1, this.cap);
    while (next < capacity) next *= 2;
    const ids = new Int32Array(next * this.c);
    ids.set(this.ids);
    const keys = this.wideKeys ? new Float64Array(next * this.c) : new Uint32Array(next * this.c);
    keys.set(this.keys);
    const ages = new Uint16Array(next * this.c);
    ages.set(this.ages);
    const sizes = new Uint8Array(next);
    sizes.set(this.sizes);
    this.ids = ids;
    this.keys = keys;
    this.ages = ages;
    this.sizes = sizes;
    this.cap = next;
  }

  /** The peers in a node's view, best-ranked first (for observers and APIs, not hot paths). */
  peers(node: PeerHandle): PeerHandle[] {
    const base = node * this.c;
    return Array.from(this.ids.subarray(base, base + this.sizes[node]));
  }

  indexOf(node: PeerHandle, peer: PeerHandle): number {
    const base = node * this.c;
    const n = this.sizes[node];
    for (let i = 0; i < n; i++) if (this.ids[base + i] === peer) return i;
    return -1;
  }
}

export class TMan implements ExchangeProtocol<TManBuffer, TManBuffer>, NodeState {
  readonly name = 'tman';
  readonly config: TManConfig;
  readonly views: TManViews;
  private readonly ranking: RankingFunction;
  private readonly wideKeys: boolean;
  private ownKey = new Float64Array(0);
  private ownGroup = new Int32Array(0);
  /** Per node: its own cycle count, and a ring of (failed peer, cycle of the failure). */
  private steps = new Int32Array(0);
  private failedIds = new Int32Array(0);
  private failedAt = new Int32Array(0);
  private failedNext = new Uint8Array(0);
  // Scratch space for building and merging buffers. Exchanges are processed one at a time
  // (single-threaded), so one scratch area per protocol instance suffices.
  private readonly candIds = new Int32Array(MAX_CANDIDATES);
  private readonly candKeys = new Float64Array(MAX_CANDIDATES);
  private readonly candAges = new Int32Array(MAX_CANDIDATES);
  private readonly order = new Int32Array(MAX_CANDIDATES);
  private readonly sample: PeerHandle[] = [];
  private stamp = new Int32Array(1024);
  private position = new Int32Array(1024);
  private epoch = 0;

  constructor(
    private readonly peers: PeerSampler,
    private readonly directory: ProfileDirectory,
    private readonly rng: Random,
    config: Partial<TManConfig> = {},
  ) {
    this.config = { ...defaultTManConfig, ...config };
    validateTManConfig(this.config);
    this.wideKeys = this.config.ranking === 'line-distance';
    this.views = new TManViews(this.config.viewSize, this.wideKeys);
    this.ranking = createRanking(this.config.ranking);
  }

  ensureCapacity(capacity: number): void {
    if (capacity <= this.ownKey.length) return;
    this.views.ensureCapacity(capacity);
    const cap = this.views.capacity;
    const keys = new Float64Array(cap);
    keys.set(this.ownKey);
    this.ownKey = keys;
    const f = this.config.failureMemory;
    this.ownGroup = grownInt32(this.ownGroup, cap);
    this.steps = grownInt32(this.steps, cap);
    this.failedIds = grownInt32(this.failedIds, cap * f);
    this.failedAt = grownInt32(this.failedAt, cap * f);
    const next = new Uint8Array(cap);
    next.set(this.failedNext);
    this.failedNext = next;
  }

  resetNode(self: PeerHandle): void {
    const key = this.directory.keyOf(self);
    if (this.wideKeys ? !Number.isFinite(key) : !(Number.isInteger(key) && key >= 0 && key <= 0xffffffff)) {
      throw new RangeError(`T-Man key of node ${self} must be ${this.wideKeys ? 'a finite number' : 'an unsigned 32-bit integer'}, got ${key}`);
    }
    this.ownKey[self] = key;
    this.ownGroup[self] = this.directory.groupOf(self);
    this.views.sizes[self] = 0;
    this.steps[self] = 0;
    this.failedNext[self] = 0;
    const f = this.config.failureMemory;
    this.failedIds.fill(-1, self * f, (self + 1) * f);
  }

  /** The ring key and group this node uses (as announced in its messages). */
  keyOf(self: PeerHandle): number {
    return this.ownKey[self];
  }

  groupOf(self: PeerHandle): number {
    return this.ownGroup[self];
  }

  /** Bootstrapping or tests: add known descriptors as if they had arrived in a message. */
  addDescriptors(self: PeerHandle, ids: readonly PeerHandle[], keys: readonly number[], ages?: readonly number[]): void {
    this.merge(self, ids, keys, ages ?? ids.map(() => 0));
  }

  /**
   * Takes `peer` out of the view (rumored dead, or dropped from the slice by its owner). Not
   * remembered as failed: a live node wrongly rumored dead re-signs its descriptor and may come
   * back through gossip at once.
   */
  remove(self: PeerHandle, peer: PeerHandle): void {
    this.forget(self, peer);
  }

  /**
   * The closest successor / predecessor in the node's current view, or NO_PEER: what peercloud
   * asks T-Man for ("my neighbours in my slice").
   */
  successor(self: PeerHandle): PeerHandle {
    return this.closest(self, true);
  }

  predecessor(self: PeerHandle): PeerHandle {
    return this.closest(self, false);
  }

  // ---- Exchange -------------------------------------------------------------------------------

  selectPeer(self: PeerHandle): PeerHandle {
    this.steps[self]++;
    this.refreshGroup(self);
    this.increaseAges(self);
    const n = this.views.sizes[self];
    if (n > 0) return this.views.ids[self * this.config.viewSize + this.rng.int(Math.min(this.config.psi, n))];
    // Empty view (cold start, or everybody we knew is gone): start from a random sample.
    const sample = this.sample;
    sample.length = 0;
    this.peers.samplePeers(self, Math.max(1, this.config.randomSample), sample);
    const group = this.ownGroup[self];
    const start = sample.length > 0 ? this.rng.int(sample.length) : 0;
    for (let k = 0; k < sample.length; k++) {
      const peer = sample[(start + k) % sample.length];
      if (peer !== self && peer >= 0 && this.directory.groupOf(peer) === group) return peer;
    }
    return NO_PEER;
  }

  initiate(self: PeerHandle, peer: PeerHandle): TManBuffer {
    const at = this.views.indexOf(self, peer);
    const peerKey = at >= 0 ? this.views.keys[self * this.config.viewSize + at] : this.directory.keyOf(peer);
    return this.makeBuffer(self, peer, peerKey);
  }

  handle(self: PeerHandle, from: PeerHandle, req: TManBuffer): TManBuffer {
    this.refreshGroup(self);
    if (req.group !== this.ownGroup[self]) {
      return { senderKey: this.ownKey[self], group: this.ownGroup[self], ids: [], keys: [], ages: [] };
    }
    // Answer from the view as it was before this exchange, then merge (the paper's passive thread).
    const reply = this.makeBuffer(self, from, req.senderKey);
    this.merge(self, req.ids, req.keys, req.ages);
    return reply;
  }

  complete(self: PeerHandle, peer: PeerHandle, _req: TManBuffer, res: TManBuffer): void {
    if (res.group !== this.ownGroup[self]) {
      // The peer is (no longer) in our group: it is not a ring neighbour.
      this.forget(self, peer);
      return;
    }
    this.merge(self, res.ids, res.keys, res.ages);
  }

  fail(self: PeerHandle, peer: PeerHandle, _req: TManBuffer): void {
    this.forget(self, peer);
    this.rememberFailure(self, peer);
  }

  // ---- Buffers --------------------------------------------------------------------------------

  /**
   * view ∪ {self} ∪ random sample, minus `peer`, ranked for `peerKey`; the first m of it. Sampled
   * descriptors get the configured sampleAge (our PeerSampler hands out handles without ages).
   */
  private makeBuffer(self: PeerHandle, peer: PeerHandle, peerKey: number): TManBuffer {
    const c = this.config.viewSize;
    const views = this.views;
    const base = self * c;
    const n0 = views.sizes[self];
    const group = this.ownGroup[self];
    const candIds = this.candIds;
    const candKeys = this.candKeys;
    const candAges = this.candAges;
    const sample = this.sample;
    const sampleAge = this.config.sampleAge;
    sample.length = 0;
    if (this.config.randomSample > 0) this.peers.samplePeers(self, this.config.randomSample, sample);
    let maxHandle = Math.max(self, peer);
    for (let i = 0; i < n0; i++) if (views.ids[base + i] > maxHandle) maxHandle = views.ids[base + i];
    for (let i = 0; i < sample.length; i++) if (sample[i] > maxHandle) maxHandle = sample[i];
    if (maxHandle >= this.stamp.length) this.growStamps(maxHandle);
    const stamp = this.stamp;
    const epoch = this.nextEpoch();
    stamp[peer] = epoch; // never send the peer its own descriptor
    let n = 0;
    stamp[self] = epoch;
    candIds[n] = self;
    candKeys[n] = this.ownKey[self];
    candAges[n++] = 0;
    for (let i = 0; i < n0; i++) {
      const id = views.ids[base + i];
      if (stamp[id] === epoch) continue;
      stamp[id] = epoch;
      candIds[n] = id;
      candKeys[n] = views.keys[base + i];
      candAges[n++] = views.ages[base + i];
    }
    for (let i = 0; i < sample.length; i++) {
      const id = sample[i];
      if (id < 0 || stamp[id] === epoch || this.directory.groupOf(id) !== group) continue;
      stamp[id] = epoch;
      candIds[n] = id;
      candKeys[n] = this.directory.keyOf(id);
      candAges[n++] = sampleAge;
    }
    const order = this.order;
    const k = this.ranking.select(peerKey, candKeys, n, this.config.messageSize, order);
    const ids: PeerHandle[] = new Array(k);
    const keys: number[] = new Array(k);
    const ages: number[] = new Array(k);
    for (let i = 0; i < k; i++) {
      const j = order[i];
      ids[i] = candIds[j];
      keys[i] = candKeys[j];
      ages[i] = candAges[j];
    }
    return { senderKey: this.ownKey[self], group, ids, keys, ages };
  }

  /**
   * view ← the c best-ranked (for self) of view ∪ received, self, too old and recently failed peers
   * excluded; of two copies of a descriptor the younger age is kept.
   */
  private merge(self: PeerHandle, ids: readonly PeerHandle[], keys: readonly number[], ages: readonly number[]): void {
    const c = this.config.viewSize;
    const views = this.views;
    const base = self * c;
    const n0 = views.sizes[self];
    const m = Math.min(ids.length, keys.length, ages.length, this.config.messageSize);
    let maxHandle = self;
    for (let i = 0; i < m; i++) if (ids[i] > maxHandle) maxHandle = ids[i];
    for (let i = 0; i < n0; i++) if (views.ids[base + i] > maxHandle) maxHandle = views.ids[base + i];
    if (maxHandle >= this.stamp.length) this.growStamps(maxHandle);
    const stamp = this.stamp;
    const position = this.position;
    const epoch = this.nextEpoch();
    stamp[self] = epoch;
    position[self] = -1;
    for (let i = 0; i < n0; i++) {
      const id = views.ids[base + i];
      stamp[id] = epoch;
      position[id] = i;
    }
    const maxAge = this.config.maxAge;
    const checkFailures = this.config.failureMemory > 0;
    const candIds = this.candIds;
    const candKeys = this.candKeys;
    const candAges = this.candAges;
    let fresh = 0;
    for (let i = 0; i < m; i++) {
      const id = ids[i];
      // A hop costs one: otherwise a copy received after the holder's own cycle step is passed on
      // unchanged to nodes that have already stepped, and a dead node's age can stay 0 forever.
      const age = ages[i] + 1;
      if (id < 0 || !(age <= maxAge)) continue;
      if (stamp[id] === epoch) {
        const at = position[id];
        if (at >= 0 && age < views.ages[base + at]) views.ages[base + at] = age; // fresher news
        continue;
      }
      if (checkFailures && this.recentlyFailed(self, id)) continue;
      stamp[id] = epoch;
      position[id] = -1;
      candIds[fresh] = id;
      candKeys[fresh] = keys[i];
      candAges[fresh++] = age;
    }
    if (fresh === 0) return; // nothing new: the view is still the best-ranked set, in order
    // Candidates: the new descriptors (already in the scratch arrays) followed by the view.
    let n = fresh;
    for (let i = 0; i < n0; i++) {
      candIds[n] = views.ids[base + i];
      candKeys[n] = views.keys[base + i];
      candAges[n++] = views.ages[base + i];
    }
    this.keepBest(self, n);
  }

  /** Ranks candidates[0..n) for self and stores the c best as the view. */
  private keepBest(self: PeerHandle, n: number): void {
    const c = this.config.viewSize;
    const views = this.views;
    const base = self * c;
    const order = this.order;
    const k = this.ranking.select(this.ownKey[self], this.candKeys, n, c, order);
    for (let i = 0; i < k; i++) {
      const j = order[i];
      views.ids[base + i] = this.candIds[j];
      views.keys[base + i] = this.candKeys[j];
      views.ages[base + i] = this.candAges[j];
    }
    views.sizes[self] = k;
  }

  /**
   * Rebuilds the view from its entries that pass `keep`, ranked again: removing entries shifts the
   * others, which would break the successor/predecessor alternation selectPeer relies on.
   */
  private compact(self: PeerHandle, drop: PeerHandle, maxAge: number): void {
    const c = this.config.viewSize;
    const views = this.views;
    const base = self * c;
    const n0 = views.sizes[self];
    let n = 0;
    for (let i = 0; i < n0; i++) {
      const id = views.ids[base + i];
      if (id === drop || views.ages[base + i] > maxAge) continue;
      this.candIds[n] = id;
      this.candKeys[n] = views.keys[base + i];
      this.candAges[n++] = views.ages[base + i];
    }
    if (n === n0) return;
    this.keepBest(self, n);
  }

  private forget(self: PeerHandle, peer: PeerHandle): void {
    if (this.views.indexOf(self, peer) >= 0) this.compact(self, peer, MAX_AGE);
  }

  /** One more cycle for every entry of the view; entries older than maxAge leave it. */
  private increaseAges(self: PeerHandle): void {
    const c = this.config.viewSize;
    const ages = this.views.ages;
    const base = self * c;
    const n = this.views.sizes[self];
    const maxAge = this.config.maxAge;
    let expired = false;
    for (let i = 0; i < n; i++) {
      const a = ages[base + i] + 1;
      if (a <= MAX_AGE) ages[base + i] = a;
      if (a > maxAge) expired = true;
    }
    if (expired) this.compact(self, NO_PEER, maxAge);
  }

  private rememberFailure(self: PeerHandle, peer: PeerHandle): void {
    const f = this.config.failureMemory;
    if (f === 0) return;
    const at = self * f + this.failedNext[self];
    this.failedIds[at] = peer;
    this.failedAt[at] = this.steps[self];
    this.failedNext[self] = (this.failedNext[self] + 1) % f;
  }

  private recentlyFailed(self: PeerHandle, peer: PeerHandle): boolean {
    const f = this.config.failureMemory;
    const base = self * f;
    const oldest = this.steps[self] - this.config.maxAge;
    for (let i = 0; i < f; i++) if (this.failedIds[base + i] === peer && this.failedAt[base + i] > oldest) return true;
    return false;
  }

  private refreshGroup(self: PeerHandle): void {
    const group = this.directory.groupOf(self);
    if (group === this.ownGroup[self]) return;
    this.ownGroup[self] = group;
    this.views.sizes[self] = 0;
  }

  private closest(self: PeerHandle, clockwise: boolean): PeerHandle {
    const c = this.config.viewSize;
    const n = this.views.sizes[self];
    const own = this.ownKey[self];
    let best = NO_PEER;
    let bestDistance = Infinity;
    for (let i = 0; i < n; i++) {
      const key = this.views.keys[self * c + i];
      const cw = (key - own + RING) % RING;
      const d = clockwise ? cw : (RING - cw) % RING;
      if (d > 0 && d < bestDistance) {
        bestDistance = d;
        best = this.views.ids[self * c + i];
      }
    }
    return best;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private nextEpoch(): number {
    this.epoch++;
    if (this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    return this.epoch;
  }

  private growStamps(handle: PeerHandle): void {
    let size = this.stamp.length;
    while (size <= handle) size *= 2;
    const stamp = new Int32Array(size);
    stamp.set(this.stamp);
    this.stamp = stamp;
    this.position = new Int32Array(size);
  }
}

const RING = 4294967296;

function grownInt32(old: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  if (old.length >= size) return old;
  const a = new Int32Array(size);
  a.set(old);
  return a;
}
