/**
 * The owner side of slices: the node a user's request arrived at coordinates the slice — it spreads
 * the call, collects offers, confirms members, renews their leases, replaces members that are gone
 * (`keepSize`), grows, shrinks and deletes. It holds no lock on anything: each candidate decides for
 * itself whether it joins (membership.ts), so two owners racing for the same nodes cannot both get
 * one. If the owner's node disappears its members' leases run out and they are free again.
 *
 * Allocation of `want` nodes:
 *  1. a call with a fresh request id goes to `fanout` random peers and spreads (agent.ts); our own
 *     node considers it too;
 *  2. offers arrive: available ones (the node holds itself for us) and busy ones (it matches but is
 *     taken), so that a short result can say how many matched;
 *  3. without ranking we stop collecting as soon as `want` available offers are in; with ranking
 *     (or a fraction, which needs the number of matching nodes) we collect for the whole window;
 *  4. the best offers (by rank, else first come) are confirmed; a node that no longer holds itself
 *     is replaced by the next offer; offers not taken are cancelled.
 */
import { randomBytes } from 'node:crypto';
import type { SignedObject } from '../auth/signed-object.js';
import type { Logger } from '../node/logger.js';
import { type SliceRef, groupOfSlice } from './membership.js';
import {
  type OfferMessage,
  SLICE_MESSAGE_VERSION,
  type SliceAddress,
  type SliceMessage,
} from './messages.js';
import { formatQuery } from './query.js';
import { formatRank } from './query-rank.js';
import type { SliceSpec } from './spec.js';

export interface SliceOwnerOptions {
  readonly self: SliceAddress;
  readonly now: () => number;
  readonly send: (to: SliceAddress, message: SliceMessage) => Promise<SliceMessage>;
  readonly randomPeers: (k: number) => SliceAddress[];
  /** Our own node's agent takes the call directly (we may be a member of our own slice). */
  readonly localCall: (call: Extract<SliceMessage, { kind: 'call' }>) => Promise<unknown>;
  /** Our own node's agent takes confirm / renew / leave directly. */
  readonly localMessage: (message: SliceMessage) => Promise<SliceMessage>;
  /** The network size estimate (to size the call's ttl and the rank filter); NaN if unknown. */
  readonly networkSize: () => number;
  readonly logger: Logger;
  readonly timers: { schedule(fn: () => void, ms: number): () => void };
  /** Lease of members (default 30 s); renewed every third of it, a missed renewal retried after min(a sixth, 1 s). */
  readonly leaseMs?: number;
  /** How long offers are collected at most (default 1.5 s). */
  readonly windowMs?: number;
  readonly fanout?: number;
}

export interface SliceMember {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
  readonly since: number;
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

function memberList(slice: OwnedSlice): SliceAddress[] {
  return [...slice.members.values()].map((m) => ({ nodeId: m.nodeId, host: m.host, port: m.port }));
}

interface Collector {
  readonly available: OfferMessage[];
  busy: number;
  readonly seen: Set<string>;
  wake: (() => void) | undefined;
}

export class SliceOwner {
  readonly slices = new Map<string, OwnedSlice>();
  private readonly collectors = new Map<string, Collector>();
  private readonly leaseMs: number;
  private readonly windowMs: number;
  private readonly fanout: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private cancelRenew: (() => void) | undefined;
  /** One-off timers (renewal retries, change handling), cancelled on stop. */
  private readonly pending = new Set<() => void>();
  /** Members with a renewal in flight. */
  private readonly renewing = new Set<SliceMember>();
  /** Slices with a change (drop) waiting to be handled, and slices being refilled. */
  private readonly changed = new Set<OwnedSlice>();
  private readonly refilling = new Set<OwnedSlice>();
  private stopped = false;

  constructor(private readonly o: SliceOwnerOptions) {
    this.leaseMs = o.leaseMs ?? 30_000;
    this.windowMs = o.windowMs ?? 1_500;
    this.fanout = o.fanout ?? 4;
    this.renewMs = this.leaseMs / 3;
    this.retryMs = Math.min(this.renewMs / 2, 1_000);
  }

  start(): void {
    this.scheduleRenew();
  }

  stop(): void {
    this.stopped = true;
    this.cancelRenew?.();
    for (const cancel of this.pending) cancel();
    this.pending.clear();
    for (const c of this.collectors.values()) c.wake?.();
  }

  /** An offer for one of our requests (from the network or our own agent). */
  onOffer(from: string, offer: OfferMessage): boolean {
    const c = this.collectors.get(offer.requestId);
    if (c === undefined || offer.address.nodeId !== from || c.seen.has(from)) return false;
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
    if (this.slices.has(spec.name)) throw new Error(`slice ${spec.name} already exists on this node`);
    const ref: SliceRef = { sliceId, name: spec.name, ownerNode: this.o.self.nodeId, ownerUser, group: groupOfSlice(sliceId) };
    const slice: OwnedSlice = { ref, spec, grant, createdAt: this.o.now(), members: new Map(), target: 0, lastMatched: 0 };
    const want = 'nodes' in spec.count ? spec.count.nodes : null;
    const got = await this.allocate(slice, want, spec.count);
    const wanted = want ?? got.wanted;
    if (got.confirmed.length < wanted || got.confirmed.length === 0) {
      await this.dismiss(slice, got.confirmed);
      throw new AllocationError(
        `found ${got.confirmed.length} of ${wanted} nodes${slice.spec.where.predicates.length > 0 ? ` matching ${formatQuery(slice.spec.where)}` : ''} (${got.matched} matched, ${got.matched - got.available} of them busy in other slices)`,
        got.confirmed.length,
        wanted,
        got.matched,
      );
    }
    for (const m of got.confirmed) slice.members.set(m.nodeId, m);
    slice.target = slice.members.size;
    this.slices.set(spec.name, slice);
    await this.renewSlice(slice);
    this.o.logger.info({ slice: spec.name, members: slice.members.size }, 'slice created');
    return slice;
  }

  /** Adds up to `n` members; resolves with how many joined. */
  async grow(name: string, n: number): Promise<number> {
    const slice = this.get(name);
    const got = await this.allocate(slice, n, { nodes: n });
    for (const m of got.confirmed) slice.members.set(m.nodeId, m);
    slice.target = slice.members.size;
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
    await this.renewSlice(slice);
    return ids;
  }

  async delete(name: string): Promise<number> {
    const slice = this.get(name);
    this.slices.delete(name);
    await this.dismiss(slice, [...slice.members.values()]);
    return slice.members.size;
  }

  get(name: string): OwnedSlice {
    const slice = this.slices.get(name);
    if (slice === undefined) throw new SliceNotFoundError(name);
    return slice;
  }

  // ---- allocation ----------------------------------------------------------------------------------

  private async allocate(
    slice: OwnedSlice,
    want: number | null,
    count: SliceSpec['count'],
  ): Promise<{ confirmed: SliceMember[]; wanted: number; matched: number; available: number }> {
    const requestId = randomBytes(16).toString('hex');
    const collector: Collector = { available: [], busy: 0, seen: new Set(), wake: undefined };
    this.collectors.set(requestId, collector);
    try {
      const size = this.o.networkSize();
      const ttl = Math.min(32, Math.ceil(Math.log2(Math.max(2, Number.isFinite(size) ? size : 16))) + 3);
      // With a ranking and a known network size, only nodes ranked near the top need to answer:
      // those above 1 − 2·want/N (twice the share asked for, as a margin for rank estimate errors).
      const minRank = slice.spec.rank && want !== null && Number.isFinite(size) && size > 0 ? Math.max(0, 1 - (2 * want) / size) : 0;
      const call = {
        v: SLICE_MESSAGE_VERSION,
        kind: 'call',
        requestId,
        slice: slice.ref,
        owner: this.o.self,
        grant: slice.grant,
        ttl,
        minRank: slice.spec.rank?.order === 'asc' ? 0 : minRank,
      } as const;
      await this.o.localCall(call).catch(() => undefined);
      for (const p of this.o.randomPeers(this.fanout)) void this.o.send(p, call).catch(() => undefined);
      const exclude = new Set(slice.members.keys());
      const usable = () => collector.available.filter((o) => !exclude.has(o.address.nodeId));
      const deadline = this.o.now() + this.windowMs;
      const waitAll = slice.spec.rank !== null || want === null;
      while (!this.stopped && this.o.now() < deadline && (waitAll || usable().length < (want ?? Infinity))) {
        await new Promise<void>((resolve) => {
          const cancel = this.o.timers.schedule(() => {
            collector.wake = undefined;
            resolve();
          }, Math.max(1, Math.min(100, deadline - this.o.now())));
          collector.wake = () => {
            collector.wake = undefined;
            cancel();
            resolve();
          };
        });
      }
      // Closed from here on: a later offer is refused, and its sender lets go of its reservation.
      this.collectors.delete(requestId);
      const offers = usable();
      const matched = offers.length + collector.busy + exclude.size;
      const wanted = want ?? Math.max(1, Math.round(('fraction' in count ? count.fraction : 1) * matched));
      slice.lastMatched = matched;
      if (slice.spec.rank !== null) offers.sort((a, b) => (slice.spec.rank!.order === 'asc' ? a.score - b.score : b.score - a.score));
      const confirmed: SliceMember[] = [];
      let next = 0;
      while (confirmed.length < wanted && next < offers.length) {
        const batch = offers.slice(next, next + (wanted - confirmed.length));
        next += batch.length;
        const results = await Promise.all(batch.map((o) => this.confirm(slice, requestId, o)));
        for (const r of results) if (r !== null) confirmed.push(r);
      }
      // Everyone else who held itself for us can go (offers arriving later are refused, which
      // tells their senders the same).
      await Promise.all(offers.slice(next).map((o) => this.send(o.address, { v: SLICE_MESSAGE_VERSION, kind: 'cancel', requestId }).catch(() => undefined)));
      return { confirmed, wanted, matched, available: offers.length };
    } finally {
      this.collectors.delete(requestId);
    }
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
      return { nodeId: offer.address.nodeId, host: offer.address.host, port: offer.address.port, since: this.o.now(), failures: 0 };
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
      const got = await this.allocate(slice, missing, { nodes: missing });
      // The slice may have been deleted or shrunk meanwhile: keep only what still fits.
      const room = this.slices.get(slice.ref.name) === slice ? Math.max(0, slice.target - slice.members.size) : 0;
      const keep = got.confirmed.slice(0, room);
      await this.dismiss(slice, got.confirmed.slice(room));
      for (const m of keep) slice.members.set(m.nodeId, m);
      if (keep.length > 0) this.o.logger.info({ slice: slice.ref.name, added: keep.length, size: slice.members.size, target: slice.target }, 'replaced members that left');
    } finally {
      this.refilling.delete(slice);
    }
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

  private send(to: SliceAddress, message: SliceMessage): Promise<SliceMessage> {
    if (to.nodeId === this.o.self.nodeId) return this.o.localMessage(message);
    return this.o.send(to, message);
  }
}

/** What a user signs to create slice `sliceId` named `spec.name` coordinated by `ownerNode`. */
export function grantPayload(sliceId: string, spec: SliceSpec, ownerNode: string, specWire: unknown): Uint8Array {
  void spec;
  return new TextEncoder().encode(JSON.stringify({ sliceId, name: spec.name, ownerNode, spec: specWire }));
}

export function describeSpec(spec: SliceSpec): string {
  const parts = ['nodes' in spec.count ? `${spec.count.nodes} nodes` : `${(spec.count.fraction * 100).toFixed(1)}% of matching nodes`];
  if (spec.where.predicates.length > 0) parts.push(`where ${formatQuery(spec.where)}`);
  if (spec.rank) parts.push(`ranked by ${formatRank(spec.rank)}`);
  return parts.join(' ');
}
