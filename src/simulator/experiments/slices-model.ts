/**
 * Slice allocation as the daemon runs it (src/slices: agent.ts, owner.ts, reach.ts, membership.ts),
 * modelled hop by hop for the simulator. The daemon's agent and owner are asynchronous, exchange
 * signed JSON over the transport and verify Ed25519 grants on every hop; none of that changes *who*
 * is asked, *who* offers and *who* ends up in which slice, which is what this model keeps:
 *
 *   - call, in waves (reach=waves, the daemon's way for unranked count requests): the call carries
 *     a budget of nodes to reach; a node keeps one if it had not seen the request and splits the
 *     rest among up to `fanout` random peers (never the owner) while the ttl lasts; the first wave
 *     reaches REACH_FACTOR × (want + spares) / match ratio nodes, each next one at least twice as
 *     many (reach.ts), until a wave would reach half the network, which is flooded instead;
 *   - call, flooded (reach=flood, and every wave that would reach most of the network): the owner's
 *     node considers the call itself, then sends it to `fanout` random peers of its peer sampling
 *     view; a node seeing the flood for the first time forwards it to `fanout` random peers while
 *     its ttl lasts; ttl = min(32, ⌈log2 N⌉ + 3);
 *   - offer: a matching node reserves itself (SliceMembership.reserve, the daemon's own class) and
 *     offers itself, once per request; a busy one offers "busy"; a member of the very slice stays
 *     silent; if the owner refuses the offer (collection closed) or cannot be reached, the node
 *     lets its reservation go;
 *   - the owner stops collecting once want + spares available offers are in (spares=1; reach.ts
 *     sparesFor), or want and a short grace has passed, or at the end of the wave (then the next,
 *     wider wave) or of the flood's window; each of `want` confirmation slots confirms the next
 *     offer until one accepts (a spare replaces a failure at once); the offers left are cancelled;
 *   - too few offers while enough matching nodes were busy: the attempt confirms nobody, cancels
 *     every offer and, after a randomized, growing backoff, another attempt (a new request id)
 *     asks again; enough offers but confirmations failed beyond the spares: the confirmed stay and
 *     another attempt is for the shortfall; up to `attempts` attempts within the deadline; then a
 *     create with too few confirmations dismisses the ones it got (nothing is kept);
 *   - leases: the owner renews every member every third of the lease with the member list (the
 *     ring's seed); a member that refuses is dropped at once, one that cannot be reached is asked
 *     again after min(a sixth of the lease, 1 s) and dropped if that fails too; a drop makes the
 *     owner refill the slice (keepSize) and send every member the new list right away; at each
 *     renewal tick a keepSize slice short of its target tries to refill again.
 *
 * Time: messages travel one *hop* each; `hopsPerCycle` hops run before every gossip cycle. A
 * request sent at hop h is handled at hop h+1 and its reply arrives at hop h+2. A message to a dead
 * node fails at the sender one hop later (kill -9: connection refused). Messages of a hop are
 * handled in a random order (seeded), so racing requests interleave fairly.
 *
 * Deviations, on purpose: the owner's collection window is in hops (the daemon's is 1.5 s, which on
 * a LAN is many hops), and so are the wave (a third of it), the spares' grace (a tenth), the
 * deadline (4 windows) and the backoff (a sixth, doubling); the network size is the true one (the
 * daemon uses its aggregation estimate); grants, policies and rank filters are not modelled (every
 * node accepts every user); attributes match with a probability `match` through the node's
 * attribute value.
 */
import type { PeerHandle, PeerSampler } from '../../core/handles.js';
import type { Random } from '../../core/random.js';
import { type SliceRef, SliceMembership, groupOfSlice } from '../../slices/membership.js';
import { MAX_ATTEMPTS } from '../../slices/owner.js';
import { firstReach, nextReach, sparesFor, splitBudget } from '../../slices/reach.js';
import type { Population } from '../population.js';

/** The daemon's defaults, in cycles of Δ = 1 s (agent.ts, owner.ts, config slices.leaseMs). */
export interface AllocationSettings {
  /** Peers a call is sent or forwarded to (agent.ts / owner.ts: 4). */
  fanout: number;
  /**
   * How long a node holds itself for a request it offered itself to (agent.ts: 10 s). null: 10
   * cycles, or longer if the owner's deadline plus a confirmation round trip is longer: the
   * daemon's hold (10 s) is longer than its allocation deadline (6 s), and with hops as slow as
   * cycles the model keeps that relation rather than the 10 (offers would expire before the owner
   * confirms them).
   */
  holdCycles: number | null;
  /** Membership lease; renewed every third of it (slices.leaseMs: 30 s). */
  leaseCycles: number;
  /** Message hops per gossip cycle. */
  hopsPerCycle: number;
  /** Hops the owner collects offers of a flooded call at most; null: ttl + 3 (enough for the call to reach everyone and offers to return). */
  windowHops: number | null;
  /** Replace members that left after each renewal (slice create --keep-size). */
  keepSize: boolean;
  /** waves: unranked count requests go out in waves sized to the count (the daemon); flood: every call floods (before). */
  reach: 'waves' | 'flood';
  /** Keep spare offers beyond the count (the daemon); false: collection closes at exactly the count (before). */
  spares: boolean;
  /** Attempts of an allocation that falls short because of contention (the daemon: MAX_ATTEMPTS; 1: no retry, before). */
  attempts: number;
}

export const defaultAllocationSettings: AllocationSettings = {
  fanout: 4,
  holdCycles: null,
  leaseCycles: 30,
  hopsPerCycle: 1,
  windowHops: null,
  keepSize: false,
  reach: 'waves',
  spares: true,
  attempts: MAX_ATTEMPTS,
};

/** Message kinds; requests are counted as messages, replies travel back on the same exchange. */
export const enum Kind {
  Call,
  Offer,
  OfferReply,
  Confirm,
  ConfirmReply,
  Cancel,
  Renew,
  RenewReply,
  Leave,
}

const REQUEST_KIND_NAMES = ['calls', 'offers', '', 'confirms', '', 'cancels', 'renews', '', 'leaves'] as const;

/** A call's budget meaning "flooded". */
const FLOOD = -1;

class Message {
  constructor(
    readonly kind: Kind,
    readonly from: PeerHandle,
    readonly to: PeerHandle,
    readonly alloc: Allocation | null,
    readonly slice: SimSlice | null,
    /** Call: hops it may still travel. */
    readonly ttl: number,
    /** Offer: available; replies: accepted (false also when the request failed to arrive). */
    readonly ok: boolean,
    readonly members: readonly PeerHandle[] | null,
    /** Replies: the request reached a live node (false: the sender sees a failure, not a refusal). */
    readonly reached = true,
    /** Call: nodes it should still reach (FLOOD: flooded). */
    readonly budget = FLOOD,
  ) {}
}

/** Message counts of one allocation, over all its attempts (requests only). */
export interface AllocationStats {
  calls: number;
  offers: number;
  busyOffers: number;
  confirms: number;
  cancels: number;
  /** Nodes the call reached, the owner's own node included (distinct per attempt, summed over attempts). */
  reached: number;
  /** Waves sent, over all attempts (a flood is one wave). */
  waves: number;
  /** Confirmations that failed, and members confirmed from spare offers. */
  confirmFailures: number;
  sparesUsed: number;
}

/** One attempt of an allocation: a request id, its collector and its confirmations. */
export class Allocation {
  /** The request id the members' SliceMembership holds reservations for. */
  readonly key: string;
  state: 'collecting' | 'confirming' | 'closed' = 'collecting';
  /** Nodes that called in available, in order of arrival. */
  readonly available: PeerHandle[] = [];
  busy = 0;
  /** Offers wanted before collection closes (need + spares). */
  readonly enough: number;
  /** The current wave's reach (null: flooded), the nodes earlier waves were to reach, when it ends. */
  reach: number | null = null;
  reached = 0;
  waveEndHop = 0;
  /** When `need` offers were in (the spares' grace starts), or -1. */
  needMetHop = -1;
  /** Set when collection closes: the usable offers, how many matched. */
  offers: PeerHandle[] = [];
  matched = 0;
  next = 0;
  /** Confirmation slots still working. */
  slots = 0;
  failures = 0;
  /** Nodes that have seen the call, and nodes that have passed its flooded form on, by handle. */
  private seen: Uint8Array;
  private flooded: Uint8Array;

  constructor(
    readonly id: number,
    readonly job: AllocationJob,
    /** Nodes this attempt is for. */
    readonly need: number,
    spares: number,
    handles: number,
  ) {
    this.key = `${job.slice.ref.sliceId}:r${id}`;
    this.enough = need + spares;
    this.seen = new Uint8Array(Math.max(16, handles));
    this.flooded = new Uint8Array(Math.max(16, handles));
  }

  hasSeen(node: PeerHandle): boolean {
    return node < this.seen.length && this.seen[node] === 1;
  }

  markSeen(node: PeerHandle): void {
    this.seen = mark(this.seen, node);
  }

  hasFlooded(node: PeerHandle): boolean {
    return node < this.flooded.length && this.flooded[node] === 1;
  }

  markFlooded(node: PeerHandle): void {
    this.flooded = mark(this.flooded, node);
  }
}

function mark(flags: Uint8Array, node: PeerHandle): Uint8Array {
  let out = flags;
  if (node >= out.length) {
    out = new Uint8Array(Math.max(node + 1, flags.length * 2));
    out.set(flags);
  }
  out[node] = 1;
  return out;
}

/** One allocation request (create, or a keepSize replacement): its attempts, and what they found. */
export class AllocationJob {
  readonly stats: AllocationStats = { calls: 0, offers: 0, busyOffers: 0, confirms: 0, cancels: 0, reached: 0, waves: 0, confirmFailures: 0, sparesUsed: 0 };
  state: 'running' | 'closed' = 'running';
  /** The attempt under way (or the last one). */
  current: Allocation | null = null;
  attempts = 0;
  /** Members confirmed so far, over all attempts. */
  readonly confirmed: PeerHandle[] = [];
  /** Matching nodes the last attempt saw (available, busy, already ours). */
  matched = 0;
  /** The hop count at which the owner knew the outcome (all attempts over). */
  doneHop = -1;
  /** How long candidates hold themselves for its requests, in cycles. */
  holdCycles = 10;
  readonly deadlineHop: number;

  constructor(
    readonly slice: SimSlice,
    readonly want: number,
    readonly purpose: 'create' | 'replace',
    readonly startHop: number,
    readonly ttl: number,
    /** Hops a flooded call collects offers. */
    readonly windowHops: number,
  ) {
    this.deadlineHop = startHop + 4 * windowHops;
  }

  /** Requests sent for this allocation (each one exchange with its reply). */
  get messages(): number {
    const s = this.stats;
    return s.calls + s.offers + s.busyOffers + s.confirms + s.cancels;
  }

  /** Hops from the request until the owner knew the outcome (-1 while running). */
  get hops(): number {
    return this.doneHop < 0 ? -1 : this.doneHop - this.startHop;
  }

  /** Hops a wave smaller than the whole network collects offers (the daemon: a third of the window). */
  get waveHops(): number {
    return Math.max(4, Math.ceil(this.windowHops / 3));
  }
}

/** The owner's record of a member (owner.ts SliceMember). */
export interface SimMember {
  /** Renewals in a row that failed. */
  failures: number;
  /** A renewal is in flight (the next tick skips the member). */
  renewing: boolean;
}

/** A slice as its owner's node holds it (owner.ts OwnedSlice). */
export class SimSlice {
  readonly ref: SliceRef;
  readonly members = new Map<PeerHandle, SimMember>();
  status: 'allocating' | 'active' | 'failed' = 'allocating';
  target = 0;
  /** What the create found: confirmed members and matching nodes (available or busy). */
  found = 0;
  matched = 0;
  /** Share of the nodes the last attempt's call reached that matched (sizes the next reach; owner.ts). */
  matchRatio = 1;
  create: AllocationJob | null = null;
  /** keepSize: the refill allocation under way (one at a time). */
  replacement: AllocationJob | null = null;
  allocatedHop = -1;
  /** A drop is waiting for the owner's settle delay before refill and new member list. */
  changed = false;
  /** Members dropped (refused a renewal, or unreachable twice in a row). */
  dropped = 0;
  /** keepSize: replacement allocations run, members they added, requests they sent. */
  replacements = 0;
  replaced = 0;
  replacementMessages = 0;

  constructor(
    readonly index: number,
    readonly owner: PeerHandle,
    readonly want: number,
    readonly requestHop: number,
  ) {
    const sliceId = `slice${index}`;
    this.ref = { sliceId, name: `s${index}`, ownerNode: `node${owner}`, ownerUser: `user${index}`, group: groupOfSlice(sliceId) };
  }
}

export interface AllocationModelOptions {
  population: Population;
  peers: PeerSampler;
  rng: Random;
  /** Does this node match the slices' query? */
  matches: (node: PeerHandle) => boolean;
  /** A member got the member list from a renewal (GossipNode.joinRing in the daemon). */
  onMembers: (node: PeerHandle, slice: SliceRef, members: readonly PeerHandle[]) => void;
  settings?: Partial<AllocationSettings>;
}

/**
 * Every node's agent and every owner's coordination, advanced one hop at a time by `runHop`. The
 * nodes' SliceMembership objects are the daemon's own safety rule, on the model's clock (cycles).
 */
export class AllocationModel {
  readonly settings: AllocationSettings;
  readonly slices: SimSlice[] = [];
  /** Requests sent so far, by kind (cumulative). */
  readonly sent = { calls: 0, offers: 0, confirms: 0, cancels: 0, renews: 0, leaves: 0 };
  /** Nodes whose membership is not known to be free (reserved or member), in first-involved order. */
  readonly involved = new Set<PeerHandle>();
  hop = 0;
  /** True while runHop delivers messages (work done then completes at the end of the hop). */
  private running = false;
  private memberships: (SliceMembership | undefined)[] = [];
  private inbox: Message[] = [];
  private outbox: Message[] = [];
  private allocations = 0;
  /** The owners' one-off timers (renewal retries, change handling, backoffs), by the hop they fire at. */
  private readonly timers = new Map<number, (() => void)[]>();
  private readonly scratch: PeerHandle[] = [];
  private readonly now = (): number => this.hop / this.settings.hopsPerCycle;

  constructor(private readonly o: AllocationModelOptions) {
    this.settings = { ...defaultAllocationSettings, ...o.settings };
    const s = this.settings;
    const isInt = (v: number, lo: number) => Number.isInteger(v) && v >= lo;
    if (!isInt(s.fanout, 1) || s.fanout > 64) throw new RangeError(`fanout must be an integer in 1..64, got ${s.fanout}`);
    if (s.holdCycles !== null && !(s.holdCycles > 0)) throw new RangeError(`hold must be positive, got ${s.holdCycles}`);
    if (!(s.leaseCycles >= 3)) throw new RangeError(`lease must be at least 3 cycles, got ${s.leaseCycles}`);
    if (!isInt(s.hopsPerCycle, 1) || s.hopsPerCycle > 1000) throw new RangeError(`hops per cycle must be an integer in 1..1000, got ${s.hopsPerCycle}`);
    if (s.windowHops !== null && !isInt(s.windowHops, 1)) throw new RangeError(`window must be a positive integer of hops, got ${s.windowHops}`);
    if (s.reach !== 'waves' && s.reach !== 'flood') throw new RangeError(`reach must be waves or flood, got ${String(s.reach)}`);
    if (!isInt(s.attempts, 1) || s.attempts > 100) throw new RangeError(`attempts must be an integer in 1..100, got ${s.attempts}`);
  }

  /** Renewals every third of the lease, in hops (owner.ts scheduleRenew). */
  get renewEveryHops(): number {
    return Math.max(1, Math.round((this.settings.leaseCycles / 3) * this.settings.hopsPerCycle));
  }

  /** A missed renewal is retried after min(a sixth of the lease, 1 s), at least one hop later (Δ = 1 s). */
  get retryHops(): number {
    return Math.max(1, Math.round(Math.min(this.settings.leaseCycles / 6, 1) * this.settings.hopsPerCycle));
  }

  /** Messages queued for the next hop. */
  get inFlight(): number {
    return this.outbox.length;
  }

  /** The node's membership (the daemon's class, on the model's clock). */
  membership(node: PeerHandle): SliceMembership {
    let m = this.memberships[node];
    if (m === undefined) {
      m = new SliceMembership(this.now);
      this.memberships[node] = m;
    }
    return m;
  }

  /** The slice a node holds itself to be a member of (its own view), or null. */
  sliceOf(node: PeerHandle): SliceRef | null {
    return this.memberships[node]?.slice() ?? null;
  }

  /** Owner `owner` asks for `want` nodes now (SliceOwner.create). */
  request(owner: PeerHandle, want: number): SimSlice {
    if (!this.o.population.isAlive(owner)) throw new RangeError(`owner ${owner} is not a live node`);
    if (!Number.isInteger(want) || want < 1) throw new RangeError(`a slice needs a positive integer count, got ${want}`);
    const slice = new SimSlice(this.slices.length, owner, want, this.hop);
    if (this.slices.some((s) => s.ref.group === slice.ref.group)) throw new Error(`slice ${slice.ref.sliceId} would share a ring group with another slice`);
    this.slices.push(slice);
    slice.create = this.allocate(slice, want, 'create');
    return slice;
  }

  /**
   * One hop: the owners' timers that are due fire, owners' collections advance (grace over, wave
   * over: the next wave, or close), renewals that are due go out, then every message sent during
   * the previous hop is handled, in random order.
   */
  runHop(): void {
    const hop = this.hop;
    const due = this.timers.get(hop);
    if (due !== undefined) {
      this.timers.delete(hop);
      for (const fn of due) fn();
    }
    for (const slice of this.slices) {
      if (!this.ownerAlive(slice)) continue;
      for (const job of [slice.create, slice.replacement]) {
        const a = job?.current;
        if (a !== null && a !== undefined && a.state === 'collecting') this.advance(a);
      }
      if (slice.status === 'active' && hop > slice.allocatedHop && hop % this.renewEveryHops === 0) {
        this.renewSlice(slice);
        if (this.settings.keepSize && slice.members.size < slice.target) this.membersChanged(slice);
      }
    }
    // Double buffering: what was sent during the previous hop is delivered now; what is sent now
    // waits for the next hop.
    const batch = this.outbox;
    this.outbox = this.inbox;
    this.inbox = batch;
    const rng = this.o.rng;
    for (let i = batch.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = batch[i];
      batch[i] = batch[j];
      batch[j] = t;
    }
    this.running = true;
    for (let i = 0; i < batch.length; i++) this.deliver(batch[i]);
    this.running = false;
    batch.length = 0;
    this.hop++;
  }

  // ---- owner side (owner.ts) ----------------------------------------------------------------------

  private ownerAlive(slice: SimSlice): boolean {
    return this.o.population.isAlive(slice.owner);
  }

  /** An owner's one-off timer, `hops` from now (it does nothing once the owner is dead). */
  private later(slice: SimSlice, hops: number, fn: () => void): void {
    const at = this.hop + hops;
    const list = this.timers.get(at) ?? [];
    list.push(() => {
      if (this.ownerAlive(slice)) fn();
    });
    this.timers.set(at, list);
  }

  private allocate(slice: SimSlice, want: number, purpose: AllocationJob['purpose']): AllocationJob {
    const size = this.o.population.size;
    const ttl = Math.min(32, Math.ceil(Math.log2(Math.max(2, size))) + 3);
    const window = this.settings.windowHops ?? ttl + 3;
    const job = new AllocationJob(slice, want, purpose, this.hop, ttl, window);
    job.holdCycles = this.settings.holdCycles ?? Math.max(10, (4 * window + 3) / this.settings.hopsPerCycle);
    this.startAttempt(job);
    return job;
  }

  /** A new request id for what the job still lacks: its first wave (owner.ts attempt). */
  private startAttempt(job: AllocationJob): void {
    const need = job.want - job.confirmed.length;
    const a = new Allocation(this.allocations++, job, need, this.settings.spares ? sparesFor(need) : 0, this.o.population.handles);
    job.current = a;
    job.attempts++;
    const size = this.o.population.size;
    a.reach = this.settings.reach === 'flood' ? null : firstReach(a.enough, job.slice.matchRatio, size);
    this.sendWave(a);
  }

  /** Sends the attempt's current wave: a budget our own node's agent spreads, or a flood. */
  private sendWave(a: Allocation): void {
    const job = a.job;
    const owner = job.slice.owner;
    job.stats.waves++;
    a.waveEndHop = Math.min(job.deadlineHop, this.hop + (a.reach === null ? job.windowHops : job.waveHops));
    if (a.reach !== null) {
      this.onCall(owner, a, job.ttl, a.reach);
      return;
    }
    // Our own node's agent takes the call first (localCall), then it goes to fanout random peers.
    this.onCall(owner, a, job.ttl, FLOOD);
    for (const p of this.randomPeers(owner)) this.send(Kind.Call, owner, p, a, job.slice, job.ttl, true, null, FLOOD);
  }

  /** Once a hop while collecting: the spares' grace or the wave is over (next wave, or close). */
  private advance(a: Allocation): void {
    const n = this.usable(a).length;
    if (n >= a.enough) return this.close(a);
    if (n >= a.need) {
      if (a.needMetHop < 0) a.needMetHop = this.hop;
      const grace = Math.max(1, Math.round(a.job.windowHops / 10));
      if (this.hop >= a.needMetHop + grace || this.hop >= a.waveEndHop) this.close(a);
      return;
    }
    if (this.hop < a.waveEndHop) return;
    if (a.reach === null || this.hop >= a.job.deadlineHop) return this.close(a);
    a.reached += a.reach;
    a.reach = nextReach(a.reached, a.available.length + a.busy, a.enough - n, this.o.population.size);
    this.sendWave(a);
  }

  /** An offer for one of our requests; false: refused (collection over). */
  private onOffer(a: Allocation, from: PeerHandle, available: boolean): boolean {
    if (a.state !== 'collecting') return false;
    if (available) a.available.push(from);
    else a.busy++;
    if (this.usable(a).length >= a.enough) this.close(a);
    return true;
  }

  /** Available offers from nodes not already ours (members, or confirmed by an earlier attempt). */
  private usable(a: Allocation): PeerHandle[] {
    const members = a.job.slice.members;
    const earlier = a.job.confirmed;
    if (members.size === 0 && earlier.length === 0) return a.available;
    const ours = new Set(earlier);
    return a.available.filter((n) => !members.has(n) && !ours.has(n));
  }

  private close(a: Allocation): void {
    a.state = 'confirming';
    // owner.ts: an early close had not heard every node reached yet (a lower bound).
    const reached = a.reach === null ? this.o.population.size : a.reached + a.reach;
    const seenShare = (a.available.length + a.busy) / reached;
    const ratio = this.usable(a).length >= a.need ? Math.max(seenShare, a.job.slice.matchRatio) : seenShare;
    if (ratio > 0) a.job.slice.matchRatio = Math.min(1, ratio);
    a.offers = this.usable(a).slice();
    a.matched = a.offers.length + a.busy + a.job.slice.members.size + a.job.confirmed.length;
    // Too few offers while enough matching nodes were busy: let go of everything, ask again later
    // (owner.ts: no hold and wait).
    if (a.offers.length < a.need && a.busy > 0 && a.offers.length + a.busy >= a.need) {
      const backoff = this.retryAfter(a.job);
      if (backoff !== null) {
        for (const node of a.offers) this.send(Kind.Cancel, a.job.slice.owner, node, a, a.job.slice, 0, true, null);
        a.state = 'closed';
        this.later(a.job.slice, backoff, () => this.startAttempt(a.job));
        return;
      }
    }
    const slots = Math.min(a.need, a.offers.length);
    if (slots === 0) return this.endAttempt(a);
    // Our own node answers at once (within this loop), so the slot count is set before any goes out.
    a.slots = slots;
    for (let i = 0; i < slots; i++) this.confirmNext(a);
  }

  /** A confirmation slot confirms the next offer. */
  private confirmNext(a: Allocation): void {
    const node = a.offers[a.next++];
    this.send(Kind.Confirm, a.job.slice.owner, node, a, a.job.slice, 0, true, null);
  }

  private onConfirmReply(a: Allocation, node: PeerHandle, ok: boolean): void {
    if (ok) {
      a.job.confirmed.push(node);
    } else {
      a.failures++;
      a.job.stats.confirmFailures++;
      // A spare replaces the failure at once.
      if (a.next < a.offers.length) return this.confirmNext(a);
    }
    if (--a.slots === 0) this.endAttempt(a);
  }

  /** Every slot settled: cancel the offers left, then another attempt or the end of the job. */
  private endAttempt(a: Allocation): void {
    const job = a.job;
    job.stats.sparesUsed += Math.max(0, a.next - a.need);
    // Everyone else who held itself for us can go.
    for (const node of a.offers.slice(a.next)) this.send(Kind.Cancel, job.slice.owner, node, a, job.slice, 0, true, null);
    a.state = 'closed';
    job.matched = a.matched;
    // Confirmations failed beyond the spares: another attempt for the shortfall.
    const backoff = job.confirmed.length < job.want && a.failures > 0 ? this.retryAfter(job) : null;
    if (backoff !== null) {
      this.later(job.slice, backoff, () => this.startAttempt(job));
      return;
    }
    job.state = 'closed';
    job.doneHop = this.hop + (this.running ? 1 : 0);
    this.finish(job);
  }

  /** Hops to wait before another attempt, if one is left and fits before the deadline (owner.ts). */
  private retryAfter(job: AllocationJob): number | null {
    if (job.attempts >= this.settings.attempts) return null;
    const backoff = Math.max(1, Math.round((job.windowHops / 6) * 2 ** (job.attempts - 1) * (0.5 + this.o.rng.next())));
    return this.hop + backoff + job.waveHops <= job.deadlineHop ? backoff : null;
  }

  private finish(job: AllocationJob): void {
    const slice = job.slice;
    slice.matched = job.matched;
    if (job.purpose === 'create') {
      slice.found = job.confirmed.length;
      if (job.confirmed.length < job.want) {
        // "found 7 of 10 nodes": nothing is kept.
        slice.status = 'failed';
        for (const node of job.confirmed) this.send(Kind.Leave, slice.owner, node, null, slice, 0, true, null);
        return;
      }
      slice.status = 'active';
      slice.allocatedHop = job.doneHop;
      for (const node of job.confirmed) slice.members.set(node, { failures: 0, renewing: false });
      slice.target = slice.members.size;
    } else {
      // owner.ts refill: keep what still fits, dismiss the rest, then send the new list.
      slice.replacement = null;
      const room = Math.max(0, slice.target - slice.members.size);
      const keep = job.confirmed.slice(0, room);
      for (const node of job.confirmed.slice(room)) this.send(Kind.Leave, slice.owner, node, null, slice, 0, true, null);
      for (const node of keep) slice.members.set(node, { failures: 0, renewing: false });
      slice.replacements++;
      slice.replaced += keep.length;
      slice.replacementMessages += job.messages;
    }
    this.renewSlice(slice);
  }

  /** Renews every member not already being renewed, with the member list (owner.ts renewSlice). */
  private renewSlice(slice: SimSlice): void {
    const list = [...slice.members.keys()];
    for (const node of list) this.renewMember(slice, node, list);
  }

  private renewMember(slice: SimSlice, node: PeerHandle, list: readonly PeerHandle[]): void {
    const m = slice.members.get(node);
    if (m === undefined || m.renewing) return;
    m.renewing = true;
    this.send(Kind.Renew, slice.owner, node, null, slice, 0, true, list);
  }

  private onRenewReply(slice: SimSlice, node: PeerHandle, ok: boolean, reached: boolean): void {
    const m = slice.members.get(node);
    if (m === undefined) return;
    m.renewing = false;
    if (reached) {
      if (ok) m.failures = 0;
      else this.drop(slice, node); // it left: lease ran out, restarted, deleted
      return;
    }
    if (++m.failures >= 2) {
      this.drop(slice, node);
      return;
    }
    // Once more soon rather than a whole period later.
    this.later(slice, this.retryHops, () => {
      if (slice.members.get(node) === m) this.renewMember(slice, node, [...slice.members.keys()]);
    });
  }

  /** Takes a member out, tells it (it may be alive after all), and lets the others know. */
  private drop(slice: SimSlice, node: PeerHandle): void {
    if (!slice.members.delete(node)) return;
    slice.dropped++;
    this.send(Kind.Leave, slice.owner, node, null, slice, 0, true, null);
    this.membersChanged(slice);
  }

  /**
   * owner.ts membersChanged: after a short settle (50 ms: the next hop), refill a keepSize slice,
   * then send every member the new list at once.
   */
  private membersChanged(slice: SimSlice): void {
    if (slice.changed) return;
    slice.changed = true;
    this.later(slice, 1, () => {
      slice.changed = false;
      const missing = slice.target - slice.members.size;
      if (this.settings.keepSize && slice.status === 'active' && missing > 0 && slice.replacement === null) {
        slice.replacement = this.allocate(slice, missing, 'replace'); // its finish sends the new list
      } else if (slice.replacement === null) {
        this.renewSlice(slice);
      }
    });
  }


  // ---- every node's agent (agent.ts) ---------------------------------------------------------------

  /** A call reaches `node` with `budget` nodes to reach (FLOOD: flooded). */
  private onCall(node: PeerHandle, a: Allocation, ttl: number, budget: number): void {
    const first = !a.hasSeen(node);
    if (first) {
      a.markSeen(node);
      a.job.stats.reached++;
    }
    const owner = a.job.slice.owner;
    if (budget === FLOOD) {
      if (!a.hasFlooded(node)) {
        a.markFlooded(node);
        if (ttl > 0) for (const p of this.randomPeers(node)) if (p !== owner) this.send(Kind.Call, node, p, a, a.job.slice, ttl - 1, true, null, FLOOD);
      }
    } else {
      // A node reached again keeps nothing of the budget and passes all of it on.
      const rest = first ? budget - 1 : budget;
      if (ttl > 0 && rest > 0) {
        const peers = this.randomPeers(node).filter((p) => p !== owner);
        const shares = splitBudget(rest, peers.length);
        shares.forEach((share, i) => this.send(Kind.Call, node, peers[i], a, a.job.slice, ttl - 1, true, null, share));
      }
    }
    if (!first || !this.o.matches(node)) return;
    const m = this.membership(node);
    // A member of this very slice stays silent: its owner knows it.
    if (m.slice()?.sliceId === a.job.slice.ref.sliceId) return;
    const available = m.reserve(a.key, a.job.slice.ref.sliceId, a.job.holdCycles) === null;
    if (available) this.involved.add(node);
    if (node === owner) this.onOffer(a, node, available); // localOffer: no reply
    else this.send(Kind.Offer, node, owner, a, a.job.slice, 0, available, null);
  }

  private deliver(msg: Message): void {
    const alive = this.o.population.isAlive(msg.to);
    switch (msg.kind) {
      case Kind.Call:
        if (alive) this.onCall(msg.to, msg.alloc!, msg.ttl, msg.budget);
        return;
      case Kind.Offer: {
        const accepted = alive && this.onOffer(msg.alloc!, msg.from, msg.ok);
        this.reply(Kind.OfferReply, msg, accepted);
        return;
      }
      case Kind.OfferReply:
        // Refused (collection over) or owner unreachable: do not wait for the hold to run out.
        // (A busy node holds no reservation for this request: cancel is then a no-op.)
        if (alive && !msg.ok) this.membership(msg.to).cancel(msg.alloc!.key);
        return;
      case Kind.Confirm: {
        const ok = alive && this.membership(msg.to).confirm(msg.alloc!.key, msg.slice!.ref, this.settings.leaseCycles) === null;
        if (ok) this.involved.add(msg.to);
        this.reply(Kind.ConfirmReply, msg, ok);
        return;
      }
      case Kind.ConfirmReply:
        if (alive) this.onConfirmReply(msg.alloc!, msg.from, msg.ok);
        return;
      case Kind.Cancel:
        if (alive) this.membership(msg.to).cancel(msg.alloc!.key);
        return;
      case Kind.Renew: {
        let ok = false;
        if (alive) {
          const m = this.membership(msg.to);
          const slice = m.slice();
          ok = slice !== null && slice.sliceId === msg.slice!.ref.sliceId && m.renew(slice.sliceId, this.settings.leaseCycles) === null;
          if (ok) this.o.onMembers(msg.to, slice!, msg.members!);
        }
        // `ok` on a reply carries the answer; a refusal from a live node is told apart from silence.
        this.reply(Kind.RenewReply, msg, ok, alive);
        return;
      }
      case Kind.RenewReply:
        if (alive) this.onRenewReply(msg.slice!, msg.from, msg.ok, msg.reached);
        return;
      case Kind.Leave:
        if (alive) this.membership(msg.to).leave(msg.slice!.ref.sliceId);
        return;
    }
  }

  /** Answers `msg` on its exchange; `reached` false: the peer was dead, the sender sees a failure. */
  private reply(kind: Kind, msg: Message, ok: boolean, reached = ok): void {
    // A reply is not a new request: it is not counted, and it reaches the sender one hop later
    // (at once on our own node).
    const r = new Message(kind, msg.to, msg.from, msg.alloc, msg.slice, 0, ok, null, reached);
    if (r.to === r.from) this.deliver(r);
    else this.outbox.push(r);
  }

  private send(kind: Kind, from: PeerHandle, to: PeerHandle, a: Allocation | null, slice: SimSlice, ttl: number, ok: boolean, members: readonly PeerHandle[] | null, budget = FLOOD): void {
    const name = REQUEST_KIND_NAMES[kind] as keyof AllocationModel['sent'];
    this.sent[name]++;
    if (a !== null) {
      const stats = a.job.stats;
      if (kind === Kind.Call) stats.calls++;
      else if (kind === Kind.Offer) {
        if (ok) stats.offers++;
        else stats.busyOffers++;
      } else if (kind === Kind.Confirm) stats.confirms++;
      else if (kind === Kind.Cancel) stats.cancels++;
    }
    const msg = new Message(kind, from, to, a, slice, ttl, ok, members, true, budget);
    // The owner's own node is reached without the network (localMessage), within the same hop.
    if (to === from) this.deliver(msg);
    else this.outbox.push(msg);
  }

  /** Up to `fanout` random peers of the node's peer sampling view (GossipNode.randomPeers). */
  private randomPeers(node: PeerHandle): PeerHandle[] {
    const out = this.scratch;
    out.length = 0;
    this.o.peers.samplePeers(node, this.settings.fanout, out);
    return out.slice();
  }
}
