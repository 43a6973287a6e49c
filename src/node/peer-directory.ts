/**
 * The peer directory: which remote node each peer handle stands for.
 *
 * The gossip protocols name peers by small integer handles (src/core/handles.ts) and keep them in
 * their views; on the wire a peer is its signed descriptor. The directory interns descriptors into
 * handles (the local node is always handle 0), keeps the newest descriptor per node id (highest
 * sequence), answers the profile lookups the protocols need (T-Man's ring key and group), and
 * translates whole messages in both directions (wire-translation.ts).
 *
 * Handle reuse. Handles must stay small: the protocols size scratch arrays by the largest handle
 * they meet, so an id space that only grew would grow their memory with every peer ever seen. So
 * handles live in 1..capacity and are reused, but never while anything may still hold one:
 *  - a peer is forgotten only if no registered reference source (the protocols' views and caches:
 *    see `addReferences`) lists its handle, it is not pinned (exchanges in flight: `pin`/`retain`),
 *    and it was not admitted by the message being translated;
 *  - freed handles are reused first-in first-out, and only once every never-used handle is taken,
 *    so a handle rests as long as possible before it names another node.
 * Messages are translated and handed to a protocol synchronously, so between `fromWire` and the
 * protocol storing the handles nothing can evict them.
 *
 * Eviction. When a new node arrives and the directory is full, it scans the reference sources once
 * and forgets unreferenced peers, dead ones first, then least recently used, down to 15/16 of the
 * capacity (so that the scan is amortized over many admissions). If every peer is referenced the
 * newcomer is dropped from its message (counted in `stats.full`). `collect()` forgets unreferenced
 * peers that are dead or idle; `markDead` forgets a peer at once if nothing references it.
 */
import type { Clock } from '../core/clock.js';
import { NO_PEER, type PeerHandle } from '../core/handles.js';
import { type WireDescriptor, type WireDescriptorItem, isDescriptorRef } from '../network/codec/descriptor.js';
import { type CodecLimits, defaultCodecLimits } from '../network/codec/limits.js';
import type { WireMessage } from '../network/codec/messages.js';
import type { ProfileDirectory } from '../protocols/tman/tman.js';
import { DescriptorStore } from './descriptor-store.js';
import type { LocalDescriptor } from './local-descriptor.js';
import { ringKeyOf } from './ring-key.js';
import { type DescriptorPolicy, DescriptorError, type NodeDescriptor, defaultDescriptorPolicy, verifyDescriptor } from './signed-descriptor.js';
import { type CheckedDescriptor, type ProtocolMessage, type TManKeyMode, type TranslationDirectory, protocolToWire, wireToProtocol } from './wire-translation.js';

/** The local node's handle. */
export const LOCAL_HANDLE: PeerHandle = 0;

/** Lists handles that something (a protocol view, a cache) still holds. */
export type HandleReferences = (visit: (handle: PeerHandle) => void) => void;

export interface PeerDirectoryOptions {
  /** Remote peers kept at most (default 1024); must exceed what all views together hold. */
  readonly capacity?: number;
  /** Clock skew and maximum age of descriptors (default: defaultDescriptorPolicy). */
  readonly maxClockSkewMs?: number;
  readonly maxAgeMs?: number;
  /** Codec limits, for the descriptor size and address policy (default: defaultCodecLimits). */
  readonly limits?: CodecLimits;
  /** How T-Man keys travel (default `node-id`). */
  readonly tmanKeys?: TManKeyMode;
  /** `collect()` forgets unreferenced peers unused for this long (default 10 min). */
  readonly idleMs?: number;
  /** Descriptors by digest, to resolve references in messages (default: a new store). */
  readonly store?: DescriptorStore;
  /** Descriptors (by digest) to refuse, e.g. rumored dead (default: none). */
  readonly refused?: (digest: Uint8Array) => boolean;
}

/** What the directory knows about a peer, for APIs and logs. */
export interface PeerProfile {
  readonly handle: PeerHandle;
  readonly nodeId: string;
  readonly ringKey: number;
  readonly group: number;
  readonly dead: boolean;
  readonly descriptor: NodeDescriptor;
}

export interface DirectoryStats {
  /** New peers given a handle. */
  admitted: number;
  /** Known peers whose descriptor was replaced by one with a higher sequence. */
  updated: number;
  /** Descriptors older than the one held (or equal sequence, different bytes): ignored, mapped to the peer's handle. */
  stale: number;
  /** Expired descriptors dropped from messages. */
  expired: number;
  /** Newcomers dropped because every held peer was referenced. */
  full: number;
  /** Peers forgotten (evicted, collected, dead). */
  forgotten: number;
  /** Signature verifications performed (repeated identical descriptors skip them). */
  verifications: number;
  /** Forged or invalid descriptors refused. */
  rejected: number;
  /** Descriptors dropped because `refused` covers them (rumored dead). */
  refused: number;
  /** References in messages resolved from the store. */
  resolved: number;
  /** References in messages to descriptors we did not hold. */
  missing: number;
}

interface Entry {
  readonly handle: PeerHandle;
  readonly nodeId: string;
  readonly ringKey: number;
  descriptor: NodeDescriptor;
  group: number;
  lastUsed: number;
  /** Batch in which the entry was last admitted: never evicted during that batch. */
  batch: number;
  dead: boolean;
  pins: number;
}

export class PeerDirectory implements ProfileDirectory {
  readonly capacity: number;
  readonly tmanKeys: TManKeyMode;
  readonly idleMs: number;
  readonly stats: DirectoryStats = { admitted: 0, updated: 0, stale: 0, expired: 0, full: 0, forgotten: 0, verifications: 0, rejected: 0, refused: 0, resolved: 0, missing: 0 };
  readonly store: DescriptorStore;
  private readonly refused: (digest: Uint8Array) => boolean;
  /** Whether the message being translated out sends references instead of descriptors. */
  private sendRefs = false;
  private readonly policy: DescriptorPolicy;
  private readonly entries: (Entry | undefined)[];
  private readonly byNodeId = new Map<string, Entry>();
  /** The same entries by raw public key (as a latin1 string): finds a known peer without hashing. */
  private readonly byKey = new Map<string, Entry>();
  private readonly sources = new Set<HandleReferences>();
  /** Freed handles, oldest first (a ring buffer of capacity slots). */
  private readonly freeQueue: Int32Array;
  private freeHead = 0;
  private freeCount = 0;
  private nextFresh = 1;
  private count = 0;
  private batch = 0;
  /** Scratch for reference scans: refMark[h] === refStamp means referenced. */
  private readonly refMark: Int32Array;
  private refStamp = 0;
  private readonly translator: TranslationDirectory;

  constructor(
    readonly local: LocalDescriptor,
    private readonly clock: Clock,
    options: PeerDirectoryOptions = {},
  ) {
    const capacity = options.capacity ?? 1024;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 24) throw new RangeError(`capacity must be an integer in 1..2^24, got ${capacity}`);
    this.capacity = capacity;
    this.tmanKeys = options.tmanKeys ?? 'node-id';
    if (this.tmanKeys !== 'node-id' && this.tmanKeys !== 'carried') throw new RangeError(`tmanKeys must be node-id or carried, got ${String(this.tmanKeys)}`);
    this.idleMs = options.idleMs ?? 10 * 60_000;
    this.store = options.store ?? new DescriptorStore();
    this.refused = options.refused ?? (() => false);
    const maxClockSkewMs = options.maxClockSkewMs ?? defaultDescriptorPolicy.maxClockSkewMs;
    const maxAgeMs = options.maxAgeMs ?? defaultDescriptorPolicy.maxAgeMs;
    if (!(maxClockSkewMs >= 0)) throw new RangeError(`maxClockSkewMs must be >= 0, got ${maxClockSkewMs}`);
    if (!(maxAgeMs > local.refreshIntervalMs)) {
      throw new RangeError(`maxAgeMs (${maxAgeMs}) must exceed the local refresh interval (${local.refreshIntervalMs}), or our own descriptors expire`);
    }
    this.policy = { maxClockSkewMs, maxAgeMs, limits: options.limits ?? defaultCodecLimits };
    this.entries = new Array<Entry | undefined>(capacity + 1);
    this.freeQueue = new Int32Array(capacity);
    this.refMark = new Int32Array(capacity + 1);
    const own = local.current();
    this.entries[LOCAL_HANDLE] = {
      handle: LOCAL_HANDLE,
      nodeId: own.nodeId,
      ringKey: ringKeyOf(own.nodeId),
      descriptor: own,
      group: 0,
      lastUsed: clock.now(),
      batch: 0,
      dead: false,
      pins: 0,
    };
    this.byNodeId.set(own.nodeId, this.entries[LOCAL_HANDLE]!);
    this.byKey.set(keyString(own.publicKey), this.entries[LOCAL_HANDLE]!);
    this.translator = {
      descriptorFor: (h) => this.descriptorForSending(h),
      check: (d, field) => this.check(d, field),
      beginBatch: () => {
        this.batch++;
      },
      handleOf: (nodeId) => this.handleOf(nodeId),
      keyOf: (h) => this.keyOf(h),
      noteGroup: (h, g) => {
        if (h !== LOCAL_HANDLE) this.entry(h).group = g;
      },
    };
  }

  /** Remote peers currently held. */
  get size(): number {
    return this.count;
  }

  // ---- interning ----------------------------------------------------------------------------------

  /**
   * The handle of the node `descriptor` describes, interning it if new and keeping it if newer than
   * the one held. NO_PEER if it is expired or the directory is full of referenced peers. Throws
   * DescriptorError if it is forged or invalid (a `nodeId` on the argument is checked too).
   */
  intern(descriptor: WireDescriptor | NodeDescriptor): PeerHandle {
    const checked = this.check(descriptor, 'descriptor');
    this.batch++;
    return checked.kind === 'ok' ? checked.admit() : NO_PEER;
  }

  /** Like `intern`, for a reference too: NO_PEER if we do not hold what it refers to. */
  internItem(item: WireDescriptorItem): PeerHandle {
    const checked = this.check(item, 'descriptor');
    this.batch++;
    return checked.kind === 'ok' ? checked.admit() : NO_PEER;
  }

  /** The handle of a node id, or NO_PEER. */
  handleOf(nodeId: string): PeerHandle {
    return this.byNodeId.get(nodeId)?.handle ?? NO_PEER;
  }

  has(handle: PeerHandle): boolean {
    return Number.isInteger(handle) && handle >= 0 && handle <= this.capacity && this.entries[handle] !== undefined;
  }

  /** The newest descriptor held for a handle (for 0: ours, re-signed if due). */
  descriptorOf(handle: PeerHandle): NodeDescriptor {
    if (handle === LOCAL_HANDLE) return this.localDescriptor();
    return this.entry(handle).descriptor;
  }

  nodeIdOf(handle: PeerHandle): string {
    return this.entry(handle).nodeId;
  }

  profileOf(handle: PeerHandle): PeerProfile {
    const e = this.entry(handle);
    return { handle, nodeId: e.nodeId, ringKey: e.ringKey, group: e.group, dead: e.dead, descriptor: this.descriptorOf(handle) };
  }

  // ---- ProfileDirectory (T-Man) ---------------------------------------------------------------------

  /** T-Man ring key: derived from the node id (ring-key.ts). */
  keyOf(handle: PeerHandle): number {
    return this.entry(handle).ringKey;
  }

  /** T-Man group (slice); 0 until set or learned from a T-Man message. */
  groupOf(handle: PeerHandle): number {
    return this.entry(handle).group;
  }

  setGroup(handle: PeerHandle, group: number): void {
    if (!Number.isInteger(group) || group < -0x80000000 || group > 0x7fffffff) throw new RangeError(`group must be a 32-bit integer, got ${group}`);
    this.entry(handle).group = group;
  }

  // ---- liveness and references ------------------------------------------------------------------------

  /**
   * The peer did not answer (or misbehaved): forget it now if nothing references it, else as soon
   * as nothing does (it is evicted first). A newer descriptor from it revives it.
   */
  markDead(handle: PeerHandle): void {
    if (handle === LOCAL_HANDLE) return;
    const e = this.entry(handle);
    e.dead = true;
    this.batch++; // outside any translation: no batch protects anything
    this.scanReferences();
    if (this.evictable(e)) this.forget(e);
  }

  isDead(handle: PeerHandle): boolean {
    return this.entry(handle).dead;
  }

  /** Keeps a handle from being forgotten until unpinned (e.g. the peer of an exchange in flight). */
  pin(handle: PeerHandle): void {
    if (handle === LOCAL_HANDLE || handle === NO_PEER) return;
    this.entry(handle).pins++;
  }

  unpin(handle: PeerHandle): void {
    if (handle === LOCAL_HANDLE || handle === NO_PEER) return;
    const e = this.entries[handle];
    if (e === undefined || e.pins === 0) throw new RangeError(`handle ${handle} is not pinned`);
    e.pins--;
  }

  /** Pins several handles (those of a request in flight, see handlesIn) and returns the release. */
  retain(handles: Iterable<PeerHandle>): () => void {
    const held: PeerHandle[] = [];
    for (const h of handles) {
      if (h === LOCAL_HANDLE || h === NO_PEER) continue;
      this.pin(h);
      held.push(h);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const h of held) this.unpin(h);
    };
  }

  /** Registers a source of live references (a protocol's view of the local node); returns its removal. */
  addReferences(source: HandleReferences): () => void {
    this.sources.add(source);
    return () => {
      this.sources.delete(source);
    };
  }

  /** Forgets every unreferenced, unpinned peer that is dead or unused for idleMs; returns how many. */
  collect(): number {
    this.batch++;
    this.scanReferences();
    const now = this.clock.now();
    let n = 0;
    for (const e of this.entries) {
      if (e === undefined || !this.evictable(e)) continue;
      if (e.dead || now - e.lastUsed >= this.idleMs) {
        this.forget(e);
        n++;
      }
    }
    return n;
  }

  // ---- translation --------------------------------------------------------------------------------------

  /**
   * The wire form of a protocol message: handles become descriptors, or references to them with
   * `refs` (the receiver resolves them from its store or fetches them: see DescriptorStore).
   */
  toWire(message: ProtocolMessage, refs = false): WireMessage {
    this.sendRefs = refs;
    try {
      return protocolToWire(this.translator, message, this.tmanKeys);
    } finally {
      this.sendRefs = false;
    }
  }

  /** The digest of the descriptor held for a handle (what references and failure rumors name). */
  digestOf(handle: PeerHandle): Uint8Array {
    return this.store.digestOf(this.descriptorOf(handle));
  }

  /**
   * Checks a descriptor a peer sent in answer to a fetch and keeps it in the store (not as a peer:
   * a message referring to it interns it). Returns it verified; throws DescriptorError if it is
   * forged or invalid, including expired.
   */
  learn(d: WireDescriptor, field: string): NodeDescriptor {
    const known = this.byKey.get(keyString(d.publicKey));
    if (known !== undefined && sameBytes(known.descriptor.encoded, d.encoded)) {
      this.store.add(known.descriptor);
      return known.descriptor;
    }
    this.stats.verifications++;
    try {
      const verified = verifyDescriptor(d, this.clock.now(), this.policy, field);
      this.store.add(verified);
      return verified;
    } catch (err) {
      this.stats.rejected++;
      throw err;
    }
  }

  /**
   * The protocol form of a message received from `sender`: its handle, or the node id the transport
   * authenticated (it may be unknown so far, e.g. when its own descriptor is in this message; its
   * handle is then `handleOf(nodeId)` afterwards). Descriptors are verified and interned. Throws a
   * CodecError (DescriptorError for a forged or invalid descriptor) and changes nothing if the
   * message cannot be accepted as a whole.
   */
  fromWire(message: WireMessage, sender: PeerHandle | string): ProtocolMessage {
    const nodeId = typeof sender === 'string' ? sender : this.nodeIdOf(sender);
    return wireToProtocol(this.translator, message, nodeId, this.tmanKeys);
  }

  // ---- internals ------------------------------------------------------------------------------------------

  private localDescriptor(): NodeDescriptor {
    const own = this.entries[LOCAL_HANDLE]!;
    own.descriptor = this.local.current();
    return own.descriptor;
  }

  private descriptorForSending(handle: PeerHandle): WireDescriptorItem {
    let d: WireDescriptor;
    if (handle === LOCAL_HANDLE) d = this.localDescriptor();
    else {
      const e = this.entries[handle];
      if (e === undefined) throw new RangeError(`handle ${handle} is not in the peer directory (a protocol kept a handle that was never interned or was forgotten)`);
      e.lastUsed = this.clock.now();
      d = e.descriptor;
    }
    return this.sendRefs ? this.store.refFor(d) : d;
  }

  private entry(handle: PeerHandle): Entry {
    const e = Number.isInteger(handle) && handle >= 0 ? this.entries[handle] : undefined;
    if (e === undefined) throw new RangeError(`handle ${handle} is not in the peer directory`);
    return e;
  }

  /**
   * Checks a descriptor without changing the directory. The common case — the very bytes we already
   * hold for that key — costs a map lookup and a byte comparison instead of a signature verification.
   */
  private check(item: WireDescriptorItem | NodeDescriptor, field: string): CheckedDescriptor {
    let d: WireDescriptor | NodeDescriptor;
    if (typeof item === 'object' && item !== null && isDescriptorRef(item)) {
      const held = this.store.get(item.ref);
      if (held === undefined) {
        this.stats.missing++;
        return { kind: 'missing', ref: item.ref };
      }
      this.stats.resolved++;
      d = held;
    } else d = item;
    if (typeof d !== 'object' || d === null || !(d.publicKey instanceof Uint8Array) || !(d.encoded instanceof Uint8Array)) {
      this.stats.rejected++;
      throw new DescriptorError(field, 'fields', 'not a descriptor');
    }
    if (this.refused(this.store.digestOf(d))) {
      this.stats.refused++;
      return { kind: 'drop' };
    }
    const now = this.clock.now();
    const known = this.byKey.get(keyString(d.publicKey));
    const claimed = (d as { nodeId?: unknown }).nodeId;
    if (known !== undefined && (claimed === undefined || claimed === known.nodeId) && sameBytes(known.descriptor.encoded, d.encoded)) {
      if (known.descriptor.issuedAt < now - this.policy.maxAgeMs) return this.dropExpired();
      return { kind: 'ok', admit: () => this.touch(known) };
    }
    let verified: NodeDescriptor;
    try {
      this.stats.verifications++;
      verified = verifyDescriptor(d, now, this.policy, field);
    } catch (err) {
      if (err instanceof DescriptorError && err.reason === 'expired') return this.dropExpired();
      this.stats.rejected++;
      throw err;
    }
    return {
      kind: 'ok',
      admit: () => {
        this.store.add(verified);
        return this.admit(verified);
      },
    };
  }

  private dropExpired(): CheckedDescriptor {
    this.stats.expired++;
    return { kind: 'drop' };
  }

  private touch(e: Entry): PeerHandle {
    e.lastUsed = this.clock.now();
    e.batch = this.batch;
    return e.handle;
  }

  /** Interns a verified descriptor; NO_PEER if there is no room. */
  private admit(d: NodeDescriptor): PeerHandle {
    const known = this.byNodeId.get(d.nodeId);
    if (known !== undefined) {
      if (known.handle === LOCAL_HANDLE) {
        // Ours, from an earlier life of this node: make sure what we send next outranks it.
        if (d.sequence >= this.local.current().sequence) this.local.supersede(d.sequence);
        this.localDescriptor();
        return LOCAL_HANDLE;
      }
      if (d.sequence > known.descriptor.sequence) {
        known.descriptor = d;
        known.dead = false;
        this.stats.updated++;
      } else {
        this.stats.stale++;
      }
      return this.touch(known);
    }
    if (this.count >= this.capacity && !this.evict()) {
      this.stats.full++;
      return NO_PEER;
    }
    const handle = this.allocateHandle();
    const e: Entry = {
      handle,
      nodeId: d.nodeId,
      ringKey: ringKeyOf(d.nodeId),
      descriptor: d,
      group: 0,
      lastUsed: this.clock.now(),
      batch: this.batch,
      dead: false,
      pins: 0,
    };
    this.entries[handle] = e;
    this.byNodeId.set(d.nodeId, e);
    this.byKey.set(keyString(d.publicKey), e);
    this.count++;
    this.stats.admitted++;
    return handle;
  }

  private allocateHandle(): PeerHandle {
    if (this.nextFresh <= this.capacity) return this.nextFresh++;
    // count < capacity and every fresh handle is taken, so the queue is not empty.
    const h = this.freeQueue[this.freeHead];
    this.freeHead = (this.freeHead + 1) % this.capacity;
    this.freeCount--;
    return h;
  }

  /** Makes room by forgetting unreferenced peers, dead first, then least recently used. */
  private evict(): boolean {
    this.scanReferences();
    const candidates: Entry[] = [];
    for (const e of this.entries) if (e !== undefined && this.evictable(e)) candidates.push(e);
    if (candidates.length === 0) return false;
    candidates.sort((a, b) => (a.dead === b.dead ? a.lastUsed - b.lastUsed : a.dead ? -1 : 1));
    const target = this.capacity - Math.max(1, this.capacity >> 4);
    let i = 0;
    do this.forget(candidates[i++]);
    while (i < candidates.length && this.count > target);
    return true;
  }

  private evictable(e: Entry): boolean {
    return e.handle !== LOCAL_HANDLE && e.pins === 0 && e.batch !== this.batch && this.refMark[e.handle] !== this.refStamp;
  }

  private scanReferences(): void {
    this.refStamp++;
    if (this.refStamp === 0x7fffffff) {
      this.refMark.fill(0);
      this.refStamp = 1;
    }
    const mark = this.refMark;
    const stamp = this.refStamp;
    const capacity = this.capacity;
    for (const source of this.sources) {
      source((h) => {
        if (Number.isInteger(h) && h > 0 && h <= capacity) mark[h] = stamp;
      });
    }
  }

  private forget(e: Entry): void {
    this.entries[e.handle] = undefined;
    this.byNodeId.delete(e.nodeId);
    this.byKey.delete(keyString(e.descriptor.publicKey));
    this.count--;
    this.freeQueue[(this.freeHead + this.freeCount) % this.capacity] = e.handle;
    this.freeCount++;
    this.stats.forgotten++;
  }
}

function keyString(publicKey: Uint8Array): string {
  return Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('latin1');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}
