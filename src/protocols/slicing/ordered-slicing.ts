/**
 * Ordered slicing by random-value swapping: the JK algorithm of Jelasity & Kermarrec, "Ordered
 * slicing of very large-scale overlay networks", IEEE P2P 2006 (§4), and its variant mod-JK
 * (§4.2; also evaluated by Fernández, Gramoli, Jiménez, Kermarrec, Raynal, "Distributed slicing
 * in dynamic systems", ICDCS 2007, §4).
 *
 * Node i holds its attribute a_i and a random value r_i drawn uniformly from (0, 1] when it joins.
 * When i gossips with j and (a_i − a_j)(r_i − r_j) < 0, the two swap their r values. The swaps sort
 * the r values in the order of the attributes; a node's slice is the interval of (0, 1] that holds
 * its r, and r itself is its rank estimate. Because the r values are a random sample and not an
 * exact uniform grid, the estimate stops improving once sorted (the "plateau" of both papers).
 *
 * Peer selection:
 * - `random` (JK): a uniform peer from the peer sampling service;
 * - `best-swap` (mod-JK): among the neighbours whose (a, r) the node knows, the one whose swap
 *   reduces the disorder most. Swapping i and j changes the global disorder Σ(α − ρ)² by
 *   2(α_i − α_j)(ρ_i − ρ_j), so the node picks the j maximising (a_j − a_i)(r_i − r_j) > 0 (values
 *   standing in for ranks), and explores a random peer when no known neighbour qualifies. Known
 *   neighbours live in a small DescriptorCache fed by the slicing messages (see there).
 *
 * The exchange (request carries (a_i, r_i); the peer swaps if disordered and answers with its old
 * r_j; the initiator then takes r_j):
 *   - is exact in the cycle-driven engine, where exchanges are atomic;
 *   - stays exact in the event-driven engine thanks to a per-node "exchange in flight" flag: while
 *     its own request is outstanding a node refuses to swap with anyone else (it answers without
 *     swapping), so the r_i it sent is still its value when the reply arrives, and a node never has
 *     two outstanding exchanges. Concurrency therefore only costs some swaps, never duplicates or
 *     loses r values;
 *   - duplicates/loses one value when the *reply* is lost or times out after the peer swapped: the
 *     peer already holds r_i while i keeps it too, and r_j is gone. This is what the paper's
 *     protocol does under message loss; a lost request changes nothing.
 */
import { NO_PEER, type PeerHandle, type PeerSampler } from '../../core/handles.js';
import type { Random } from '../../core/random.js';
import type { ExchangeProtocol, NodeState } from '../exchange.js';
import { DescriptorCache } from './descriptor-cache.js';
import { type AttributeSource, type SliceEstimator, rankInTop, readAttribute, sliceOfRank } from './slices.js';

export interface OrderedSlicingConfig {
  /** `random`: JK; `best-swap`: mod-JK. */
  peerSelection: 'random' | 'best-swap';
  /** mod-JK: descriptors (peer, a, r) a node remembers. */
  cacheSize: number;
  /** mod-JK: cached descriptors piggybacked on each message, besides the sender's own. */
  gossip: number;
}

export const defaultOrderedSlicingConfig: OrderedSlicingConfig = { peerSelection: 'random', cacheSize: 10, gossip: 3 };

/** Descriptors piggybacked for mod-JK (empty for JK). */
export interface SlicingDescriptors {
  ids: PeerHandle[];
  attrs: number[];
  rs: number[];
  ages: number[];
}

export interface SwapRequest {
  a: number;
  r: number;
  gossip: SlicingDescriptors | null;
}

export interface SwapReply {
  /** True when the responder took the initiator's r and `r` is the responder's previous value. */
  swapped: boolean;
  /** The responder's attribute and its r before the exchange. */
  a: number;
  r: number;
  gossip: SlicingDescriptors | null;
}

export class OrderedSlicing implements ExchangeProtocol<SwapRequest, SwapReply>, NodeState, SliceEstimator {
  readonly name: string;
  readonly config: OrderedSlicingConfig;
  /** Attribute a_i and random value r_i per node. */
  attrs = new Float64Array(0);
  rs = new Float64Array(0);
  /** 1 while the node's own exchange is in flight. */
  private pending = new Uint8Array(0);
  private readonly cache: DescriptorCache | null;
  /** Swaps performed (counted at the responder), for observers and tests. */
  swaps = 0;

  constructor(
    private readonly peers: PeerSampler,
    private readonly attribute: AttributeSource,
    private readonly rng: Random,
    config: Partial<OrderedSlicingConfig> = {},
  ) {
    this.config = { ...defaultOrderedSlicingConfig, ...config };
    const { peerSelection, cacheSize, gossip } = this.config;
    if (peerSelection !== 'random' && peerSelection !== 'best-swap') {
      throw new RangeError(`peerSelection must be random (JK) or best-swap (mod-JK), got ${String(peerSelection)}`);
    }
    if (!Number.isInteger(cacheSize) || cacheSize < 1 || cacheSize > 255) throw new RangeError(`cache size must be an integer in 1..255, got ${cacheSize}`);
    if (!Number.isInteger(gossip) || gossip < 0 || gossip > cacheSize) throw new RangeError(`gossip must be an integer in 0..cacheSize, got ${gossip}`);
    this.cache = peerSelection === 'best-swap' ? new DescriptorCache(cacheSize) : null;
    this.name = peerSelection === 'best-swap' ? 'mod-jk' : 'jk';
  }

  ensureCapacity(capacity: number): void {
    if (capacity <= this.attrs.length) return;
    let next = Math.max(1, this.attrs.length);
    while (next < capacity) next *= 2;
    const attrs = new Float64Array(next);
    attrs.set(this.attrs);
    const rs = new Float64Array(next);
    rs.set(this.rs);
    const pending = new Uint8Array(next);
    pending.set(this.pending);
    this.attrs = attrs;
    this.rs = rs;
    this.pending = pending;
    this.cache?.ensureCapacity(next);
  }

  resetNode(self: PeerHandle): void {
    this.attrs[self] = readAttribute(this.attribute, self);
    this.rs[self] = 1 - this.rng.next(); // uniform in (0, 1]
    this.pending[self] = 0;
    this.cache?.clear(self);
  }

  // ---- SliceEstimator -------------------------------------------------------------------------

  estimatedRank(self: PeerHandle): number {
    return this.rs[self];
  }

  slice(self: PeerHandle, s: number): number {
    return sliceOfRank(this.rs[self], s);
  }

  inTopFraction(self: PeerHandle, p: number): boolean {
    return rankInTop(this.rs[self], p);
  }

  // ---- Exchange -------------------------------------------------------------------------------

  selectPeer(self: PeerHandle): PeerHandle {
    if (this.pending[self] === 1) return NO_PEER; // one exchange at a time (see the module comment)
    this.attrs[self] = readAttribute(this.attribute, self); // attributes may change (load, …)
    const cache = this.cache;
    if (cache !== null) {
      cache.age(self);
      const best = this.bestSwapPartner(self, cache);
      if (best !== NO_PEER) return best;
    }
    const peer = this.peers.samplePeer(self);
    return peer === self ? NO_PEER : peer;
  }

  initiate(self: PeerHandle, _peer: PeerHandle): SwapRequest {
    this.pending[self] = 1;
    return { a: this.attrs[self], r: this.rs[self], gossip: this.makeGossip(self) };
  }

  handle(self: PeerHandle, from: PeerHandle, req: SwapRequest): SwapReply {
    const a = this.attrs[self];
    const r = this.rs[self];
    const gossip = this.makeGossip(self);
    let swapped = false;
    // A node with its own exchange in flight keeps its value (so that its pending swap stays exact).
    if (this.pending[self] === 0 && (req.a - a) * (req.r - r) < 0) {
      this.rs[self] = req.r;
      swapped = true;
      this.swaps++;
    }
    if (this.cache !== null) {
      this.cache.put(self, from, req.a, req.r, 0);
      this.absorb(self, req.gossip);
    }
    return { swapped, a, r, gossip };
  }

  complete(self: PeerHandle, peer: PeerHandle, req: SwapRequest, res: SwapReply): void {
    this.pending[self] = 0;
    if (res.swapped) this.rs[self] = res.r;
    if (this.cache !== null) {
      // The peer now holds what we sent if it swapped.
      this.cache.put(self, peer, res.a, res.swapped ? req.r : res.r, 0);
      this.absorb(self, res.gossip);
    }
  }

  fail(self: PeerHandle, peer: PeerHandle, _req: SwapRequest): void {
    this.pending[self] = 0;
    this.cache?.remove(self, peer);
  }

  // ---- mod-JK ---------------------------------------------------------------------------------

  private bestSwapPartner(self: PeerHandle, cache: DescriptorCache): PeerHandle {
    const base = self * cache.k;
    const n = cache.sizes[self];
    const a = this.attrs[self];
    const r = this.rs[self];
    let best = NO_PEER;
    let bestGain = 0;
    for (let i = 0; i < n; i++) {
      const gain = (cache.attrs[base + i] - a) * (r - cache.rs[base + i]);
      if (gain > bestGain) {
        bestGain = gain;
        best = cache.ids[base + i];
      }
    }
    return best;
  }

  private makeGossip(self: PeerHandle): SlicingDescriptors | null {
    const cache = this.cache;
    if (cache === null || this.config.gossip === 0) return null;
    const n = cache.sizes[self];
    const k = Math.min(this.config.gossip, n);
    const out: SlicingDescriptors = { ids: [], attrs: [], rs: [], ages: [] };
    const base = self * cache.k;
    // k distinct entries: consecutive slots from a random start (the cache order carries no meaning).
    const start = n > 0 ? this.rng.int(n) : 0;
    for (let i = 0; i < k; i++) {
      const at = base + ((start + i) % n);
      out.ids.push(cache.ids[at]);
      out.attrs.push(cache.attrs[at]);
      out.rs.push(cache.rs[at]);
      out.ages.push(cache.ages[at]);
    }
    return out;
  }

  private absorb(self: PeerHandle, gossip: SlicingDescriptors | null): void {
    if (gossip === null || this.cache === null) return;
    const m = Math.min(gossip.ids.length, this.config.gossip);
    for (let i = 0; i < m; i++) this.cache.put(self, gossip.ids[i], gossip.attrs[i], gossip.rs[i], gossip.ages[i] + 1);
  }
}
