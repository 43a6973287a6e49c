/**
 * Slicing by rank estimation: the "ranking" algorithm of Fernández, Gramoli, Jiménez, Kermarrec,
 * Raynal, "Distributed slicing in dynamic systems", ICDCS 2007 (§5; journal version in Handbook of
 * P2P Networking / INRIA RR-6051). Instead of sorting random values, every node estimates its
 * normalized rank directly as the fraction of the attribute values it has sampled that are lower
 * than its own. The estimate has no systematic error, so it keeps improving with the number of
 * samples where JK plateaus; over a sliding window of the last W samples it follows churn.
 *
 * Where the samples come from (the paper: attribute values travelling with the gossip messages of
 * the peer sampling layer):
 * - the exchange: each cycle a node gossips with a random peer; the request carries its attribute
 *   value and the reply the peer's, and both sides count the value they receive;
 * - `samplesPerCycle` further peers from the peer sampling service, whose attribute values are read
 *   through the injected AttributeSource. That stands for "descriptors from peer sampling carry the
 *   attribute value" (the simulator reads its attribute table, the daemon its peer directory).
 *   A peer that stays in the sampling view may be counted again in a later cycle: this correlates
 *   samples (slower convergence) but does not bias the estimate.
 *
 * The window is a ring of W bits per node ("was this sample lower than my value?") plus the number
 * of ones, so the estimate is O(1) and a node costs W/8 bytes (128 bytes for W = 1024).
 */
import { NO_PEER, type PeerHandle, type PeerSampler } from '../../core/handles.js';
import type { Random } from '../../core/random.js';
import type { ExchangeProtocol, NodeState } from '../exchange.js';
import { type AttributeSource, type SliceEstimator, rankInTop, readAttribute, sliceOfRank } from './slices.js';

export interface RankEstimationConfig {
  /** W: the estimate uses the last W sampled values. */
  window: number;
  /** Extra attribute values read from peer sampling descriptors per cycle. */
  samplesPerCycle: number;
}

export const defaultRankEstimationConfig: RankEstimationConfig = { window: 1024, samplesPerCycle: 8 };

/** Both the request and the reply carry the sender's attribute value. */
export interface AttributeMessage {
  a: number;
}

export class RankEstimation implements ExchangeProtocol<AttributeMessage, AttributeMessage>, NodeState, SliceEstimator {
  readonly name = 'ranking';
  readonly config: RankEstimationConfig;
  attrs = new Float64Array(0);
  private readonly words: number;
  private bits = new Uint32Array(0);
  /** Samples in the window (≤ W), how many of them were lower, and where the next one goes. */
  private counts = new Int32Array(0);
  private lowers = new Int32Array(0);
  private heads = new Int32Array(0);
  private readonly sample: PeerHandle[] = [];

  constructor(
    private readonly peers: PeerSampler,
    private readonly attribute: AttributeSource,
    private readonly rng: Random,
    config: Partial<RankEstimationConfig> = {},
  ) {
    this.config = { ...defaultRankEstimationConfig, ...config };
    const { window, samplesPerCycle } = this.config;
    if (!Number.isInteger(window) || window < 1 || window > 1 << 20) throw new RangeError(`window must be an integer in 1..${1 << 20}, got ${window}`);
    if (!Number.isInteger(samplesPerCycle) || samplesPerCycle < 0 || samplesPerCycle > 1024) {
      throw new RangeError(`samplesPerCycle must be an integer in 0..1024, got ${samplesPerCycle}`);
    }
    this.words = (window + 31) >>> 5;
  }

  ensureCapacity(capacity: number): void {
    if (capacity <= this.attrs.length) return;
    let next = Math.max(1, this.attrs.length);
    while (next < capacity) next *= 2;
    const attrs = new Float64Array(next);
    attrs.set(this.attrs);
    this.attrs = attrs;
    const bits = new Uint32Array(next * this.words);
    bits.set(this.bits);
    this.bits = bits;
    const counts = new Int32Array(next);
    counts.set(this.counts);
    this.counts = counts;
    const lowers = new Int32Array(next);
    lowers.set(this.lowers);
    this.lowers = lowers;
    const heads = new Int32Array(next);
    heads.set(this.heads);
    this.heads = heads;
  }

  resetNode(self: PeerHandle): void {
    this.attrs[self] = readAttribute(this.attribute, self);
    this.counts[self] = 0;
    this.lowers[self] = 0;
    this.heads[self] = 0;
    this.bits.fill(0, self * this.words, (self + 1) * this.words);
  }

  /** Samples currently in the node's window. */
  sampleCount(self: PeerHandle): number {
    return this.counts[self];
  }

  /** Counts one observed attribute value (public so tests and the daemon can feed values). */
  observe(self: PeerHandle, value: number): void {
    const lower = value < this.attrs[self] ? 1 : 0;
    const w = this.config.window;
    const head = this.heads[self];
    const word = self * this.words + (head >>> 5);
    const mask = 1 << (head & 31);
    if (this.counts[self] === w) {
      // Window full: the slot at `head` holds the oldest sample; forget it.
      if ((this.bits[word] & mask) !== 0) this.lowers[self]--;
    } else {
      this.counts[self]++;
    }
    if (lower === 1) {
      this.bits[word] |= mask;
      this.lowers[self]++;
    } else {
      this.bits[word] &= ~mask;
    }
    this.heads[self] = head + 1 === w ? 0 : head + 1;
  }

  // ---- SliceEstimator -------------------------------------------------------------------------

  /** lower / sampled; 0.5 (no information: the middle) before the first sample. */
  estimatedRank(self: PeerHandle): number {
    const n = this.counts[self];
    return n === 0 ? 0.5 : this.lowers[self] / n;
  }

  slice(self: PeerHandle, s: number): number {
    return sliceOfRank(this.estimatedRank(self), s);
  }

  inTopFraction(self: PeerHandle, p: number): boolean {
    return rankInTop(this.estimatedRank(self), p);
  }

  // ---- Exchange -------------------------------------------------------------------------------

  selectPeer(self: PeerHandle): PeerHandle {
    this.attrs[self] = readAttribute(this.attribute, self);
    const k = this.config.samplesPerCycle;
    if (k > 0) {
      const sample = this.sample;
      sample.length = 0;
      this.peers.samplePeers(self, k, sample);
      for (let i = 0; i < sample.length; i++) {
        if (sample[i] !== self && sample[i] >= 0) this.observe(self, readAttribute(this.attribute, sample[i]));
      }
    }
    const peer = this.peers.samplePeer(self);
    return peer === self ? NO_PEER : peer;
  }

  initiate(self: PeerHandle, _peer: PeerHandle): AttributeMessage {
    return { a: this.attrs[self] };
  }

  handle(self: PeerHandle, _from: PeerHandle, req: AttributeMessage): AttributeMessage {
    this.observe(self, req.a);
    return { a: this.attrs[self] };
  }

  complete(self: PeerHandle, _peer: PeerHandle, _req: AttributeMessage, res: AttributeMessage): void {
    this.observe(self, res.a);
  }

  fail(): void {
    // Nothing learned; the next cycle samples again.
  }
}
