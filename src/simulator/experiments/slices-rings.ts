/**
 * The T-Man ring of every slice in the simulator, as the daemon runs it (node/runtime/gossip-node.ts):
 * one TMan instance with groups, the group of a node being its slice (0: none), T-Man rounds only
 * inside a slice, and each renewal's member list seeding the ring (GossipNode.joinRing). Plus the
 * observer that checks the rings and the safety rule (no node in two slices) every cycle.
 */
import { NO_PEER, type PeerHandle } from '../../core/handles.js';
import type { Protocol } from '../../protocols/exchange.js';
import type { TManConfig } from '../../protocols/tman/config.js';
import type { TMan } from '../../protocols/tman/tman.js';
import type { SliceRef } from '../../slices/membership.js';
import type { Observer, Simulation } from '../simulation.js';
import type { AllocationModel } from './slices-model.js';
import type { RingProfiles } from './tman.js';

/**
 * The daemon's T-Man settings (node/runtime/gossip-protocols.ts DAEMON_TMAN; a test keeps the two
 * equal). Repeated here so that `peercloud sim` does not load the daemon's network stack.
 */
export const SLICE_RING_TMAN: Readonly<Partial<TManConfig>> = Object.freeze({
  viewSize: 20,
  messageSize: 10,
  psi: 2,
  randomSample: 10,
  failureMemory: 16,
  maxAge: 20,
  sampleAge: 10,
});

/**
 * How a member list seeds the ring:
 * - `daemon`: exactly what GossipNode.joinRing does: set the node's group, then
 *   TMan.addDescriptors(all members). TMan keeps only the first m of them, and, when the group has
 *   just changed, T-Man's next step sees the new group and starts its view over, dropping them;
 * - `reset`: the same, but T-Man's state for the node is reset to the new group first, so the seed
 *   survives (the fix suggested for joinRing);
 * - `ranked`: `reset`, and the members are handed over closest on the ring first, so the m kept
 *   are the node's nearest successors and predecessors.
 */
export type RingSeeding = 'daemon' | 'reset' | 'ranked';

const RING = 4294967296;

/** T-Man for slice members only: a node outside any slice starts no round (GossipNode.runRound). */
export class SliceRingProtocol implements Protocol {
  readonly name = 'tman';

  constructor(
    readonly tman: TMan,
    private readonly profiles: RingProfiles,
    private readonly seeding: RingSeeding,
  ) {}

  ensureCapacity(capacity: number): void {
    this.tman.ensureCapacity(capacity);
  }

  resetNode(self: PeerHandle): void {
    this.profiles.setGroup(self, 0);
    this.tman.resetNode(self);
  }

  selectPeer(self: PeerHandle): PeerHandle {
    return this.profiles.groupOf(self) === 0 ? NO_PEER : this.tman.selectPeer(self);
  }

  initiate(self: PeerHandle, peer: PeerHandle): unknown {
    return this.tman.initiate(self, peer);
  }

  handle(self: PeerHandle, from: PeerHandle, req: unknown): unknown {
    return this.tman.handle(self, from, req as Parameters<TMan['handle']>[2]);
  }

  complete(self: PeerHandle, peer: PeerHandle, req: unknown, res: unknown): void {
    this.tman.complete(self, peer, req as Parameters<TMan['complete']>[2], res as Parameters<TMan['complete']>[3]);
  }

  fail(self: PeerHandle, peer: PeerHandle, req: unknown): void {
    this.tman.fail(self, peer, req as Parameters<TMan['fail']>[2]);
  }

  /** The node got the member list of its slice (GossipNode.joinRing). */
  seed(node: PeerHandle, slice: SliceRef, members: readonly PeerHandle[]): void {
    this.profiles.setGroup(node, slice.group);
    if (this.seeding !== 'daemon' && this.tman.groupOf(node) !== slice.group) this.tman.resetNode(node);
    let ids = members.filter((m) => m !== node);
    if (this.seeding === 'ranked') {
      // Nearest successor, nearest predecessor, second successor, … (only the first m are kept).
      const own = this.profiles.keyOf(node);
      const cw = (m: PeerHandle) => (this.profiles.keyOf(m) - own + RING) % RING;
      const successors = [...ids].sort((a, b) => cw(a) - cw(b) || a - b);
      const interleaved: PeerHandle[] = [];
      for (let i = 0, j = successors.length - 1; i <= j; i++, j--) {
        interleaved.push(successors[i]);
        if (j > i) interleaved.push(successors[j]);
      }
      ids = interleaved;
    }
    if (ids.length > 0) this.tman.addDescriptors(node, ids, ids.map((m) => this.profiles.keyOf(m)));
  }
}

/** Per-slice ring state of one cycle. */
export interface RingCheck {
  /** Live nodes that hold themselves to be members. */
  members: number;
  /** Members whose T-Man successor or predecessor is not a live member of their own slice. */
  bad: number;
  /** Members whose successor or predecessor is not their true ring neighbour among live members. */
  wrong: number;
}

/**
 * Checks every cycle, from the nodes' own state:
 * - rings: for every live member, are TMan.successor()/predecessor() live members of its slice
 *   (what `describe` shows and the issue asks for), and are they its true neighbours;
 * - safety: no node is listed as a member by two live owners (doubleAllocated), and every live
 *   node a live owner lists is a member of that slice by its own account (listedNotMember).
 * A group refresh runs first, as the daemon does before each T-Man round: a node's ring group is
 * its slice's group while it is a member, 0 otherwise (a lease that ran out leaves the ring).
 */
export class SliceObserver implements Observer {
  readonly name = 'slices';
  /** Per slice index, this cycle's ring check. */
  readonly rings: RingCheck[] = [];
  private readonly sliceIndex = new Map<string, number>();

  constructor(
    private readonly model: AllocationModel,
    private readonly rings_: SliceRingProtocol,
    private readonly profiles: RingProfiles,
    /** Slices that will be requested: rows carry s0…s{n-1} from cycle 0 on (stable columns). */
    private readonly sliceCount: number,
  ) {}

  /** Sets each involved node's ring group from its membership; forgets nodes that are free again. */
  refreshGroups(): void {
    for (const node of this.model.involved) {
      const slice = this.model.sliceOf(node);
      const group = slice === null ? 0 : slice.group;
      if (this.profiles.groupOf(node) !== group) this.profiles.setGroup(node, group);
      if (this.model.membership(node).current().state === 'free') this.model.involved.delete(node);
    }
  }

  observe(sim: Simulation): Record<string, number> {
    const model = this.model;
    const pop = sim.population;
    for (const s of model.slices) if (!this.sliceIndex.has(s.ref.sliceId)) this.sliceIndex.set(s.ref.sliceId, s.index);
    // Live members per slice, by their own account.
    const bySlice: PeerHandle[][] = Array.from({ length: Math.max(this.sliceCount, model.slices.length) }, () => []);
    const memberOf = new Map<PeerHandle, number>();
    let reserved = 0;
    for (const node of model.involved) {
      if (!pop.isAlive(node)) continue;
      const m = model.membership(node).current();
      if (m.state === 'reserved') reserved++;
      if (m.state !== 'member') continue;
      const i = this.sliceIndex.get(m.slice.sliceId)!;
      bySlice[i].push(node);
      memberOf.set(node, i);
    }
    const row: Record<string, number> = {};
    let members = 0;
    let bad = 0;
    let wrong = 0;
    let goodRings = 0;
    this.rings.length = 0;
    for (let i = 0; i < bySlice.length; i++) {
      const check = this.checkRing(bySlice[i], i, memberOf, pop.aliveFlags);
      this.rings.push(check);
      members += check.members;
      bad += check.bad;
      wrong += check.wrong;
      if (check.members > 0 && check.bad === 0) goodRings++;
      row[`s${i}Members`] = check.members;
      row[`s${i}RingBad`] = check.bad;
      row[`s${i}RingWrong`] = check.wrong;
    }
    const { doubleAllocated, listedNotMember } = this.checkOwners(sim, memberOf);
    const sent = model.sent;
    return {
      members,
      reserved,
      ringBad: bad,
      ringBadFraction: members > 0 ? bad / members : 0,
      ringWrong: wrong,
      goodRings,
      doubleAllocated,
      listedNotMember,
      messages: sent.calls + sent.offers + sent.confirms + sent.cancels + sent.renews + sent.leaves,
      calls: sent.calls,
      offers: sent.offers,
      ...row,
    };
  }

  private checkRing(nodes: PeerHandle[], index: number, memberOf: Map<PeerHandle, number>, alive: Uint8Array): RingCheck {
    const n = nodes.length;
    if (n < 2) return { members: n, bad: 0, wrong: 0 };
    const keys = this.profiles;
    nodes.sort((a, b) => keys.keyOf(a) - keys.keyOf(b) || a - b);
    const tman = this.rings_.tman;
    let bad = 0;
    let wrong = 0;
    for (let p = 0; p < n; p++) {
      const node = nodes[p];
      const trueSucc = nodes[(p + 1) % n];
      const truePred = nodes[(p - 1 + n) % n];
      const succ = tman.successor(node);
      const pred = tman.predecessor(node);
      const ok = (h: PeerHandle) => h !== NO_PEER && alive[h] === 1 && memberOf.get(h) === index;
      if (!ok(succ) || !ok(pred)) bad++;
      if (succ !== trueSucc || pred !== truePred) wrong++;
    }
    return { members: n, bad, wrong };
  }

  private checkOwners(sim: Simulation, memberOf: Map<PeerHandle, number>): { doubleAllocated: number; listedNotMember: number } {
    const listedBy = new Map<PeerHandle, number>();
    let doubleAllocated = 0;
    let listedNotMember = 0;
    for (const slice of this.model.slices) {
      if (slice.status !== 'active' || !sim.population.isAlive(slice.owner)) continue;
      for (const node of slice.members.keys()) {
        const times = (listedBy.get(node) ?? 0) + 1;
        listedBy.set(node, times);
        if (times === 2) doubleAllocated++;
        if (sim.population.isAlive(node) && memberOf.get(node) !== slice.index) listedNotMember++;
      }
    }
    return { doubleAllocated, listedNotMember };
  }
}
