/**
 * The owner side of slices: the node a user's request arrived at coordinates the slice — it spreads
 * the call, collects offers, confirms members, renews their leases, replaces members that are gone
 * (`keepSize`), grows, shrinks and deletes. It holds no lock on anything: each candidate decides for
 * itself whether it joins (membership.ts), so two owners racing for the same nodes cannot both get
 * one. If the owner's node disappears its members' leases run out and they are free again; if it
 * restarts within the lease it takes its slices back from <dataDir>/owned-slices.json (persist /
 * restore, owned-store.ts) and goes on renewing them.
 *
 * Allocation of `want` nodes is up to MAX_ATTEMPTS attempts within the allocation's deadline:
 *  1. a call with a fresh request id: an unranked count request goes out in waves of growing reach
 *     (reach.ts), a ranked or fraction request floods the cloud at once; our own node considers it
 *     too;
 *  2. offers arrive: available ones (the node holds itself for us) and busy ones (it matches but is
 *     taken), so that a short result can say how many matched;
 *  3. without ranking we stop collecting once `want` plus a few spare available offers are in (or
 *     `want` and a short grace for the spares); with ranking (or a fraction, which needs the number
 *     of matching nodes) we collect for the whole window;
 *  4. the best offers (by rank, else first come) are confirmed; a candidate that died or no longer
 *     holds itself is replaced at once by the next offer (a spare); offers not taken are cancelled;
 *  5. too few offers, but enough matching nodes that were busy (a concurrent request holds them,
 *     and may let go of its spares or fail): the attempt confirms nobody and lets every offer go,
 *     and after a randomized backoff the next attempt asks again. Holding on to part of a slice
 *     while waiting for the rest would let racing requests starve each other (hold and wait: eight
 *     owners wanting 150 of 500 nodes each all end with ~65), where letting go lets some finish.
 *     Enough offers but some confirmations failed beyond the spares: the confirmed members stay,
 *     and the next attempt is for the shortfall. Otherwise, or out of attempts: "found X of Y".
 */
import { randomBytes } from 'node:crypto';
import type { SignedObject } from '../auth/signed-object.js';
import type { Logger } from '../node/logger.js';
import { decodeGrant } from './agent.js';
import { grantPayloadOf } from './grant.js';
import { type SliceRef, groupOfSlice } from './membership.js';
import {
  type CallMessage,
  type OfferMessage,
  SLICE_MESSAGE_VERSION,
  type SliceAddress,
  type SliceMessage,
} from './messages.js';
import { formatQuery } from './query.js';
import { formatRank } from './query-rank.js';
import { firstReach, nextReach, sparesFor } from './reach.js';
import type { SliceResources } from './share.js';
import type { SliceSpec } from './spec.js';
import { specFromWire } from './spec-wire.js';

export interface SliceOwnerOptions {
  readonly self: SliceAddress;
  readonly now: () => number;
  readonly send: (to: SliceAddress, message: SliceMessage) => Promise<SliceMessage>;
  readonly randomPeers: (k: number) => SliceAddress[];
  /** Our own node's agent takes the call directly (we may be a member of our own slice). */
  readonly localCall: (call: CallMessage) => Promise<unknown>;
  /** Our own node's agent takes confirm / renew / leave directly. */
  readonly localMessage: (message: SliceMessage) => Promise<SliceMessage>;
  /** The network size estimate (to size the call's ttl, its reach and the rank filter); NaN if unknown. */
  readonly networkSize: () => number;
  readonly logger: Logger;
  readonly timers: { schedule(fn: () => void, ms: number): () => void };
  /** Lease of members (default 30 s); renewed every third of it, a missed renewal retried after min(a sixth, 1 s). */
  readonly leaseMs?: number;
  /** How long offers are collected at most for a flooded call (default 1.5 s); a smaller wave waits a third of it. */
  readonly windowMs?: number;
  /** How long an allocation's attempts may go on before it reports what it found (default 4 × windowMs). */
  readonly deadlineMs?: number;
  readonly fanout?: number;
  /** Uniform numbers in [0, 1) for the retry backoff (default Math.random). */
  readonly random?: () => number;
  /** Told every owned slice after each change of the slices or their members (owned-store.ts saves them). */
  readonly persist?: (slices: readonly OwnedSlice[]) => void;
}

export interface SliceMember {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
  readonly since: number;
  /** What the slice may use of the node, as its offer said (its slices.maxShare of cores and memory). */
  readonly resources?: SliceResources;
  /** Renewals in a row that failed (the member is dropped after FAILURES_BEFORE_DROP). */
  failures: number;
  /** Its ring neighbours as it reported them at the last renewal. */
  ring?: { predecessor: string | null; successor: string | null };
}

export interface OwnedSlice {
  readonly ref: SliceRef;
  readonly spec: SliceSpec;
  readonly grant: SignedObject;
  readonly createdAt: number;
  readonly members: Map<string, SliceMember>;
  /** The size the slice is asked to have (what keepSize restores). */
  target: number;
  /** Matching nodes seen by the last allocation (available or not). */
  lastMatched: number;
  /** Share of the nodes the last allocation's call reached that matched (sizes the next call's reach); 1 until known. */
  matchRatio: number;
}

/** A slice as owned-store.ts keeps it: enough to take it back after a restart. */
export interface StoredSlice {
  readonly ref: SliceRef;
  readonly grant: SignedObject;
  readonly createdAt: number;
  readonly target: number;
  readonly lastMatched: number;
  readonly matchRatio?: number;
  readonly members: readonly { readonly nodeId: string; readonly host: string; readonly port: number; readonly since: number; readonly resources?: SliceResources }[];
}

/** What the last allocation did (for logs, tests and benchmarks). */
export interface AllocationReport {
  readonly purpose: 'create' | 'grow' | 'refill';
  attempts: number;
  /** Nodes each wave was to reach, over all attempts (null: the whole cloud, flooded). */
  readonly reach: (number | null)[];
  /** Offers received: available, and busy (matching but taken). */
  offers: number;
  busy: number;
  /** Confirmations that failed (candidate gone, or no longer holding itself for us). */
  confirmFailures: number;
  /** Members confirmed from spare offers (beyond the first `wanted` offers of an attempt). */
  sparesUsed: number;
  /** Spare offers cancelled unused. */
  sparesCancelled: number;
  confirmed: number;
  wanted: number;
}

/** An allocation that found too few nodes; `found` of `wanted` matched and were free. */
export class AllocationError extends Error {
  constructor(
    message: string,
    readonly found: number,
    readonly wanted: number,
    readonly matched: number,
  ) {
    super(message);
    this.name = 'AllocationError';
  }
}

export class SliceNotFoundError extends Error {
  constructor(readonly sliceName: string) {
    super(`no slice named ${sliceName} is owned by this node`);
    this.name = 'SliceNotFoundError';
  }
}

/** Renewals in a row a member may miss before it is dropped (the second comes retryMs after the first). */
const FAILURES_BEFORE_DROP = 2;
/** How long the owner lets drops gather before it refills and sends the new member list. */
const CHANGE_SETTLE_MS = 50;
/** Attempts of one allocation (the first and the retries after contention). */
export const MAX_ATTEMPTS = 4;

function memberList(slice: OwnedSlice): SliceAddress[] {
  return [...slice.members.values()].map((m) => ({ nodeId: m.nodeId, host: m.host, port: m.port }));
}

interface Collector {
  readonly available: OfferMessage[];
  busy: number;
  readonly seen: Set<string>;
  wake: (() => void) | undefined;
}

/** One attempt's outcome. */
interface Attempt {
  readonly confirmed: SliceMember[];
  /** Nodes this attempt was for (a fraction's count is known only once offers are in). */
  readonly wanted: number;
  /** Matching nodes seen: available offers, busy ones, and those excluded (already ours). */
  readonly matched: number;
  readonly busy: number;
  readonly failures: number;
  /** Short of offers, it let them all go: try again after this many ms. */
  readonly retryAfterMs?: number;
  /** Matching nodes per node the call reached (NaN if unknown). */
  readonly matchRatio: number;
  /** Only nodes whose capacity rank estimate was near the top were asked to answer. */
  readonly rankFiltered: boolean;
}

interface Allocated {
  readonly confirmed: SliceMember[];
  readonly wanted: number;
  readonly matched: number;
  readonly busy: number;
}

export class SliceOwner {
  readonly slices = new Map<string, OwnedSlice>();
  /** The last allocation's report (undefined before the first). */
  lastAllocation: AllocationReport | undefined;
  private readonly collectors = new Map<string, Collector>();
  private readonly leaseMs: number;
  private readonly windowMs: number;
  private readonly waveMs: number;
  private readonly spareGraceMs: number;
  private readonly deadlineMs: number;
  private readonly fanout: number;
  private readonly random: () => number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private cancelRenew: (() => void) | undefined;
  /** One-off timers (renewal retries, change handling, backoffs), cancelled on stop. */
  private readonly pending = new Set<() => void>();
  /** Backoff pauses under way: resolved at once on stop. */
  private readonly pauses = new Set<() => void>();
  /** Members with a renewal in flight. */
  private readonly renewing = new Set<SliceMember>();
  /** Slices with a change (drop) waiting to be handled, and slices being refilled. */
  private readonly changed = new Set<OwnedSlice>();
  private readonly refilling = new Set<OwnedSlice>();
  /** Names of slices being created (not yet in `slices`). */
  private readonly creating = new Set<string>();
  private stopped = false;

  constructor(private readonly o: SliceOwnerOptions) {
    this.leaseMs = o.leaseMs ?? 30_000;
    this.windowMs = o.windowMs ?? 1_500;
    this.waveMs = this.windowMs / 3;
    this.spareGraceMs = this.windowMs / 10;
    this.deadlineMs = o.deadlineMs ?? 4 * this.windowMs;
    this.fanout = o.fanout ?? 4;
    this.random = o.random ?? Math.random;
    this.renewMs = this.leaseMs / 3;
    this.retryMs = Math.min(this.renewMs / 2, 1_000);
  }

  /**
   * Starts renewing. Slices taken back by restore() are renewed at once (the restart took a part of
   * their lease), and a keepSize slice that lost members meanwhile is refilled.
   */
  start(): void {
    for (const slice of this.slices.values()) {
      void this.renewSlice(slice);
      if (slice.spec.keepSize && slice.members.size < slice.target) this.membersChanged(slice);
    }
    this.scheduleRenew();
  }

  stop(): void {
    this.stopped = true;
    this.cancelRenew?.();
    for (const cancel of this.pending) cancel();
    this.pending.clear();
    for (const resume of this.pauses) resume();
    for (const c of this.collectors.values()) c.wake?.();
  }

  /**
   * Takes back the slices this node owned before a restart (call before start()). A record for
   * another owner node or with an unreadable grant is skipped with a warning.
   */
  restore(stored: readonly StoredSlice[]): void {
    for (const s of stored) {
      if (s.ref.ownerNode !== this.o.self.nodeId) {
        this.o.logger.warn({ slice: s.ref.name, ownerNode: s.ref.ownerNode }, 'a stored slice belongs to another node; not restored');
        continue;
      }
      let spec: SliceSpec;
      try {
        spec = specFromWire(decodeGrant(s.grant).spec);
      } catch (err) {
        this.o.logger.warn({ slice: s.ref.name, error: (err as Error).message }, 'a stored slice has an unreadable grant; not restored');
        continue;
      }
      const members = new Map<string, SliceMember>(s.members.map((m) => [m.nodeId, { ...m, failures: 0 }]));
      this.slices.set(s.ref.name, { ref: s.ref, spec, grant: s.grant, createdAt: s.createdAt, members, target: s.target, lastMatched: s.lastMatched, matchRatio: s.matchRatio ?? 1 });
    }
    if (this.slices.size > 0) this.o.logger.info({ slices: [...this.slices.keys()] }, 'took back the slices this node coordinated before it restarted');
  }

  /** An offer for one of our requests (from the network or our own agent). */
  onOffer(from: string, offer: OfferMessage): boolean {
    const c = this.collectors.get(offer.requestId);
    if (c === undefined || offer.address.nodeId !== from) return false;
    // The same node again (a call can reach it twice): still ours, not counted twice.
    if (c.seen.has(from)) return true;
    c.seen.add(from);
    if (offer.available) c.available.push(offer);
    else c.busy++;
    c.wake?.();
    return true;
  }

  /**
   * Creates slice `spec.name` for the user who signed `grant` (whose payload must be makeGrantPayload's
   * for `sliceId`). Resolves when the members are confirmed; rejects with AllocationError if
   * too few nodes could be found (nothing is kept then).
   */
  async create(sliceId: string, spec: SliceSpec, grant: SignedObject, ownerUser: string): Promise<OwnedSlice> {
    if (this.nameTaken(spec.name)) throw new Error(`slice ${spec.name} already exists on this node`);
    this.creating.add(spec.name);
    try {
      const ref: SliceRef = { sliceId, name: spec.name, ownerNode: this.o.self.nodeId, ownerUser, group: groupOfSlice(sliceId) };
      const slice: OwnedSlice = { ref, spec, grant, createdAt: this.o.now(), members: new Map(), target: 0, lastMatched: 0, matchRatio: 1 };
      const want = 'nodes' in spec.count ? spec.count.nodes : null;
      const got = await this.allocate(slice, want, 'create');
      if (got.confirmed.length < got.wanted || got.confirmed.length === 0) {
        await this.dismiss(slice, got.confirmed);
        throw new AllocationError(
          `found ${got.confirmed.length} of ${got.wanted} nodes${slice.spec.where.predicates.length > 0 ? ` matching ${formatQuery(slice.spec.where)}` : ''} (${got.matched} matched, ${got.busy} of them busy in other slices)`,
          got.confirmed.length,
          got.wanted,
          got.matched,
        );
      }
      for (const m of got.confirmed) slice.members.set(m.nodeId, m);
      slice.target = slice.members.size;
      this.slices.set(spec.name, slice);
      this.saved();
      await this.renewSlice(slice);
      const r = this.lastAllocation;
      this.o.logger.info({ slice: spec.name, members: slice.members.size, attempts: r?.attempts, waves: r?.reach.length }, 'slice created');
      return slice;
    } finally {
      this.creating.delete(spec.name);
    }
  }

  /** Adds up to `n` members; resolves with how many joined. */
  async grow(name: string, n: number): Promise<number> {
    const slice = this.get(name);
    const got = await this.allocate(slice, n, 'grow');
    // Deleted meanwhile: the new members go again.
    if (this.slices.get(name) !== slice) {
      await this.dismiss(slice, got.confirmed);
      throw new SliceNotFoundError(name);
    }
    for (const m of got.confirmed) slice.members.set(m.nodeId, m);
    slice.target = slice.members.size;
    this.saved();
    await this.renewSlice(slice);
    return got.confirmed.length;
  }

  /** Removes `n` members, or the named ones; resolves with the node ids removed. */
  async shrink(name: string, which: number | readonly string[]): Promise<string[]> {
    const slice = this.get(name);
    const ids = typeof which === 'number' ? [...slice.members.keys()].slice(-which) : which.filter((id) => slice.members.has(id));
    await this.dismiss(slice, ids.map((id) => slice.members.get(id)!));
    for (const id of ids) slice.members.delete(id);
    slice.target = slice.members.size;
    this.saved();
    await this.renewSlice(slice);
    return ids;
  }

  async delete(name: string): Promise<number> {
    const slice = this.get(name);
    this.slices.delete(name);
    this.saved();
    await this.dismiss(slice, [...slice.members.values()]);
    return slice.members.size;
  }

  /** A slice of this name exists here, or is being created. */
  nameTaken(name: string): boolean {
    return this.slices.has(name) || this.creating.has(name);
  }

  get(name: string): OwnedSlice {
    const slice = this.slices.get(name);
    if (slice === undefined) throw new SliceNotFoundError(name);
    return slice;
  }

  // ---- allocation ----------------------------------------------------------------------------------

  /**
   * Finds `want` new members for `slice` (null: the spec's fraction of the matching nodes), in up
   * to MAX_ATTEMPTS attempts within the deadline; resolves with those confirmed (maybe fewer).
   */
  private async allocate(slice: OwnedSlice, want: number | null, purpose: AllocationReport['purpose']): Promise<Allocated> {
    const report: AllocationReport = { purpose, attempts: 0, reach: [], offers: 0, busy: 0, confirmFailures: 0, sparesUsed: 0, sparesCancelled: 0, confirmed: 0, wanted: want ?? 0 };
    this.lastAllocation = report;
    const deadline = this.o.now() + this.deadlineMs;
    const confirmed: SliceMember[] = [];
    let wanted = want;
    let last: Attempt;
    // The pause before another attempt, if one is left and fits before the deadline. Randomized,
    // so that two owners that collided do not collide again; growing, so that a crowd spreads out.
    const retryAfter = (): number | null => {
      if (report.attempts >= MAX_ATTEMPTS || this.stopped) return null;
      const backoff = (this.windowMs / 6) * 2 ** (report.attempts - 1) * (0.5 + this.random());
      return this.o.now() + backoff + this.waveMs <= deadline ? backoff : null;
    };
    let rankFilter = true;
    for (;;) {
      report.attempts++;
      const exclude = new Set([...slice.members.keys(), ...confirmed.map((m) => m.nodeId)]);
      last = await this.attempt(slice, wanted === null ? null : wanted - confirmed.length, exclude, deadline, report, retryAfter, rankFilter);
      wanted ??= last.wanted;
      confirmed.push(...last.confirmed);
      report.confirmed = confirmed.length;
      report.wanted = wanted;
      const missing = wanted - confirmed.length;
      if (missing <= 0 || this.stopped) break;
      // Rank estimates can be wrong (nodes of equal capacity all estimate themselves at the
      // bottom): too few answered the filtered call, so ask everyone, at once.
      if (last.rankFiltered && report.attempts < MAX_ATTEMPTS && this.o.now() + this.windowMs <= deadline) {
        rankFilter = false;
        continue;
      }
      // Enough offers, but confirmations failed beyond the spares (candidates gone, or taken):
      // the rest may be found by another attempt. Short of offers, the attempt said whether to.
      const backoff = last.retryAfterMs ?? (last.failures > 0 ? retryAfter() : null);
      if (backoff === null) break;
      this.o.logger.debug({ slice: slice.ref.name, missing, busy: last.busy, failures: last.failures, backoffMs: Math.round(backoff) }, 'allocation short because of contention; trying again');
      await this.pause(backoff);
      if (this.stopped) break;
    }
    slice.lastMatched = last.matched;
    if (Number.isFinite(last.matchRatio) && last.matchRatio > 0) slice.matchRatio = Math.min(1, last.matchRatio);
    return { confirmed, wanted, matched: last.matched, busy: last.busy };
  }

  /** One call, its offers, and their confirmation. */
  private async attempt(
    slice: OwnedSlice,
    need: number | null,
    exclude: ReadonlySet<string>,
    deadline: number,
    report: AllocationReport,
    retryAfter: () => number | null,
    rankFilter: boolean,
  ): Promise<Attempt> {
    const requestId = randomBytes(16).toString('hex');
    const collector: Collector = { available: [], busy: 0, seen: new Set(), wake: undefined };
    this.collectors.set(requestId, collector);
    try {
      const size = this.o.networkSize();
      const ttl = Math.min(32, Math.ceil(Math.log2(Math.max(2, Number.isFinite(size) ? size : 16))) + 3);
      // Ranked by capacity (what every node estimates its rank by: the slicing protocol ranks
      // cores × cpu), with a known network size, only nodes ranked near the top need to answer:
      // those above 1 − 2·want/N (twice the share asked for, as a margin for estimate errors).
      // Other rankings would lose good nodes to such a filter (a fast CPU with few cores).
      const byCapacity = slice.spec.rank?.attribute === 'capacity' && slice.spec.rank.order === 'desc';
      const minRank = rankFilter && byCapacity && need !== null && Number.isFinite(size) && size > 0 ? Math.max(0, 1 - (2 * need) / size) : 0;
      const call: CallMessage = {
        v: SLICE_MESSAGE_VERSION,
        kind: 'call',
        requestId,
        slice: slice.ref,
        owner: this.o.self,
        grant: slice.grant,
        ttl,
        minRank,
      };
      const usable = () => collector.available.filter((o) => !exclude.has(o.address.nodeId));
      // Ranked and fraction requests need every matching node's answer: flood, and wait the window.
      const waitAll = slice.spec.rank !== null || need === null;
      const enough = need === null ? Infinity : need + sparesFor(need);
      let reach = waitAll ? null : firstReach(enough, slice.matchRatio, size);
      let reached = 0;
      for (;;) {
        report.reach.push(reach);
        await this.sendCall(call, reach);
        const waveEnd = Math.min(deadline, this.o.now() + (reach === null ? this.windowMs : this.waveMs));
        // `need` offers are enough; the spares get a short grace to arrive.
        let needMetAt: number | undefined;
        await this.collect(collector, waveEnd, () => {
          if (waitAll) return undefined;
          const n = usable().length;
          if (n >= enough) return 0;
          if (n < need!) return undefined;
          needMetAt ??= this.o.now();
          return needMetAt + this.spareGraceMs;
        });
        if (reach === null || this.stopped || this.o.now() >= deadline || usable().length >= (need ?? Infinity)) break;
        reached += reach;
        reach = nextReach(reached, collector.available.length + collector.busy, enough - usable().length, size);
      }
      // What share of the nodes asked match (a flood asked about everyone). A collection that
      // ended early had not heard every node its call reached yet: that share is a lower bound,
      // which must not shrink the estimate (each refill would then reach further than the last).
      reached = reach === null ? size : reached + reach;
      const seenShare = (collector.available.length + collector.busy) / reached;
      const matchRatio = usable().length >= (need ?? Infinity) ? Math.max(seenShare, slice.matchRatio) : seenShare;
      // Closed from here on: a later offer is refused, and its sender lets go of its reservation.
      this.collectors.delete(requestId);
      const offers = usable();
      report.offers += collector.available.length;
      report.busy += collector.busy;
      const matched = offers.length + collector.busy + exclude.size;
      const wanted = need ?? Math.max(1, Math.round(('fraction' in slice.spec.count ? slice.spec.count.fraction : 1) * matched));
      if (slice.spec.rank !== null) offers.sort((a, b) => (slice.spec.rank!.order === 'asc' ? a.score - b.score : b.score - a.score));
      // Too few offers while enough matching nodes were busy: let go of everything and ask again
      // later (no hold and wait), unless this is the last attempt.
      if (offers.length < wanted && collector.busy > 0 && offers.length + collector.busy >= wanted) {
        const backoff = retryAfter();
        if (backoff !== null) {
          await this.cancelOffers(requestId, offers);
          return { confirmed: [], wanted, matched, busy: collector.busy, failures: 0, retryAfterMs: backoff, matchRatio, rankFiltered: minRank > 0 };
        }
      }
      const { confirmed, failures, used } = await this.confirmOffers(slice, requestId, offers, wanted);
      report.confirmFailures += failures;
      report.sparesUsed += Math.max(0, used - wanted);
      // Everyone else who held itself for us can go now (offers arriving later are refused, which
      // tells their senders the same).
      const unused = offers.slice(used);
      report.sparesCancelled += unused.length;
      await this.cancelOffers(requestId, unused);
      return { confirmed, wanted, matched, busy: collector.busy, failures, matchRatio, rankFiltered: minRank > 0 };
    } finally {
      this.collectors.delete(requestId);
    }
  }

  /** Tells the nodes that offered themselves to `requestId` they are not needed. */
  private async cancelOffers(requestId: string, offers: readonly OfferMessage[]): Promise<void> {
    await Promise.all(offers.map((o) => this.send(o.address, { v: SLICE_MESSAGE_VERSION, kind: 'cancel', requestId }).catch(() => undefined)));
  }

  /** Sends a wave of `call`: to `reach` nodes (a budget our own agent spreads), or flooded (null). */
  private async sendCall(call: CallMessage, reach: number | null): Promise<void> {
    if (reach !== null) {
      await this.o.localCall({ ...call, budget: reach }).catch(() => undefined);
      return;
    }
    await this.o.localCall(call).catch(() => undefined);
    for (const p of this.o.randomPeers(this.fanout)) void this.o.send(p, call).catch(() => undefined);
  }

  /**
   * Waits for offers until `until`, or until `doneAt()` says the collection is complete: it returns
   * the time it will be (0: now), or undefined while it is not.
   */
  private async collect(collector: Collector, until: number, doneAt: () => number | undefined): Promise<void> {
    for (;;) {
      const now = this.o.now();
      const done = doneAt();
      if (this.stopped || now >= until || (done !== undefined && now >= done)) return;
      const wakeAt = Math.min(until, done ?? until, now + 100);
      await new Promise<void>((resolve) => {
        const cancel = this.o.timers.schedule(() => {
          collector.wake = undefined;
          resolve();
        }, Math.max(1, wakeAt - now));
        collector.wake = () => {
          collector.wake = undefined;
          cancel();
          resolve();
        };
      });
    }
  }

  /**
   * Confirms `wanted` of `offers` in order, each failure replaced at once by the next offer (the
   * spares); resolves with those confirmed (in offer order), the failures, and how many offers were
   * used.
   */
  private async confirmOffers(slice: OwnedSlice, requestId: string, offers: readonly OfferMessage[], wanted: number): Promise<{ confirmed: SliceMember[]; failures: number; used: number }> {
    const confirmed: { index: number; member: SliceMember }[] = [];
    let next = 0;
    let failures = 0;
    const slot = async (): Promise<void> => {
      while (next < offers.length) {
        const index = next++;
        const member = await this.confirm(slice, requestId, offers[index]);
        if (member !== null) {
          confirmed.push({ index, member });
          return;
        }
        failures++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(wanted, offers.length) }, slot));
    confirmed.sort((a, b) => a.index - b.index);
    return { confirmed: confirmed.map((c) => c.member), failures, used: next };
  }

  private async confirm(slice: OwnedSlice, requestId: string, offer: OfferMessage): Promise<SliceMember | null> {
    try {
      const reply = await this.send(offer.address, {
        v: SLICE_MESSAGE_VERSION,
        kind: 'confirm',
        requestId,
        slice: slice.ref,
        grant: slice.grant,
        leaseMs: this.leaseMs,
      });
      if (reply.kind !== 'reply' || !reply.ok) return null;
      const { nodeId, host, port } = offer.address;
      return { nodeId, host, port, since: this.o.now(), failures: 0, ...(offer.resources ? { resources: offer.resources } : {}) };
    } catch {
      return null;
    }
  }

  private async dismiss(slice: OwnedSlice, members: readonly SliceMember[]): Promise<void> {
    await Promise.all(
      members.map((m) => this.send({ nodeId: m.nodeId, host: m.host, port: m.port }, { v: SLICE_MESSAGE_VERSION, kind: 'leave', sliceId: slice.ref.sliceId }).catch(() => undefined)),
    );
  }

  // ---- leases ---------------------------------------------------------------------------------------

  /**
   * Every third of the lease each slice's members are renewed. The timer does not wait for the
   * renewals it started, and each member is renewed on its own: a member whose renewal hangs (a
   * frozen machine: the request only times out after seconds) must not hold back the others, whose
   * leases would run out meanwhile (with a 3 s lease, one 5 s timeout used to cost every member its
   * lease). A slice short of its target (keepSize) tries again to refill at each tick.
   */
  private scheduleRenew(): void {
    if (this.stopped) return;
    this.cancelRenew = this.o.timers.schedule(() => {
      for (const slice of this.slices.values()) {
        void this.renewSlice(slice);
        if (slice.spec.keepSize && slice.members.size < slice.target) this.membersChanged(slice);
      }
      this.scheduleRenew();
    }, this.renewMs);
  }

  /**
   * Renews every member's lease with the member list (the ring's seed), skipping members whose
   * previous renewal is still under way; resolves when the renewals started here have ended. A
   * member that refuses is dropped at once; one that cannot be reached is asked again after retryMs
   * and dropped if it fails again.
   */
  async renewSlice(slice: OwnedSlice): Promise<void> {
    const members = memberList(slice);
    await Promise.all([...slice.members.values()].map((m) => this.renewMember(slice, m, members)));
  }

  private async renewMember(slice: OwnedSlice, m: SliceMember, members: readonly SliceAddress[]): Promise<void> {
    if (this.renewing.has(m) || slice.members.get(m.nodeId) !== m) return;
    this.renewing.add(m);
    let reply: SliceMessage | null = null;
    try {
      reply = await this.send(m, { v: SLICE_MESSAGE_VERSION, kind: 'renew', sliceId: slice.ref.sliceId, leaseMs: this.leaseMs, members: [...members] });
    } catch {
      reply = null;
    } finally {
      this.renewing.delete(m);
    }
    if (reply !== null) {
      if (reply.kind === 'reply' && reply.ok) {
        m.failures = 0;
        if (reply.ring) m.ring = reply.ring;
      } else {
        this.drop(slice, m, 'refused its lease renewal'); // it left: lease ran out, restarted, deleted
      }
      return;
    }
    if (++m.failures >= FAILURES_BEFORE_DROP) {
      this.drop(slice, m, `unreachable ${m.failures} times in a row`);
      return;
    }
    // Once more soon rather than a whole period later: a dead member is dropped (and, with
    // keepSize, replaced) about retryMs after its first missed renewal, while a single lost request
    // on a busy machine costs nothing.
    this.later(() => {
      if (this.slices.get(slice.ref.name) === slice) void this.renewMember(slice, m, memberList(slice));
    }, this.retryMs);
  }

  /** Takes `m` out of the slice, tells it (it may be alive after all), and lets the others know. */
  private drop(slice: OwnedSlice, m: SliceMember, why: string): void {
    if (slice.members.get(m.nodeId) !== m) return;
    slice.members.delete(m.nodeId);
    this.saved();
    this.o.logger.info({ slice: slice.ref.name, member: m.nodeId, why }, 'member dropped from the slice');
    void this.send(m, { v: SLICE_MESSAGE_VERSION, kind: 'leave', sliceId: slice.ref.sliceId }).catch(() => undefined);
    this.membersChanged(slice);
  }

  /**
   * The member list changed (drops): shortly (several members of a crashed rack go at once, and
   * one refill and one round of renewals serve them all) refill a keepSize slice, then send every
   * member the new list at once instead of at the next renewal, so their rings stop seeding from
   * members that are gone and take in the new ones.
   */
  private membersChanged(slice: OwnedSlice): void {
    if (this.changed.has(slice)) return;
    this.changed.add(slice);
    this.later(() => {
      this.changed.delete(slice);
      void this.refill(slice).then(() => (this.slices.get(slice.ref.name) === slice ? this.renewSlice(slice) : undefined));
    }, CHANGE_SETTLE_MS);
  }

  /** keepSize: allocates the members the slice lacks (one allocation at a time per slice). */
  private async refill(slice: OwnedSlice): Promise<void> {
    const missing = slice.target - slice.members.size;
    if (!slice.spec.keepSize || missing <= 0 || this.refilling.has(slice) || this.stopped || this.slices.get(slice.ref.name) !== slice) return;
    this.refilling.add(slice);
    try {
      const got = await this.allocate(slice, missing, 'refill');
      // The slice may have been deleted or shrunk meanwhile: keep only what still fits.
      const room = this.slices.get(slice.ref.name) === slice ? Math.max(0, slice.target - slice.members.size) : 0;
      const keep = got.confirmed.slice(0, room);
      await this.dismiss(slice, got.confirmed.slice(room));
      for (const m of keep) slice.members.set(m.nodeId, m);
      if (keep.length > 0) {
        this.saved();
        this.o.logger.info({ slice: slice.ref.name, added: keep.length, size: slice.members.size, target: slice.target }, 'replaced members that left');
      }
    } finally {
      this.refilling.delete(slice);
    }
  }

  /** Hands every owned slice to the persist hook (after each change). */
  private saved(): void {
    this.o.persist?.([...this.slices.values()]);
  }

  /** A one-off timer, cancelled by stop(). */
  private later(fn: () => void, ms: number): void {
    if (this.stopped) return;
    const cancel = this.o.timers.schedule(() => {
      this.pending.delete(cancel);
      if (!this.stopped) fn();
    }, ms);
    this.pending.add(cancel);
  }

  /** Resolves after `ms`, or at once on stop(). */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const resume = () => {
        this.pauses.delete(resume);
        cancel();
        resolve();
      };
      const cancel = this.o.timers.schedule(resume, ms);
      this.pauses.add(resume);
    });
  }

  private send(to: SliceAddress, message: SliceMessage): Promise<SliceMessage> {
    if (to.nodeId === this.o.self.nodeId) return this.o.localMessage(message);
    return this.o.send(to, message);
  }
}

/** What a user signs to create slice `sliceId` named `spec.name` coordinated by `ownerNode`. */
export function grantPayload(sliceId: string, spec: SliceSpec, ownerNode: string, specWire: unknown): Uint8Array {
  return grantPayloadOf({ sliceId, name: spec.name, ownerNode, spec: specWire });
}

export function describeSpec(spec: SliceSpec): string {
  const parts = ['nodes' in spec.count ? `${spec.count.nodes} nodes` : `${(spec.count.fraction * 100).toFixed(1)}% of matching nodes`];
  if (spec.where.predicates.length > 0) parts.push(`where ${formatQuery(spec.where)}`);
  if (spec.rank) parts.push(`ranked by ${formatRank(spec.rank)}`);
  return parts.join(' ');
}
