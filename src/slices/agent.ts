/**
 * The candidate and member side of slices, on every node. A call (owner.ts) reaches a node, which
 *  - checks the user's grant (signed by the slice's owner user, for this very slice and owner node);
 *  - passes the call on: a flooded call to `fanout` random peers the first time it sees it, a call
 *    with a budget (reach.ts) split among a few random peers, minus one for itself if it is new;
 *  - checks its own policy (may this user put me in a slice?), the query (on its attributes, capped
 *    by slices.maxShare) and the rank filter;
 *  - reserves itself for the request (membership.ts) and offers itself to the owner, or tells the
 *    owner it matches but is busy.
 * Then it answers confirm, cancel, renew and leave from the owner's node only.
 */
import { AuthError } from '../auth/auth-error.js';
import { type AuthPolicy, authorize } from '../auth/policy.js';
import { verifyObject } from '../auth/signed-object.js';
import type { Logger } from '../node/logger.js';
import type { NodeAttributes } from '../node/attributes.js';
import { type Membership, type SliceMembership, type SliceRef } from './membership.js';
import {
  type CallMessage,
  GRANT_PURPOSE,
  type OfferMessage,
  type ReplyMessage,
  SLICE_MESSAGE_VERSION,
  type SignedGrant,
  type SliceAddress,
  type SliceMessage,
  okReply,
  refusal,
} from './messages.js';
import { matches } from './query-eval.js';
import { rankValue } from './query-rank.js';
import { splitBudget } from './reach.js';
import { resourcesOf } from './share.js';
import type { SliceSpec } from './spec.js';
import { specFromWire } from './spec-wire.js';

/** What a grant signs: the slice and its spec, so that nodes can check the owner's node did not change them. */
export interface GrantPayload {
  readonly sliceId: string;
  readonly name: string;
  readonly ownerNode: string;
  readonly spec: unknown;
}

export interface SliceAgentOptions {
  readonly self: SliceAddress;
  readonly membership: SliceMembership;
  /** This node's attributes as slice queries see them (capped by slices.maxShare, share.ts). */
  readonly attributes: () => NodeAttributes;
  /** This node's estimated capacity rank in [0, 1] (slicing service). */
  readonly rank: () => number;
  readonly policy: () => AuthPolicy;
  readonly now: () => number;
  /** Sends a slice message to a node and resolves with its reply. */
  readonly send: (to: SliceAddress, message: SliceMessage) => Promise<SliceMessage>;
  /** Up to k random peers from the peer sampling view. */
  readonly randomPeers: (k: number) => SliceAddress[];
  /** Offers to our own node (when we are also the owner) go here instead of over the network. */
  readonly localOffer: (offer: OfferMessage) => void;
  readonly logger: Logger;
  /** How long a node holds itself for a request it offered itself to (default 10 s). */
  readonly holdMs?: number;
  /** Peers a call is forwarded to (default 4). */
  readonly fanout?: number;
  /** Called when the owner sends the member list (renew), for the ring. */
  readonly onMembers?: (slice: SliceRef, members: readonly SliceAddress[]) => void;
  /** This node's ring neighbours (reported to the owner in renew answers). */
  readonly ring?: () => { predecessor: string | null; successor: string | null };
}

export interface AgentStats {
  callsSeen: number;
  callsForwarded: number;
  offersMade: number;
  busyOffers: number;
  denied: number;
  joined: number;
}

/** Requests remembered (a call seen again is only passed on); cleared when full. */
const SEEN_LIMIT = 4096;

interface SeenCall {
  /** The grant's signature: a copy of the call with another grant is a forgery. */
  readonly signature: string;
  /** This node has passed the flooded form of the call on already. */
  flooded: boolean;
}

export class SliceAgent {
  readonly stats: AgentStats = { callsSeen: 0, callsForwarded: 0, offersMade: 0, busyOffers: 0, denied: 0, joined: 0 };
  private readonly seen = new Map<string, SeenCall>();
  private readonly holdMs: number;
  private readonly fanout: number;
  private members: readonly SliceAddress[] = [];

  constructor(private readonly o: SliceAgentOptions) {
    this.holdMs = o.holdMs ?? 10_000;
    this.fanout = o.fanout ?? 4;
  }

  membership(): Membership {
    return this.o.membership.current();
  }

  /** The member list the owner sent last (empty if not a member). */
  knownMembers(): readonly SliceAddress[] {
    return this.o.membership.slice() === null ? [] : this.members;
  }

  /** Handles a slice message from `from` (authenticated node id). Never throws for bad input: refuses. */
  async onMessage(from: string, m: SliceMessage): Promise<ReplyMessage> {
    switch (m.kind) {
      case 'call':
        return this.onCall(m);
      case 'confirm': {
        if (from !== m.slice.ownerNode) return refusal('only the slice owner node confirms');
        const problem = this.checkGrant(m.grant, m.slice, null);
        if (problem !== null) return refusal(problem);
        const refused = this.o.membership.confirm(m.requestId, m.slice, m.leaseMs);
        if (refused !== null) return refusal(refused);
        this.stats.joined++;
        this.o.logger.info({ slice: m.slice.name, sliceId: m.slice.sliceId }, 'joined a slice');
        return okReply();
      }
      case 'cancel':
        this.o.membership.cancel(m.requestId);
        return okReply();
      case 'renew': {
        const slice = this.o.membership.slice();
        if (slice === null || slice.sliceId !== m.sliceId) return refusal('not-member');
        if (from !== slice.ownerNode) return refusal('only the slice owner node renews');
        const refused = this.o.membership.renew(m.sliceId, m.leaseMs);
        if (refused !== null) return refusal(refused);
        this.members = m.members;
        this.o.onMembers?.(slice, m.members);
        const ring = this.o.ring?.();
        return ring ? { ...okReply(), ring } : okReply();
      }
      case 'leave': {
        const slice = this.o.membership.slice();
        if (slice !== null && slice.sliceId === m.sliceId && from !== slice.ownerNode) return refusal('only the slice owner node removes members');
        if (this.o.membership.leave(m.sliceId)) this.o.logger.info({ sliceId: m.sliceId }, 'left a slice');
        this.members = [];
        return okReply();
      }
      default:
        return refusal(`a node does not take ${m.kind} messages`);
    }
  }

  private onCall(m: CallMessage): ReplyMessage {
    let seen = this.seen.get(m.requestId);
    if (seen !== undefined && seen.signature !== m.grant.signature) return refusal('another grant for a request already seen');
    const first = seen === undefined;
    if (seen === undefined) {
      const problem = this.checkGrant(m.grant, m.slice, m.owner.nodeId);
      if (problem !== null) return refusal(problem); // not passed on: a forged call dies here
      if (this.seen.size >= SEEN_LIMIT) this.seen.clear();
      seen = { signature: m.grant.signature, flooded: false };
      this.seen.set(m.requestId, seen);
      this.stats.callsSeen++;
    }
    if (m.budget === undefined) {
      if (!seen.flooded && m.ttl > 0) this.forward(m, null);
      seen.flooded = true;
    } else {
      // A node the call reaches again keeps nothing of the budget: it passes all of it on, so
      // that later, larger waves of the same request reach new nodes (reach.ts).
      this.forward(m, first ? m.budget - 1 : m.budget);
    }
    if (!first) return okReply();
    let spec: SliceSpec;
    try {
      spec = specFromWire(decodeGrant(m.grant).spec);
    } catch (err) {
      return refusal(`bad spec: ${(err as Error).message}`);
    }
    try {
      authorize(this.o.policy(), m.slice.ownerUser, 'slice.join');
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      this.stats.denied++;
      return okReply(); // passed on, but this node does not take part
    }
    const attributes = this.o.attributes();
    if (!matches(spec.where, attributes) || this.o.rank() < m.minRank) return okReply();
    // Already a member of this very slice (a grow, a refill, a create's retry): the owner knows.
    const now = this.o.membership.current();
    if (now.state === 'member' && now.slice.sliceId === m.slice.sliceId) return okReply();
    const available = this.o.membership.reserve(m.requestId, m.slice.sliceId, this.holdMs) === null;
    const offer: OfferMessage = {
      v: SLICE_MESSAGE_VERSION,
      kind: 'offer',
      requestId: m.requestId,
      available,
      score: spec.rank ? finite(rankValue(spec.rank, attributes)) : 0,
      address: this.o.self,
      resources: resourcesOf(attributes),
    };
    if (available) this.stats.offersMade++;
    else this.stats.busyOffers++;
    if (m.owner.nodeId === this.o.self.nodeId) this.o.localOffer(offer);
    else {
      void this.o.send(m.owner, offer).then(
        (reply) => {
          if (available && reply.kind === 'reply' && !reply.ok) this.o.membership.cancel(m.requestId);
        },
        () => {
          // The owner is gone: do not wait for the hold to run out.
          if (available) this.o.membership.cancel(m.requestId);
        },
      );
    }
    return okReply();
  }

  /** Passes a call on: flooded (budget null) to `fanout` peers, or `budget` nodes split among up to `fanout` peers. */
  private forward(m: CallMessage, budget: number | null): void {
    if (m.ttl <= 0 || (budget !== null && budget <= 0)) return;
    const wanted = budget === null ? this.fanout : Math.min(this.fanout, budget);
    const targets = this.o.randomPeers(wanted + 1).filter((p) => p.nodeId !== m.owner.nodeId).slice(0, wanted);
    const shares = budget === null ? targets.map(() => undefined) : splitBudget(budget, targets.length);
    targets.forEach((t, i) => {
      const share = shares[i];
      this.stats.callsForwarded++;
      const copy: CallMessage = share === undefined ? { ...m, ttl: m.ttl - 1 } : { ...m, ttl: m.ttl - 1, budget: share };
      void this.o.send(t, copy).catch(() => undefined);
    });
  }

  /** Why `grant` does not authorize `slice` (null if it does). */
  private checkGrant(grant: SignedGrant, slice: SliceRef, ownerNode: string | null): string | null {
    let payload: GrantPayload;
    let userId: string;
    try {
      const verified = verifyObject(grant, GRANT_PURPOSE, { nowMs: this.o.now(), maxAgeMs: 365 * 24 * 3_600_000 });
      userId = verified.userId;
      payload = decodeGrant(grant);
    } catch (err) {
      return `invalid grant: ${(err as Error).message}`;
    }
    if (userId !== slice.ownerUser) return `the grant is signed by ${userId}, not by the slice owner ${slice.ownerUser}`;
    if (payload.sliceId !== slice.sliceId || payload.name !== slice.name || payload.ownerNode !== slice.ownerNode) return 'the grant is for another slice';
    if (ownerNode !== null && ownerNode !== slice.ownerNode) return 'the call does not come from the slice owner node';
    return null;
  }
}

/** The payload of a grant (throws on a malformed one; its signature is checked by verifyObject). */
export function decodeGrant(grant: SignedGrant): GrantPayload {
  const text = Buffer.from(grant.payload, 'base64url').toString('utf8');
  const data = JSON.parse(text) as Partial<GrantPayload>;
  if (typeof data !== 'object' || data === null || typeof data.sliceId !== 'string' || typeof data.name !== 'string' || typeof data.ownerNode !== 'string') {
    throw new Error('grant payload must name sliceId, name and ownerNode');
  }
  return { sliceId: data.sliceId, name: data.name, ownerNode: data.ownerNode, spec: data.spec };
}

function finite(x: number): number {
  return Number.isFinite(x) ? x : 0;
}
