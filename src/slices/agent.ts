/**
 * The candidate and member side of slice allocation, run by every node (messages.ts has the
 * protocol). It answers calls (spreading them further and offering itself if it matches), and the
 * owner's confirm / cancel / renew / leave for its own membership (membership.ts holds the rule that
 * a node is in at most one slice).
 *
 * Calls spread like a rumor: a node that sees a call for the first time forwards it to `fanout`
 * random peers of its view while its ttl lasts, so it reaches every node in O(log N) hops without
 * any node knowing the whole cloud. Offers go straight to the owner, whose node id is pinned by the
 * transport, so nobody else can collect them.
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

const SEEN_LIMIT = 4096;

export class SliceAgent {
  readonly stats: AgentStats = { callsSeen: 0, callsForwarded: 0, offersMade: 0, busyOffers: 0, denied: 0, joined: 0 };
  private readonly seen = new Set<string>();
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
    if (this.seen.has(m.requestId)) return okReply();
    if (this.seen.size >= SEEN_LIMIT) this.seen.clear();
    this.seen.add(m.requestId);
    this.stats.callsSeen++;
    const problem = this.checkGrant(m.grant, m.slice, m.owner.nodeId);
    if (problem !== null) return refusal(problem); // not forwarded: a forged call dies here
    if (m.ttl > 0) this.forward({ ...m, ttl: m.ttl - 1 });
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
      return okReply(); // forwarded, but this node does not take part
    }
    const attributes = this.o.attributes();
    if (!matches(spec.where, attributes) || this.o.rank() < m.minRank) return okReply();
    const available = this.o.membership.reserve(m.requestId, m.slice.sliceId, this.holdMs) === null;
    const offer: OfferMessage = {
      v: SLICE_MESSAGE_VERSION,
      kind: 'offer',
      requestId: m.requestId,
      available,
      score: spec.rank ? finite(rankValue(spec.rank, attributes)) : 0,
      address: this.o.self,
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

  private forward(m: CallMessage): void {
    const targets = this.o.randomPeers(this.fanout).filter((p) => p.nodeId !== m.owner.nodeId);
    for (const t of targets) {
      this.stats.callsForwarded++;
      void this.o.send(t, m).catch(() => undefined);
    }
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
