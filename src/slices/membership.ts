/**
 * A node's membership in slices: the one rule that makes allocation safe is local — a node belongs
 * to at most one slice, and it says so itself. Concurrent requests from different owners can race
 * for the same node, but the node takes at most one: it *reserves* itself for the first request it
 * offers itself to (refusing to offer to others while the reservation holds), and becomes a
 * *member* only on that request's confirmation. So no node can end up in two slices, whatever the
 * timing, with no coordination between the requesters.
 *
 * Every hold expires by itself: a reservation after `holdMs` if no confirmation comes, a membership
 * when its lease is not renewed (the owner's node renews it; an owner that disappears lets its slice
 * go after one lease time). The state is persisted (persist hook) so that a node restarted with its
 * data directory still knows which slice it belongs to until the lease runs out, and does not offer
 * itself to another slice in the meantime.
 *
 * Pure logic on an injected clock; the runtime does the messaging (allocation.ts).
 */

/** Where a slice's owner can be reached, and who owns it. */
export interface SliceRef {
  /** Unique id of the slice (random, chosen by the owner's node). */
  readonly sliceId: string;
  readonly name: string;
  /** The node that coordinates the slice (renews leases, replaces members). */
  readonly ownerNode: string;
  /** The user the slice belongs to. */
  readonly ownerUser: string;
  /** The slice's T-Man group (ring), derived from the slice id. */
  readonly group: number;
}

export type Membership =
  | { readonly state: 'free' }
  | { readonly state: 'reserved'; readonly requestId: string; readonly sliceId: string; readonly until: number }
  | { readonly state: 'member'; readonly slice: SliceRef; readonly leaseUntil: number; readonly since: number };

export const FREE: Membership = Object.freeze({ state: 'free' });

/** Why a step was refused (the allocation protocol reports it to the requester). */
export type MembershipRefusal = 'busy' | 'not-reserved' | 'not-member' | 'expired';

export class SliceMembership {
  private value: Membership;

  constructor(
    private readonly now: () => number,
    initial: Membership = FREE,
    private readonly persist: (m: Membership) => void = () => {},
  ) {
    this.value = initial;
  }

  /** The current state, with expired reservations and leases already let go. */
  current(): Membership {
    const t = this.now();
    const v = this.value;
    if ((v.state === 'reserved' && t >= v.until) || (v.state === 'member' && t >= v.leaseUntil)) this.set(FREE);
    return this.value;
  }

  /** The slice this node is a member of, or null. */
  slice(): SliceRef | null {
    const m = this.current();
    return m.state === 'member' ? m.slice : null;
  }

  /**
   * Holds this node for allocation request `requestId` for `holdMs` if it is free (or already holds
   * for that very request). Returns null on success, else why not.
   */
  reserve(requestId: string, sliceId: string, holdMs: number): MembershipRefusal | null {
    const m = this.current();
    if (m.state === 'reserved' && m.requestId === requestId) return null;
    if (m.state !== 'free') return 'busy';
    this.set({ state: 'reserved', requestId, sliceId, until: this.now() + holdMs });
    return null;
  }

  /**
   * Turns the reservation for `requestId` into membership of `slice` with a lease of `leaseMs`.
   * Idempotent: confirming a membership already granted for that slice renews it.
   */
  confirm(requestId: string, slice: SliceRef, leaseMs: number): MembershipRefusal | null {
    const m = this.current();
    if (m.state === 'member' && m.slice.sliceId === slice.sliceId) return this.renew(slice.sliceId, leaseMs);
    if (m.state !== 'reserved' || m.requestId !== requestId || m.sliceId !== slice.sliceId) return m.state === 'free' ? 'expired' : 'not-reserved';
    const t = this.now();
    this.set({ state: 'member', slice, leaseUntil: t + leaseMs, since: t });
    return null;
  }

  /** Extends the lease of slice `sliceId`; refused if this node is not (any more) its member. */
  renew(sliceId: string, leaseMs: number): MembershipRefusal | null {
    const m = this.current();
    if (m.state !== 'member' || m.slice.sliceId !== sliceId) return 'not-member';
    this.set({ ...m, leaseUntil: Math.max(m.leaseUntil, this.now() + leaseMs) });
    return null;
  }

  /** Lets go of a reservation for `requestId` (the requester chose others). */
  cancel(requestId: string): boolean {
    const m = this.current();
    if (m.state !== 'reserved' || m.requestId !== requestId) return false;
    this.set(FREE);
    return true;
  }

  /** Leaves slice `sliceId` (deleted, shrunk). */
  leave(sliceId: string): boolean {
    const m = this.current();
    if (m.state === 'reserved' && m.sliceId === sliceId) {
      this.set(FREE);
      return true;
    }
    if (m.state !== 'member' || m.slice.sliceId !== sliceId) return false;
    this.set(FREE);
    return true;
  }

  private set(m: Membership): void {
    this.value = m;
    this.persist(m);
  }
}

/** A slice's T-Man group: a non-zero signed 32-bit integer from its id (0 means "no slice"). */
export function groupOfSlice(sliceId: string): number {
  // FNV-1a over the id's characters: stable across nodes and versions, cheap, well spread.
  let h = 0x811c9dc5;
  for (let i = 0; i < sliceId.length; i++) {
    h ^= sliceId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0 || 1;
}
