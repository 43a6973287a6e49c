/**
 * The slice operations as the HTTP API offers them (src/api/slice-routes.ts): create, list,
 * describe, grow, shrink and delete slices coordinated by this node, and this node's own
 * membership. Every mutating operation names the user who signed the request; only the user who
 * owns a slice may change it, and a create must carry a grant signed by that same user.
 */
import { AuthError } from '../auth/auth-error.js';
import { authorizeOwner } from '../auth/policy.js';
import type { SignedObject } from '../auth/signed-object.js';
import { decodeGrant } from './agent.js';
import type { Membership } from './membership.js';
import { SliceMessageError } from './messages.js';
import type { OwnedSlice } from './owner.js';
import { describeSpec } from './owner.js';
import { formatQuery } from './query.js';
import { formatRank } from './query-rank.js';
import type { SliceService } from './slice-service.js';
import { specFromWire, specToWire } from './spec-wire.js';

export interface SliceView {
  readonly name: string;
  readonly sliceId: string;
  readonly ownerUser: string;
  readonly ownerNode: string;
  readonly spec: { readonly text: string; readonly where: string; readonly rank: string | null; readonly keepSize: boolean; readonly nodes: number | null; readonly fraction: number | null };
  readonly size: number;
  readonly target: number;
  readonly createdAt: number;
  readonly members: readonly {
    readonly nodeId: string;
    readonly host: string;
    readonly port: number;
    readonly since: number;
    /** Its ring neighbours in the slice, as it reported them at its last lease renewal. */
    readonly predecessor: string | null;
    readonly successor: string | null;
    /** What the slice may use of the node (its slices.maxShare of cores and memory), as its offer said; null if not told. */
    readonly cores: number | null;
    readonly memoryBytes: number | null;
  }[];
}

export interface MembershipView {
  readonly state: Membership['state'];
  readonly slice: { readonly name: string; readonly sliceId: string; readonly ownerNode: string; readonly ownerUser: string } | null;
  readonly leaseUntil: number | null;
  /** The members the owner told this node about (its ring's seed). */
  readonly members: readonly { readonly nodeId: string; readonly host: string; readonly port: number }[];
  /** This node's neighbours on its slice's T-Man ring. */
  readonly ring: { readonly predecessor: string | null; readonly successor: string | null };
}

/** A request the API refuses with a 4xx (409 for conflicts, 404 for unknown slices). */
export class SliceRequestError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409,
  ) {
    super(message);
    this.name = 'SliceRequestError';
  }
}

export interface CreateSliceInput {
  readonly sliceId: string;
  readonly spec: unknown;
  readonly grant: SignedObject;
}

export class SliceApi {
  constructor(
    private readonly service: SliceService,
    private readonly nodeId: string,
    private readonly ring: () => { predecessor: string | null; successor: string | null } = () => ({ predecessor: null, successor: null }),
  ) {}

  async create(input: CreateSliceInput, userId: string): Promise<SliceView> {
    let spec;
    try {
      spec = specFromWire(input.spec);
    } catch (err) {
      throw new SliceRequestError(`spec: ${(err as Error).message}`, 400);
    }
    let payload;
    try {
      payload = decodeGrant(input.grant);
    } catch (err) {
      throw new SliceRequestError(`grant: ${(err as Error).message}`, 400);
    }
    if (payload.sliceId !== input.sliceId || payload.name !== spec.name || payload.ownerNode !== this.nodeId) {
      throw new SliceRequestError('the grant does not match this request (slice id, name, or this node as the owner)', 400);
    }
    if (JSON.stringify(payload.spec) !== JSON.stringify(specToWire(spec))) throw new SliceRequestError('the grant signs another spec than the one requested', 400);
    if (this.service.owner.nameTaken(spec.name)) throw new SliceRequestError(`slice ${spec.name} already exists on this node`, 409);
    try {
      return view(await this.service.owner.create(input.sliceId, spec, input.grant, userId));
    } catch (err) {
      if (err instanceof SliceMessageError) throw new SliceRequestError(err.message, 400);
      throw err;
    }
  }

  list(): SliceView[] {
    return [...this.service.owner.slices.values()].map(view);
  }

  describe(name: string): SliceView {
    return view(this.owned(name));
  }

  async grow(name: string, n: number, userId: string): Promise<{ added: number; slice: SliceView }> {
    this.mine(name, userId, 'slice.grow');
    const added = await this.service.owner.grow(name, n);
    return { added, slice: this.describe(name) };
  }

  async shrink(name: string, which: number | readonly string[], userId: string): Promise<{ removed: string[]; slice: SliceView }> {
    const slice = this.mine(name, userId, 'slice.shrink');
    if (typeof which !== 'number') {
      const unknown = which.filter((id) => !slice.members.has(id));
      if (unknown.length > 0) throw new SliceRequestError(`not members of ${name}: ${unknown.join(', ')}`, 400);
    } else if (which > slice.members.size) {
      throw new SliceRequestError(`slice ${name} has ${slice.members.size} members, cannot remove ${which}`, 400);
    }
    const removed = await this.service.owner.shrink(name, which);
    return { removed, slice: this.describe(name) };
  }

  async delete(name: string, userId: string): Promise<{ name: string; released: number }> {
    this.mine(name, userId, 'slice.delete');
    return { name, released: await this.service.owner.delete(name) };
  }

  membership(): MembershipView {
    const m = this.service.agent.membership();
    return {
      state: m.state,
      slice: m.state === 'member' ? { name: m.slice.name, sliceId: m.slice.sliceId, ownerNode: m.slice.ownerNode, ownerUser: m.slice.ownerUser } : null,
      leaseUntil: m.state === 'member' ? m.leaseUntil : null,
      members: this.service.agent.knownMembers().map((a) => ({ nodeId: a.nodeId, host: a.host, port: a.port })),
      ring: m.state === 'member' ? this.ring() : { predecessor: null, successor: null },
    };
  }

  private owned(name: string): OwnedSlice {
    const slice = this.service.owner.slices.get(name);
    if (slice === undefined) throw new SliceRequestError(`no slice named ${name} is coordinated by this node`, 404);
    return slice;
  }

  private mine(name: string, userId: string, action: string): OwnedSlice {
    const slice = this.owned(name);
    try {
      authorizeOwner(slice.ref.ownerUser, userId, action, `slice ${name}`);
    } catch (err) {
      if (err instanceof AuthError) throw new SliceRequestError(err.message, 403);
      throw err;
    }
    return slice;
  }
}

function view(s: OwnedSlice): SliceView {
  return {
    name: s.ref.name,
    sliceId: s.ref.sliceId,
    ownerUser: s.ref.ownerUser,
    ownerNode: s.ref.ownerNode,
    spec: {
      text: describeSpec(s.spec),
      where: formatQuery(s.spec.where),
      rank: s.spec.rank ? formatRank(s.spec.rank) : null,
      keepSize: s.spec.keepSize,
      nodes: 'nodes' in s.spec.count ? s.spec.count.nodes : null,
      fraction: 'fraction' in s.spec.count ? s.spec.count.fraction : null,
    },
    size: s.members.size,
    target: s.target,
    createdAt: s.createdAt,
    members: [...s.members.values()].map((m) => ({
      nodeId: m.nodeId,
      host: m.host,
      port: m.port,
      since: m.since,
      predecessor: m.ring?.predecessor ?? null,
      successor: m.ring?.successor ?? null,
      cores: m.resources?.cores ?? null,
      memoryBytes: m.resources?.memoryBytes ?? null,
    })),
  };
}
