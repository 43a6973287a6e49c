/**
 * Gossip-based aggregation: Jelasity, Montresor, Babaoglu, "Gossip-based aggregation in large
 * dynamic networks", ACM TOCS 23(3):219–252, 2005.
 *
 * Push-pull averaging (§2–3): once per cycle node p picks a random peer q from the peer sampling
 * service and sends its values; q replies with its old values and sets v_q = (v_p + v_q)/2; on the
 * reply p sets v_p = (v_p + v_q)/2. With atomic exchanges the sum of the values ("mass") never
 * changes and the variance shrinks by about 1/(2·sqrt(e)) per cycle. One exchange carries several
 * aggregates at once: AVERAGE of each attribute (and of its square, for VARIANCE), MIN and MAX by
 * propagation, and the COUNT instances (see count-instances.ts); SUM is AVERAGE × COUNT.
 *
 * Epochs (§4.1): the computation restarts every γ cycles so that it tracks a changing network. Each
 * node counts its own active steps (there is no global clock); the epoch id travels in every
 * message. A node that sees a newer epoch publishes what it had, abandons its epoch and joins the
 * newer one, re-reading its inputs; a node that receives a message of an older epoch does not
 * average with it but replies with its own epoch, so the straggler learns and joins. A node that
 * appears mid-epoch does not take part until the next epoch starts: it only learns the epoch id and
 * how far it has run (the `step` of the message), so that its own counter starts the next one in
 * time. Its values would otherwise add mass that was not there when the epoch began. Every node
 * also moves its counter up to the most advanced one it hears of in its epoch (minus one, so as
 * never to overtake it): counters stay aligned without a global clock, nodes start the next epoch
 * on their own counters in the same cycle, and epochs are never shortened.
 *
 * At the end of an epoch each participating node publishes the estimates it converged to; those are
 * what applications (the daemon) read. At the start of each epoch a node elects itself leader of a
 * COUNT instance with probability C/N̂ (§4.3), N̂ its last estimate.
 *
 * Asynchrony (event-driven engine, daemon): a node may answer other requests while its own is in
 * flight. The initiator then applies v_p += (v_q_old − v_p_sent)/2 rather than averaging with its
 * current value, which is the same thing when nothing happened meanwhile and keeps the sum exact
 * when something did. A lost request changes nothing; a lost reply leaves q updated and p not, so
 * mass is created or destroyed (the paper's asymmetric message loss): nothing is done in `fail`.
 */
import type { PeerHandle, PeerSampler } from '../../core/handles.js';
import type { Random } from '../../core/random.js';
import type { ExchangeProtocol, NodeState } from '../exchange.js';
import { type AggregateKind, type AggregationConfig, validateAggregationConfig } from './config.js';
import { CountInstances } from './count-instances.js';
import { resized } from '../../core/typed-arrays.js';

/** One aggregation message; the same shape serves as request and reply. */
export interface AggregationMessage {
  /** The sender's epoch, -1 if it does not know any yet. */
  readonly epoch: number;
  /** Active steps the sender has taken in `epoch` (lets newcomers time the next epoch). */
  readonly step: number;
  /**
   * Request: `values` and the COUNT instances are the sender's for `epoch`. Reply: the replier took
   * part and averaged with the request, and the values are its old ones. When false the message only
   * carries the epoch (e.g. from a newcomer, or to tell a straggler about a newer epoch).
   */
  readonly participating: boolean;
  /** The sender's best known network size (NaN if none), so newcomers can run the leader election. */
  readonly estimate: number;
  /** One number per scalar slot: averaged slots, then MIN slots, then MAX slots. */
  readonly values: readonly number[];
  /** COUNT instances: keys ascending, with the matching values. */
  readonly countKeys: readonly number[];
  readonly countValues: readonly number[];
}

/** Where each attribute's state lives among the scalar slots (-1: not kept). */
interface AttributeSlots {
  mean: number;
  square: number;
  min: number;
  max: number;
}

const NONE: readonly number[] = Object.freeze([]) as readonly number[];

/**
 * Per-node record in `nodes`, 16 bytes, so that the bookkeeping of an exchange touches a single
 * cache line per node (at 10^6 nodes every access to the peer's state is a cache miss).
 */
const EPOCH = 0;
const STEP = 1;
const PARTICIPATING = 2;
const PUBLISHED_EPOCH = 3;
const FIELDS = 4;

/**
 * A node joining an epoch because of a message from a node already this many steps into it does not
 * volunteer as a COUNT leader: an instance started late would not converge before the epoch ends,
 * and its small key could displace an instance that has been converging since the start.
 */
const LATEST_LEADER_STEP = 2;

export class Aggregation implements ExchangeProtocol<AggregationMessage, AggregationMessage>, NodeState {
  readonly name = 'aggregation';
  readonly epochLength: number;
  /** COUNT instances of every node, or null without COUNT. */
  readonly instances: CountInstances | null;
  private readonly slotsOf: AttributeSlots[];
  private readonly attributeIndex = new Map<string, number>();
  /** Averaged slots are [0, averaged), MIN slots [averaged, minEnd), MAX slots [minEnd, slotCount). */
  private readonly averaged: number;
  private readonly minEnd: number;
  private readonly slotCount: number;
  private slots: Float64Array[];
  /** Published estimates, one array per (attribute, kind) in `outputs`. */
  private readonly outputs: { attribute: number; kind: AggregateKind }[] = [];
  private readonly outputIndex = new Map<string, number>();
  private published: Float64Array[];
  /** Per-node record [epoch, step, participating, publishedEpoch]: see FIELDS. */
  private nodes = new Int32Array(0);
  private publishedCounts = new Float64Array(0);
  /** Best known network size: the node's own last COUNT result, else one heard from a peer; NaN. */
  private knownSizes = new Float64Array(0);
  private capacity = 0;

  constructor(
    readonly config: AggregationConfig,
    private readonly peers: PeerSampler,
    private readonly rng: Random,
  ) {
    validateAggregationConfig(config);
    this.epochLength = config.epochLength;
    this.instances = config.count ? new CountInstances(config.count.maxInstances) : null;
    // Slot layout: averaged quantities first, then minima, then maxima, so each exchange is three
    // tight loops with no per-slot branching.
    const slots: AttributeSlots[] = config.attributes.map(() => ({ mean: -1, square: -1, min: -1, max: -1 }));
    let next = 0;
    config.attributes.forEach((a, i) => {
      this.attributeIndex.set(a.name, i);
      const wants = (k: AggregateKind): boolean => a.aggregates.includes(k);
      if (wants('average') || wants('sum') || wants('variance')) slots[i].mean = next++;
      if (wants('variance')) slots[i].square = next++;
    });
    this.averaged = next;
    config.attributes.forEach((a, i) => {
      if (a.aggregates.includes('min')) slots[i].min = next++;
    });
    this.minEnd = next;
    config.attributes.forEach((a, i) => {
      if (a.aggregates.includes('max')) slots[i].max = next++;
    });
    this.slotCount = next;
    this.slotsOf = slots;
    this.slots = Array.from({ length: next }, () => new Float64Array(0));
    config.attributes.forEach((a, i) => {
      for (const kind of new Set(a.aggregates)) {
        this.outputIndex.set(`${a.name}\u0000${kind}`, this.outputs.length);
        this.outputs.push({ attribute: i, kind });
      }
    });
    this.published = this.outputs.map(() => new Float64Array(0));
  }

  // ---- NodeState ------------------------------------------------------------------------------

  ensureCapacity(capacity: number): void {
    if (capacity <= this.capacity) return;
    this.slots = this.slots.map((s) => resized(s, capacity));
    this.published = this.published.map((s) => resized(s, capacity));
    this.nodes = resized(this.nodes, capacity * FIELDS);
    this.publishedCounts = resized(this.publishedCounts, capacity);
    this.knownSizes = resized(this.knownSizes, capacity);
    this.instances?.ensureCapacity(capacity);
    this.capacity = capacity;
  }

  /** A new node: knows no epoch, takes part in none, has published nothing. */
  resetNode(self: PeerHandle): void {
    const at = self * FIELDS;
    this.nodes[at + EPOCH] = -1;
    this.nodes[at + STEP] = 0;
    this.nodes[at + PARTICIPATING] = 0;
    this.nodes[at + PUBLISHED_EPOCH] = -1;
    this.publishedCounts[self] = Number.NaN;
    this.knownSizes[self] = Number.NaN;
    for (const p of this.published) p[self] = Number.NaN;
    this.instances?.clear(self);
  }

  /**
   * Makes `self` take part in epoch 0 from now, with or without leading a COUNT instance: how a
   * whole simulated population starts together (as in the paper's experiments, where the set-up
   * decides the leaders of the first epoch), or how the founder of a new cloud starts computing.
   */
  beginFirstEpoch(self: PeerHandle, leader = false): void {
    this.startEpoch(self, 0, false);
    if (leader && this.instances) this.instances.lead(self, this.newKey());
  }

  // ---- Exchange -------------------------------------------------------------------------------

  /** The start of `self`'s active step, hence where its own cycle counter advances. */
  selectPeer(self: PeerHandle): PeerHandle {
    const at = self * FIELDS;
    if (this.nodes[at + STEP] >= this.epochLength) {
      const epoch = this.nodes[at + EPOCH];
      this.finish(self);
      // A node that has heard of no epoch for a whole epoch length is alone: it founds epoch 0.
      this.startEpoch(self, epoch < 0 ? 0 : epoch + 1, true);
    }
    this.nodes[at + STEP]++;
    return this.peers.samplePeer(self);
  }

  initiate(self: PeerHandle, _peer: PeerHandle): AggregationMessage {
    if (this.nodes[self * FIELDS + PARTICIPATING] !== 1) return this.epochOnly(self);
    let values = NONE;
    if (this.slotCount > 0) {
      const v = new Array<number>(this.slotCount);
      for (let s = 0; s < this.slotCount; s++) v[s] = this.slots[s][self];
      values = v;
    }
    let keys = NONE;
    let counts = NONE;
    if (this.instances) {
      const k: number[] = [];
      const v: number[] = [];
      this.instances.write(self, k, v);
      keys = k;
      counts = v;
    }
    return this.message(self, true, values, keys, counts);
  }

  handle(self: PeerHandle, _from: PeerHandle, req: AggregationMessage): AggregationMessage {
    this.sync(self, req);
    const at = self * FIELDS;
    if (!req.participating || this.nodes[at + PARTICIPATING] !== 1 || this.nodes[at + EPOCH] !== req.epoch || !this.fits(req)) return this.epochOnly(self);
    const slots = this.slots;
    const theirs = req.values;
    const old = this.slotCount > 0 ? new Array<number>(this.slotCount) : [];
    let s = 0;
    for (; s < this.averaged; s++) {
      const mine = slots[s][self];
      old[s] = mine;
      slots[s][self] = (mine + theirs[s]) / 2;
    }
    for (; s < this.minEnd; s++) {
      const mine = slots[s][self];
      old[s] = mine;
      if (theirs[s] < mine) slots[s][self] = theirs[s];
    }
    for (; s < this.slotCount; s++) {
      const mine = slots[s][self];
      old[s] = mine;
      if (theirs[s] > mine) slots[s][self] = theirs[s];
    }
    let keys = NONE;
    let counts = NONE;
    if (this.instances) {
      const k: number[] = [];
      const v: number[] = [];
      this.instances.respond(self, req.countKeys, req.countValues, k, v);
      keys = k;
      counts = v;
    }
    return this.message(self, true, old, keys, counts);
  }

  complete(self: PeerHandle, _peer: PeerHandle, req: AggregationMessage, res: AggregationMessage): void {
    this.sync(self, res);
    if (!res.participating || !req.participating) return;
    // The reply must belong to the epoch the request was sent in, and `self` must still be in it.
    const at = self * FIELDS;
    if (res.epoch !== req.epoch || this.nodes[at + EPOCH] !== req.epoch || this.nodes[at + PARTICIPATING] !== 1 || !this.fits(res)) return;
    const slots = this.slots;
    const sentValues = req.values;
    const theirs = res.values;
    let s = 0;
    for (; s < this.averaged; s++) {
      const current = slots[s][self];
      const sent = sentValues[s];
      slots[s][self] = current === sent ? (sent + theirs[s]) / 2 : current + (theirs[s] - sent) / 2;
    }
    for (; s < this.minEnd; s++) if (theirs[s] < slots[s][self]) slots[s][self] = theirs[s];
    for (; s < this.slotCount; s++) if (theirs[s] > slots[s][self]) slots[s][self] = theirs[s];
    this.instances?.settle(self, req.countKeys, req.countValues, res.countKeys, res.countValues);
  }

  /**
   * No reply. A lost request changed nothing anywhere. A lost reply means the peer has averaged and
   * this node has not: the exchange cannot be undone (the node does not even know which happened),
   * so the mass error stays, as in the paper's analysis of message omission.
   */
  fail(_self: PeerHandle, _peer: PeerHandle, _req: AggregationMessage): void {}

  // ---- Reading the results ----------------------------------------------------------------------

  /** The epoch `self` is in (taking part or waiting for the next one); -1 if it knows none. */
  epochOf(self: PeerHandle): number {
    return this.nodes[self * FIELDS + EPOCH];
  }

  /** Active steps `self` has taken in its current epoch. */
  stepOf(self: PeerHandle): number {
    return this.nodes[self * FIELDS + STEP];
  }

  /** Whether `self` takes part in its current epoch (false for nodes that joined mid-epoch). */
  isParticipating(self: PeerHandle): boolean {
    return this.nodes[self * FIELDS + PARTICIPATING] === 1;
  }

  /** The in-epoch (not yet converged) estimate of `kind` for `attribute` at `self`. */
  currentEstimate(self: PeerHandle, attribute: string, kind: AggregateKind): number {
    const slots = this.slotsOf[this.attribute(attribute)];
    if (!this.outputIndex.has(`${attribute}\u0000${kind}`)) throw new RangeError(`attribute "${attribute}" does not compute ${kind}`);
    return this.computeEstimate(self, slots, kind, this.countEstimate(self));
  }

  /** The in-epoch COUNT estimate N̂ at `self` (NaN before it holds any mass). */
  countEstimate(self: PeerHandle): number {
    return this.instances ? this.instances.estimate(self) : Number.NaN;
  }

  /** The estimate `self` published at the end of its last finished epoch (NaN before that). */
  publishedEstimate(self: PeerHandle, attribute: string, kind: AggregateKind): number {
    const i = this.outputIndex.get(`${attribute}\u0000${kind}`);
    if (i === undefined) throw new RangeError(`attribute "${attribute}" does not compute ${kind}`);
    return this.published[i][self];
  }

  /** The COUNT result of `self`'s last finished epoch that produced one (NaN before that). */
  publishedCount(self: PeerHandle): number {
    return this.publishedCounts[self];
  }

  /** The epoch whose results `self` published last (-1 if none). */
  publishedEpochOf(self: PeerHandle): number {
    return this.nodes[self * FIELDS + PUBLISHED_EPOCH];
  }

  /** Best network size `self` knows: its own published COUNT, else one heard from a peer, else NaN. */
  knownSize(self: PeerHandle): number {
    return this.knownSizes[self];
  }

  /**
   * The averaged values of `attribute` (mean slot) for all handles, for observers' hot loops. The
   * array is replaced when capacity grows: fetch it again for each observation.
   */
  meanValues(attribute: string): Float64Array {
    const slot = this.slotsOf[this.attribute(attribute)].mean;
    if (slot < 0) throw new RangeError(`attribute "${attribute}" is not averaged (ask for average, sum or variance)`);
    return this.slots[slot];
  }

  // ---- Epochs -----------------------------------------------------------------------------------

  /** Applies the epoch rules to an incoming message. */
  private sync(self: PeerHandle, msg: AggregationMessage): void {
    if (this.instances && !(this.knownSizes[self] > 0) && msg.estimate > 0) this.knownSizes[self] = msg.estimate;
    const theirs = msg.epoch;
    if (theirs < 0) return;
    const at = self * FIELDS;
    const mine = this.nodes[at + EPOCH];
    if (mine < 0) {
      // A newcomer: wait for the next epoch, timed by the sender's counter. One step less than the
      // sender (whose count may already include its step of this cycle, while the newcomer's step is
      // still to come), so that no node ever starts an epoch before the nodes already in it.
      this.nodes[at + EPOCH] = theirs;
      this.nodes[at + STEP] = Math.max(0, msg.step - 1);
      this.nodes[at + PARTICIPATING] = 0;
    } else if (theirs > mine) {
      this.finish(self);
      this.startEpoch(self, theirs, msg.step <= LATEST_LEADER_STEP);
      this.nodes[at + STEP] = Math.max(0, msg.step - 1);
    } else if (theirs === mine && msg.step - 1 > this.nodes[at + STEP]) {
      // Clock synchronisation by max-propagation: catch up with the most advanced counter heard in
      // this epoch, minus one so as never to overtake it. Nodes that entered the epoch late (pulled
      // in by a message, or joined while the network grew) would otherwise stay late and reach every
      // following boundary after the others, to be pulled in again by an epidemic of several cycles.
      this.nodes[at + STEP] = msg.step - 1;
    }
  }

  private startEpoch(self: PeerHandle, epoch: number, mayLead: boolean): void {
    const at = self * FIELDS;
    this.nodes[at + EPOCH] = epoch;
    this.nodes[at + STEP] = 0;
    this.nodes[at + PARTICIPATING] = 1;
    const attributes = this.config.attributes;
    for (let i = 0; i < attributes.length; i++) {
      const x = attributes[i].input(self);
      if (!Number.isFinite(x)) throw new RangeError(`input of attribute "${attributes[i].name}" at node ${self} is not a finite number: ${x}`);
      const at = this.slotsOf[i];
      if (at.mean >= 0) this.slots[at.mean][self] = x;
      if (at.square >= 0) this.slots[at.square][self] = x * x;
      if (at.min >= 0) this.slots[at.min][self] = x;
      if (at.max >= 0) this.slots[at.max][self] = x;
    }
    const instances = this.instances;
    if (!instances) return;
    instances.clear(self);
    if (!mayLead) return;
    const count = this.config.count!;
    const known = this.knownSizes[self];
    const estimate = known > 0 ? known : count.initialEstimate;
    if (this.rng.next() < count.leaders / estimate) instances.lead(self, this.newKey());
  }

  /** Leaving an epoch: publish its estimates if `self` took part in it. */
  private finish(self: PeerHandle): void {
    const at = self * FIELDS;
    if (this.nodes[at + PARTICIPATING] !== 1) return;
    const count = this.countEstimate(self);
    // An epoch without any leader yields no size: keep the previous one (and SUM uses it).
    if (count > 0 && Number.isFinite(count)) {
      this.publishedCounts[self] = count;
      this.knownSizes[self] = count;
    }
    const size = this.publishedCounts[self];
    for (let i = 0; i < this.outputs.length; i++) {
      const o = this.outputs[i];
      this.published[i][self] = this.computeEstimate(self, this.slotsOf[o.attribute], o.kind, size);
    }
    this.nodes[at + PUBLISHED_EPOCH] = this.nodes[at + EPOCH];
  }

  private computeEstimate(self: PeerHandle, at: AttributeSlots, kind: AggregateKind, size: number): number {
    switch (kind) {
      case 'average':
        return this.slots[at.mean][self];
      case 'sum':
        return this.slots[at.mean][self] * size;
      case 'min':
        return this.slots[at.min][self];
      case 'max':
        return this.slots[at.max][self];
      case 'variance': {
        const m = this.slots[at.mean][self];
        return Math.max(0, this.slots[at.square][self] - m * m);
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private attribute(name: string): number {
    const i = this.attributeIndex.get(name);
    if (i === undefined) throw new RangeError(`unknown aggregated attribute "${name}"`);
    return i;
  }

  /**
   * Whether a participating message has the shape this node's configuration expects (the same
   * slots, at most K instances): a peer configured differently is ignored rather than averaged with.
   */
  private fits(msg: AggregationMessage): boolean {
    const k = this.instances ? this.instances.k : 0;
    return msg.values.length === this.slotCount && msg.countKeys.length === msg.countValues.length && msg.countKeys.length <= k;
  }

  /** A random instance key in 1..2^32-1 (0 is never used, so a zeroed table reads as empty). */
  private newKey(): number {
    return 1 + this.rng.int(0xffffffff);
  }

  private epochOnly(self: PeerHandle): AggregationMessage {
    return this.message(self, false, NONE, NONE, NONE);
  }

  private message(
    self: PeerHandle,
    participating: boolean,
    values: readonly number[],
    countKeys: readonly number[],
    countValues: readonly number[],
  ): AggregationMessage {
    const at = self * FIELDS;
    const estimate = this.instances ? this.knownSizes[self] : Number.NaN;
    return { epoch: this.nodes[at + EPOCH], step: this.nodes[at + STEP], participating, estimate, values, countKeys, countValues };
  }
}
