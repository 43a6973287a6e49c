/**
 * The gossip core of a daemon: the peer directory, the protocols, and the glue that runs their
 * exchanges over a Transport. Independent of TLS, HTTP and files, so tests can run it over a fake
 * transport and drive cycles by hand (`runCycle`).
 *
 * Outbound, each cycle, two *rounds* (envelope.ts), each on its own jittered timer: peer sampling
 * with one random peer, and aggregation plus ranking with another. A round is every protocol's
 * selectPeer (the first one's choice is the peer), initiate, one transport.request carrying all the
 * messages, then each protocol's complete — or fail on any TransportError or unusable reply.
 * Why two: averaging must not pick the same partner as the view exchange. After a Newscast exchange
 * two nodes hold nearly the same view, so if they had also just averaged, their next partners would
 * be drawn from the same set and the averages would mix slowly (measured: COUNT at ±6% instead of
 * ±0.8% after an epoch of 12 cycles at 40 nodes). Ranking only needs samples and rides along.
 * At most one round per group is in flight: a cycle that comes while the previous round still waits
 * is skipped (counted), so a slow peer cannot pile up requests. The handles in a request are pinned
 * in the directory until it ends.
 *
 * Inbound: decode the envelope (envelope.ts), resolve the sender's descriptor reference, decode the
 * message, run `handle`, encode the reply. Any problem rejects that one request (the caller sees
 * REMOTE_ERROR), is counted, and changes nothing.
 *
 * Descriptors travel by reference (DescriptorStore): a message that names descriptors we do not
 * hold is decoded again after fetching them from its sender (DESCRIPTORS, on the same connection).
 *
 * Dead peers: a peer that cannot be reached becomes a failure rumor (failure-rumors.ts) that rides
 * on every message until all views have dropped it; a live node rumored dead re-signs its descriptor.
 * A view left short by dropped peers refills at once with a few quick sampling rounds.
 *
 * Joining (`hello` with `wantView`): the contact answers with its whole view (full descriptors), so
 * the newcomer's view is full after one round trip; in a network smaller than a view (the contact's
 * view is everyone) the newcomer also greets every node of it, so all views hold it right away.
 *
 * Pace: peer sampling runs every cycle while anything changes and every other cycle once the view
 * has been full and quiet for a while (sampling-pace.ts): it is most of the traffic.
 */
import type { Clock } from '../../core/clock.js';
import { NO_PEER, type PeerHandle } from '../../core/handles.js';
import type { Random } from '../../core/random.js';
import { CodecError } from '../../network/codec/errors.js';
import { WireCodec } from '../../network/codec/codec.js';
import { decodeDescriptor, descriptorRef, detachDescriptor } from '../../network/codec/descriptor.js';
import { limitsForProtocols } from '../../network/codec/limits.js';
import { type PeerAddress, type RemotePeer, type Transport, TransportError } from '../../network/transport.js';
import type { ExchangeProtocol } from '../../protocols/exchange.js';
import type { Timers } from '../attributes-system.js';
import type { NodeIdentity } from '../identity.js';
import { LocalDescriptor } from '../local-descriptor.js';
import type { Logger } from '../logger.js';
import { LOCAL_HANDLE, PeerDirectory } from '../peer-directory.js';
import { PeerMessageCodec } from '../peer-message-codec.js';
import { type NodeDescriptor, identitySigner } from '../signed-descriptor.js';
import type { MessageKind } from '../../network/codec/messages.js';
import { MissingDescriptorsError, type ProtocolMessage, handlesIn } from '../wire-translation.js';
import { digestKey } from '../descriptor-store.js';
import { CycleTimer } from './cycle-timer.js';
import {
  type GossipProtocolName,
  type Hello,
  type HelloViewEntry,
  MAX_FETCH,
  MAX_HELLO_VIEW,
  MESSAGE_TYPES,
  ROUND_PROTOCOLS,
  type RoundPart,
  decodeFetchRequest,
  decodeParts,
  decodeFetchResponse,
  decodeHello,
  decodeRequest,
  decodeResponse,
  encodeFetchRequest,
  encodeFetchResponse,
  encodeHello,
  encodeParts,
  encodeRequest,
  encodeResponse,
} from './envelope.js';
import { FailureRumors, retransmissions } from './failure-rumors.js';
import { SamplingPace } from './sampling-pace.js';
import type { CloudSecret } from './cloud-secret.js';
import { type AggregatedInputs, type GossipProtocolSettings, type GossipProtocols, createGossipProtocols } from './gossip-protocols.js';

export interface GossipNodeOptions extends GossipProtocolSettings {
  readonly identity: NodeIdentity;
  readonly transport: Transport;
  /** The address signed into our descriptor. */
  readonly advertise: { readonly host: string; readonly port: number };
  readonly cyclePeriodMs: number;
  readonly cycleJitter: number;
  readonly inputs: () => AggregatedInputs;
  /** What nodes are ranked by for slicing (default: all equal). The daemon uses cores × CPU score. */
  readonly capacity?: () => number;
  /** The T-Man group (slice) this node is in now, 0 for none (default: always 0). */
  readonly ringGroup?: () => number;
  /** A private cloud's join secret: requests without its proof are refused (cloud-secret.ts). */
  readonly cloudSecret?: CloudSecret;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  readonly logger: Logger;
  /** Timeout of one round (default: two cycle periods, at least 2 s). */
  readonly requestTimeoutMs?: number;
}

export interface GossipStats {
  exchangesStarted: number;
  exchangesCompleted: number;
  exchangesFailed: number;
  /** Cycles skipped because the previous exchange of the protocol was still in flight. */
  cyclesSkipped: number;
  requestsHandled: number;
  /** Inbound requests refused: undecodable, forged, wrong sender, unknown type. */
  requestsRejected: number;
  /** Descriptors fetched from peers because a message referred to them. */
  descriptorsFetched: number;
  /** Fetches of descriptors that failed (the message was then rejected or the exchange failed). */
  fetchesFailed: number;
  /** Failure rumors this node started (a peer it could not reach). */
  rumorsStarted: number;
  /** Failure rumors heard from peers for the first time. */
  rumorsHeard: number;
  /** Times this node re-signed its descriptor because it was rumored dead. */
  refutations: number;
  /** Peer sampling cycles left out because the view was full and quiet (sampling-pace.ts). */
  samplingRested: number;
  /** Nodes greeted on joining a network smaller than a view (see `hello`). */
  introductions: number;
}

export interface ViewEntry {
  readonly nodeId: string;
  readonly address: { readonly host: string; readonly port: number };
  readonly age: number;
}

/** Why an inbound request was refused; its message reaches the caller as REMOTE_ERROR. */
export class GossipRequestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GossipRequestError';
  }
}

/** How long a rumored-dead descriptor stays refused (a live node re-signs within a few cycles). */
const RUMOR_TTL_MS = 60_000;

/**
 * Timeouts (or connections lost mid-request) in a row before we spread a rumor that a peer is
 * dead. One is not enough: a busy machine (a hundred daemons starting on two cores) misses a
 * deadline now and then. A refused connection is definite and counts at once.
 */
const STRIKES_BEFORE_RUMOR = 2;

/** The two rounds of a cycle (see the header). */
const ROUND_GROUPS: readonly (readonly GossipProtocolName[])[] = Object.freeze([['sampling'], ['aggregation', 'ranking'], ['tman']]);

/**
 * Extra peer sampling rounds, at a fifth of the cycle period, right after joining (the newcomer's
 * descriptor spreads, its view mixes) and when dropped peers left the view short (it refills).
 */
const BOOTSTRAP_ROUNDS = 4;

/** Requests in flight at most when greeting many nodes at once (slice members, introductions). */
const GREETING_CONCURRENCY = 8;

export class GossipNode {
  readonly directory: PeerDirectory;
  readonly protocols: GossipProtocols;
  readonly codec: PeerMessageCodec;
  readonly stats: GossipStats = {
    exchangesStarted: 0,
    exchangesCompleted: 0,
    exchangesFailed: 0,
    cyclesSkipped: 0,
    requestsHandled: 0,
    requestsRejected: 0,
    descriptorsFetched: 0,
    fetchesFailed: 0,
    rumorsStarted: 0,
    rumorsHeard: 0,
    refutations: 0,
    samplingRested: 0,
    introductions: 0,
  };
  readonly rumors = new FailureRumors({ ttlMs: RUMOR_TTL_MS });
  readonly pace = new SamplingPace();
  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly timers: CycleTimer[];
  private readonly services = new Map<number, (from: RemotePeer, payload: Uint8Array) => Promise<Uint8Array>>();
  /** Rounds in flight, by the first protocol of their group. */
  private readonly inFlight = new Set<GossipProtocolName>();
  private bootstrapLeft = 0;
  private cancelBootstrap: (() => void) | undefined;
  /** Failed rounds in a row per peer (node id) that do not prove it dead by themselves. */
  private readonly strikes = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  /** When the published aggregation epoch last changed, and the epoch's own start. */
  private lastPublishedEpoch = -1;
  publishedAt: number | null = null;
  private lastEpoch = -1;
  epochStartedAt: number | null = null;
  private stopped = false;

  constructor(private readonly options: GossipNodeOptions) {
    this.transport = options.transport;
    this.log = options.logger;
    this.clock = options.clock;
    this.requestTimeoutMs = options.requestTimeoutMs ?? Math.max(2_000, 2 * options.cyclePeriodMs);
    const local = new LocalDescriptor(identitySigner(options.identity), options.clock, { addresses: [options.advertise] });
    this.directory = new PeerDirectory(local, options.clock, {
      capacity: Math.max(256, 8 * options.peerSampling.viewSize),
      // Rumored-dead descriptors are refused everywhere: Newscast's healer only ages dead entries
      // out when a view is full, and while views have room (networks smaller than the view) other
      // nodes would gossip a dead entry straight back.
      refused: (digest) => this.rumors.covers(digest, this.clock.now()),
    });
    this.protocols = createGossipProtocols(options, options.inputs, options.random, this.directory, options.capacity);
    const views = this.protocols.sampling.views;
    this.directory.addReferences((visit) => {
      const n = views.size(LOCAL_HANDLE);
      for (let i = 0; i < n; i++) visit(views.peerAt(LOCAL_HANDLE, i));
    });
    const ring = this.protocols.tman.views;
    this.directory.addReferences((visit) => {
      for (const h of ring.peers(LOCAL_HANDLE)) visit(h);
    });
    const limits = limitsForProtocols({ sampling: this.protocols.sampling.config, aggregation: this.protocols.aggregation.config, tman: this.protocols.tman.config });
    this.codec = new PeerMessageCodec(new WireCodec(limits), this.directory);
    this.timers = ROUND_GROUPS.map((group) => new CycleTimer(options.cyclePeriodMs, options.cycleJitter, options.timers, options.random, () => this.startCycle(group)));
  }

  get nodeId(): string {
    return this.options.identity.nodeId;
  }

  /** Takes inbound requests and starts the cycle timers. */
  start(): void {
    this.transport.onRequest((from, type, payload) => this.onRequest(from, type, payload));
    for (const t of this.timers) t.start();
  }

  /** Stops the timers and waits for exchanges in flight (the transport's close ends them). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) t.stop();
    this.cancelBootstrap?.();
    await Promise.allSettled([...this.pending]);
  }

  /**
   * A cycle now: both rounds one after the other, or one round of the protocols named. Resolves
   * when it ended (tests drive cycles with it, e.g. `runCycle('sampling')`).
   */
  async runCycle(which?: GossipProtocolName | readonly GossipProtocolName[]): Promise<void> {
    if (which === undefined) {
      for (const group of ROUND_GROUPS) await this.runRound(group);
      return;
    }
    await this.runRound(typeof which === 'string' ? [which] : ROUND_PROTOCOLS.filter((p) => which.includes(p)));
  }

  private runRound(names: readonly GossipProtocolName[]): Promise<void> {
    const key = names[0];
    if (key === undefined) return Promise.resolve();
    // T-Man builds the ring of this node's slice: nothing to do (and nothing sent) outside one.
    if (key === 'tman') {
      const group = this.options.ringGroup?.() ?? this.directory.groupOf(LOCAL_HANDLE);
      if (group !== this.directory.groupOf(LOCAL_HANDLE)) this.directory.setGroup(LOCAL_HANDLE, group);
      if (group === 0) return Promise.resolve();
    }
    if (this.inFlight.has(key)) {
      this.stats.cyclesSkipped++;
      return Promise.resolve();
    }
    this.inFlight.add(key);
    const run = this.round(names)
      .catch((err: unknown) => this.log.error({ err, protocols: names }, 'gossip round crashed'))
      .finally(() => {
        this.inFlight.delete(key);
        this.pending.delete(run);
      });
    this.pending.add(run);
    return run;
  }

  private startCycle(group: readonly GossipProtocolName[]): void {
    if (this.stopped) return;
    if (group[0] === 'sampling' && !this.pace.due(this.viewFull())) {
      this.stats.samplingRested++;
      return;
    }
    void this.runRound(group);
  }

  /**
   * Whether the view holds all it can: c peers, or, in a network smaller than a view, nearly every
   * node (by the size estimate; 90%, so that an estimate a little above the truth still counts).
   */
  viewFull(): boolean {
    const n = this.viewSize();
    if (n >= this.protocols.sampling.config.viewSize) return true;
    const a = this.protocols.aggregation;
    const published = a.publishedCount(LOCAL_HANDLE);
    const size = Number.isFinite(published) ? published : a.knownSize(LOCAL_HANDLE);
    return Number.isFinite(size) && n >= Math.floor(0.9 * (size - 1));
  }

  /**
   * A few quick peer sampling rounds after a successful join, so that a newcomer becomes known
   * within about a second rather than in several cycles, or after peers were dropped, so that the
   * view refills. Only peer sampling: aggregation counts cycles and must keep the common rhythm.
   */
  private bootstrap(): void {
    this.pace.disturb();
    const idle = this.bootstrapLeft === 0;
    this.bootstrapLeft = BOOTSTRAP_ROUNDS;
    if (!idle || this.stopped) return;
    const next = (): void => {
      this.cancelBootstrap = this.options.timers.schedule(() => {
        this.cancelBootstrap = undefined;
        if (this.stopped || this.bootstrapLeft <= 0) return;
        this.bootstrapLeft--;
        if (this.viewFull()) {
          this.bootstrapLeft = 0;
          return;
        }
        void this.runCycle('sampling').finally(() => {
          if (this.bootstrapLeft > 0) next();
        });
      }, this.options.cyclePeriodMs / 5);
    };
    next();
  }

  // ---- view and contacts ---------------------------------------------------------------------------

  /** The peer sampling view. */
  view(): ViewEntry[] {
    const views = this.protocols.sampling.views;
    const out: ViewEntry[] = [];
    for (let i = 0; i < views.size(LOCAL_HANDLE); i++) {
      const h = views.peerAt(LOCAL_HANDLE, i);
      if (!this.directory.has(h)) continue;
      const d = this.directory.descriptorOf(h);
      out.push({ nodeId: d.nodeId, address: d.addresses[0], age: views.ageAt(LOCAL_HANDLE, i) });
    }
    return out;
  }

  /**
   * Routes inbound requests of `type` (not one of the gossip types) to a service built on the
   * gossip layer, e.g. slices. Its errors reach the caller as REMOTE_ERROR and count as rejected.
   */
  serve(type: number, handler: (from: RemotePeer, payload: Uint8Array) => Promise<Uint8Array>): void {
    if (Object.values(MESSAGE_TYPES).includes(type as never) || type < 1 || type > 0xffff) throw new RangeError(`request type ${type} is taken or out of range`);
    this.services.set(type, handler);
  }

  /**
   * Puts this node in ring `group` (a slice; 0: none) and seeds the ring with `members` (the member
   * list from the slice's owner): members we hold no descriptor of are greeted first (HELLO, their
   * node id pinned, GREETING_CONCURRENCY at a time). T-Man takes it from there and repairs the ring
   * as members come and go.
   */
  async joinRing(group: number, members: readonly PeerAddress[]): Promise<void> {
    if (this.directory.groupOf(LOCAL_HANDLE) !== group) {
      this.directory.setGroup(LOCAL_HANDLE, group);
      // T-Man would notice the new group only at its next step and empty its view then, throwing
      // the seed below away: start its view over now.
      this.protocols.tman.resetNode(LOCAL_HANDLE);
    }
    if (group === 0) return;
    // The owner's list is authoritative: members it dropped (dead, removed) leave our ring view at
    // once instead of fading out over maxAge cycles.
    const listed = new Set(members.map((m) => m.nodeId));
    const tman = this.protocols.tman;
    for (const h of tman.views.peers(LOCAL_HANDLE)) {
      if (!this.directory.has(h) || !listed.has(this.directory.nodeIdOf(h))) tman.remove(LOCAL_HANDLE, h);
    }
    const others = members.filter((m) => m.nodeId !== this.nodeId);
    const unknown = others.filter((m) => this.directory.handleOf(m.nodeId) === NO_PEER);
    // Unreachable members are left out: T-Man finds the others.
    await forEachLimited(unknown, GREETING_CONCURRENCY, (m) => this.hello(m).then(() => undefined, () => undefined));
    if (this.directory.groupOf(LOCAL_HANDLE) !== group) return; // left meanwhile
    const handles: PeerHandle[] = [];
    for (const m of others) {
      const h = this.directory.handleOf(m.nodeId);
      if (h === NO_PEER) continue;
      this.directory.setGroup(h, group);
      handles.push(h);
    }
    if (handles.length === 0) return;
    // T-Man keeps only the m best of a seed: give it our nearest members on the ring first,
    // successors and predecessors alternately, so the exact ring is there from the first cycle
    // (everyone gets the owner's list in the same order; its first m would be nobody's neighbours).
    const own = this.directory.keyOf(LOCAL_HANDLE);
    const RING = 2 ** 32;
    const after = (h: PeerHandle) => (this.directory.keyOf(h) - own + RING) % RING;
    const successors = [...handles].sort((a, b) => after(a) - after(b));
    const ordered: PeerHandle[] = [];
    for (let i = 0, j = successors.length - 1; i <= j; i++, j--) {
      ordered.push(successors[i]);
      if (j !== i) ordered.push(successors[j]);
    }
    this.protocols.tman.addDescriptors(LOCAL_HANDLE, ordered, ordered.map((h) => this.directory.keyOf(h)));
  }

  /** This node's ring neighbours in its slice (node ids), or nulls outside a slice. */
  ringNeighbours(): { predecessor: string | null; successor: string | null } {
    if (this.directory.groupOf(LOCAL_HANDLE) === 0) return { predecessor: null, successor: null };
    const t = this.protocols.tman;
    const id = (h: PeerHandle) => (h !== NO_PEER && this.directory.has(h) ? this.directory.nodeIdOf(h) : null);
    return { predecessor: id(t.predecessor(LOCAL_HANDLE)), successor: id(t.successor(LOCAL_HANDLE)) };
  }

  /**
   * Sends a request to a node as this daemon (with the cloud membership proof when the cloud is
   * private). Services built on the gossip node (slices) send through here too.
   */
  request(peer: PeerAddress, type: number, payload: Uint8Array, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    const secret = this.options.cloudSecret;
    const body = secret ? secret.seal(this.nodeId, peer.nodeId, payload) : payload;
    return this.transport.request(peer, type, body, { timeoutMs: options.timeoutMs ?? this.requestTimeoutMs });
  }

  /** Up to k random entries of the peer sampling view. */
  randomPeers(k: number): ViewEntry[] {
    const view = this.view();
    for (let i = view.length - 1; i > 0; i--) {
      const j = this.options.random.int(i + 1);
      [view[i], view[j]] = [view[j], view[i]];
    }
    return view.slice(0, k);
  }

  /** Whether `nodeId` is in the peer sampling view. */
  knows(nodeId: string): boolean {
    const h = this.directory.handleOf(nodeId);
    if (h === NO_PEER) return false;
    const views = this.protocols.sampling.views;
    for (let i = 0; i < views.size(LOCAL_HANDLE); i++) if (views.peerAt(LOCAL_HANDLE, i) === h) return true;
    return false;
  }

  viewSize(): number {
    return this.protocols.sampling.views.size(LOCAL_HANDLE);
  }

  /**
   * Contacts `peer` (whose id is pinned by the transport), exchanges descriptors and adds it to the
   * view. Rejects with a TransportError, or a CodecError if its answer is unusable.
   *
   * `wantView` (joining): the peer also sends its view, which fills ours at once. If that view was
   * not full, the network is smaller than a view and every node should hold us: we greet each one
   * (in the background, GREETING_CONCURRENCY at a time) instead of waiting for gossip to spread us.
   */
  async hello(peer: PeerAddress, options: { wantView?: boolean } = {}): Promise<string> {
    const wantView = options.wantView === true;
    let hello = await this.sendHello(peer, wantView);
    if (hello.rumored) {
      // It holds a rumor that we are dead (we were unreachable for a while): a descriptor with a
      // higher sequence is not covered by it.
      this.refute();
      hello = await this.sendHello(peer, wantView);
      if (hello.rumored) throw new CodecError('hello.flags', 'the peer still refuses our descriptor as rumored dead');
    }
    const descriptor = detachDescriptor(decodeDescriptor(hello.descriptor, this.codec.codec.limits, 'hello.descriptor'));
    const handle = this.directory.intern(descriptor);
    if (handle === NO_PEER) throw new CodecError('hello.descriptor', 'descriptor expired, rumored dead, or no room in the peer directory');
    const nodeId = this.directory.nodeIdOf(handle);
    if (nodeId !== peer.nodeId) throw new CodecError('hello.descriptor', `answer describes ${nodeId}, not ${peer.nodeId}`);
    if (handle !== LOCAL_HANDLE) this.protocols.sampling.addContacts(LOCAL_HANDLE, [handle]);
    if (hello.view !== null) {
      const taken = this.takeView(hello.view, nodeId);
      if (wantView && hello.view.length < this.protocols.sampling.config.viewSize) this.introduce(taken);
    }
    this.bootstrap();
    return nodeId;
  }

  private async sendHello(peer: PeerAddress, wantView: boolean): Promise<Hello> {
    const own = this.directory.descriptorOf(LOCAL_HANDLE);
    const answer = await this.request(peer, MESSAGE_TYPES.hello, encodeHello(own.encoded, { wantView }), { timeoutMs: this.requestTimeoutMs });
    return decodeHello(answer, this.codec.codec.limits.maxDescriptorBytes);
  }

  /**
   * Adds a view sent by `from` in a HELLO to ours (as far as there is room), with its ages. Verified
   * like a gossip message: one forged descriptor and none is taken; expired or rumored-dead ones are
   * left out. Returns the addresses of the nodes it named (ours excluded), whether or not there was
   * room for them.
   */
  private takeView(entries: readonly HelloViewEntry[], from: string): PeerAddress[] {
    const limits = this.codec.codec.limits;
    let message: ProtocolMessage;
    try {
      const descriptors = entries.map((e, i) => decodeDescriptor(e.descriptor, limits, `hello.view[${i}]`));
      message = this.directory.fromWire({ protocol: 'sampling', kind: 'response', body: { descriptors, ages: entries.map((e) => e.age) } }, from);
    } catch (err) {
      this.log.warn({ peer: from, error: err instanceof Error ? err.message : String(err) }, 'view sent with a HELLO refused');
      return [];
    }
    if (message.protocol !== 'sampling') return [];
    const views = this.protocols.sampling.views;
    const taken: PeerAddress[] = [];
    message.body.ids.forEach((h, i) => {
      if (h === LOCAL_HANDLE) return;
      views.add(LOCAL_HANDLE, h, message.body.ages[i]);
      const d = this.directory.descriptorOf(h);
      taken.push({ nodeId: d.nodeId, ...d.addresses[0] });
    });
    return taken;
  }

  /** Greets `peers` (a joining node in a small network): each adds us to its view if it has room. */
  private introduce(peers: readonly PeerAddress[]): void {
    if (peers.length === 0 || this.stopped) return;
    const run = forEachLimited(peers, GREETING_CONCURRENCY, async (p) => {
      if (this.stopped) return;
      try {
        await this.sendHello(p, false);
        this.stats.introductions++;
      } catch (err) {
        this.log.debug({ peer: p.nodeId, error: err instanceof Error ? err.message : String(err) }, 'introduction failed');
      }
    }).finally(() => this.pending.delete(run));
    this.pending.add(run);
  }

  /** Re-signs our descriptor with a higher sequence: the one rumored dead is superseded. */
  private refute(): void {
    const current = this.directory.local.current();
    this.directory.local.supersede(current.sequence);
    this.directory.descriptorOf(LOCAL_HANDLE);
    this.stats.refutations++;
    this.pace.disturb();
    this.log.info({ sequence: this.directory.local.current().sequence }, 'rumored dead: re-signed our descriptor');
  }

  // ---- outbound ----------------------------------------------------------------------------------

  private protocol(name: GossipProtocolName): ExchangeProtocol<unknown, unknown> {
    const p = this.protocols;
    return (name === 'sampling' ? p.sampling : name === 'aggregation' ? p.aggregation : name === 'ranking' ? p.ranking : p.tman) as ExchangeProtocol<unknown, unknown>;
  }

  private async round(names: readonly GossipProtocolName[]): Promise<void> {
    // Every protocol's selectPeer runs each cycle (aggregation counts its steps there); the first
    // named (peer sampling in a full round) chooses the peer for all.
    let peer: PeerHandle = NO_PEER;
    names.forEach((name, i) => {
      const chosen = this.protocol(name).selectPeer(LOCAL_HANDLE);
      if (i === 0) peer = chosen;
    });
    const aggregating = names.includes('aggregation');
    if (aggregating) this.noteEpochs();
    if (peer === NO_PEER || peer === LOCAL_HANDLE || !this.directory.has(peer)) return;
    const requests = new Map<GossipProtocolName, unknown>();
    const parts: RoundPart[] = [];
    const held: PeerHandle[] = [peer];
    for (const name of names) {
      const req = this.protocol(name).initiate(LOCAL_HANDLE, peer);
      const message = { protocol: name, kind: 'request', body: req } as ProtocolMessage;
      requests.set(name, req);
      held.push(...handlesIn(message));
      parts.push({ protocol: name, body: this.codec.encodeBody(message, true) });
    }
    const release = this.directory.retain(held);
    this.stats.exchangesStarted++;
    try {
      const target = this.directory.descriptorOf(peer);
      const address: PeerAddress = { nodeId: target.nodeId, ...target.addresses[0] };
      const payload = encodeRequest(this.directory.digestOf(LOCAL_HANDLE), this.rumors.takeForMessage(this.clock.now()), encodeParts(parts));
      let bytes: Uint8Array;
      try {
        bytes = await this.request(address, MESSAGE_TYPES.round, payload, { timeoutMs: this.requestTimeoutMs });
      } catch (err) {
        this.failRound(requests, peer, err);
        return;
      }
      let replies: Map<GossipProtocolName, ProtocolMessage>;
      try {
        const envelope = decodeResponse(bytes);
        this.hearRumors(envelope.rumors);
        replies = await this.decodeRound(decodeParts(envelope.body, 'round.response'), 'response', peer, address);
        for (const name of names) if (!replies.has(name)) throw new CodecError('round.response.parts', `no ${name} reply`);
      } catch (err) {
        this.failRound(requests, peer, err);
        return;
      }
      if (!this.directory.has(peer)) return; // forgotten while we fetched: nothing to complete with
      this.strikes.delete(address.nodeId);
      for (const [name, req] of requests) this.protocol(name).complete(LOCAL_HANDLE, peer, req, replies.get(name)!.body);
      this.stats.exchangesCompleted++;
      if (requests.has('sampling')) this.dropRumored();
    } finally {
      release();
      if (aggregating) this.noteEpochs();
    }
  }

  private failRound(requests: ReadonlyMap<GossipProtocolName, unknown>, peer: PeerHandle, err: unknown): void {
    this.stats.exchangesFailed++;
    this.pace.disturb();
    for (const [name, req] of requests) this.protocol(name).fail(LOCAL_HANDLE, peer, req);
    const code = err instanceof TransportError ? err.code : err instanceof CodecError ? 'CODEC' : 'ERROR';
    const known = this.directory.has(peer) && peer !== LOCAL_HANDLE;
    this.log.debug({ peer: known ? this.directory.nodeIdOf(peer) : peer, code, error: err instanceof Error ? err.message : String(err) }, 'round failed');
    if (!known || !(err instanceof TransportError)) return;
    // A refused connection or another key at the address is definite; a timeout or a connection
    // lost mid-request is a strike. A peer that answered with an error is alive.
    const nodeId = this.directory.nodeIdOf(peer);
    let dead: boolean;
    switch (err.code) {
      case 'UNREACHABLE':
      case 'PEER_KEY_MISMATCH':
      case 'HANDSHAKE_FAILED':
        dead = true;
        break;
      case 'TIMEOUT':
      case 'CONNECTION_LOST': {
        if (this.strikes.size > 4096) this.strikes.clear();
        const strikes = (this.strikes.get(nodeId) ?? 0) + 1;
        this.strikes.set(nodeId, strikes);
        dead = strikes >= STRIKES_BEFORE_RUMOR;
        break;
      }
      default:
        dead = false;
    }
    if (!dead) return;
    // Tell the others (a rumor on our next messages), drop it from our view, and let the directory
    // forget it as soon as nothing holds it.
    this.strikes.delete(nodeId);
    if (this.rumors.add(this.directory.digestOf(peer), this.clock.now(), this.transmits())) this.stats.rumorsStarted++;
    this.dropRumored();
    this.directory.markDead(peer);
  }

  /** How many messages carry a new rumor from us: SWIM's λ·log n for our size estimate. */
  private transmits(): number {
    const estimate = this.protocols.aggregation.publishedCount(LOCAL_HANDLE);
    return retransmissions(Number.isFinite(estimate) ? Math.max(estimate, this.viewSize() + 1) : this.viewSize() + 1);
  }

  /** Takes in rumors from a message: ours are refuted by re-signing, others drop views' entries. */
  private hearRumors(rumors: readonly Uint8Array[]): void {
    if (rumors.length === 0) return;
    const now = this.clock.now();
    const own = digestKey(this.directory.digestOf(LOCAL_HANDLE));
    let fresh = false;
    for (const r of rumors) {
      if (digestKey(r) === own) {
        this.refute();
        continue;
      }
      if (this.rumors.add(r, now, this.transmits())) {
        this.stats.rumorsHeard++;
        fresh = true;
      }
    }
    if (fresh) {
      this.pace.disturb();
      this.dropRumored();
    }
  }

  /** Removes rumored-dead peers from the peer sampling view; a view left short refills (bootstrap). */
  private dropRumored(): void {
    if (this.rumors.size === 0) return;
    const now = this.clock.now();
    const views = this.protocols.sampling.views;
    let dropped = 0;
    for (let i = views.size(LOCAL_HANDLE) - 1; i >= 0; i--) {
      const h = views.peerAt(LOCAL_HANDLE, i);
      if (this.directory.has(h) && this.rumors.covers(this.directory.digestOf(h), now)) {
        views.removeAt(LOCAL_HANDLE, i);
        dropped++;
      }
    }
    if (dropped > 0) {
      this.pace.disturb();
      if (!this.viewFull() && !this.stopped) this.bootstrap();
    }
    // The slice ring too: one member that found a neighbour dead tells the whole slice through the
    // rumor, instead of each member having to fail an exchange with it (or wait maxAge cycles).
    const tman = this.protocols.tman;
    for (const h of tman.views.peers(LOCAL_HANDLE)) {
      if (this.directory.has(h) && this.rumors.covers(this.directory.digestOf(h), now)) tman.remove(LOCAL_HANDLE, h);
    }
  }

  /**
   * Decodes the parts of a round from `sender`; if they refer to descriptors we do not hold (or
   * `alsoMissing` names some), fetches them from `from` (the node that referred to them holds them)
   * and decodes again. Each part must be the named protocol's message of `kind`.
   */
  private async decodeRound(
    parts: readonly RoundPart[],
    kind: MessageKind,
    sender: PeerHandle | string,
    from: PeerAddress,
    alsoMissing: readonly Uint8Array[] = [],
  ): Promise<Map<GossipProtocolName, ProtocolMessage>> {
    const attempt = (): { messages: Map<GossipProtocolName, ProtocolMessage>; missing: Uint8Array[] } => {
      const messages = new Map<GossipProtocolName, ProtocolMessage>();
      const missing: Uint8Array[] = [];
      for (const part of parts) {
        try {
          messages.set(part.protocol, this.codec.decodeBody(part.protocol, kind, part.body, sender));
        } catch (err) {
          if (!(err instanceof MissingDescriptorsError)) throw err;
          missing.push(...err.refs);
        }
      }
      return { messages, missing };
    };
    const first = attempt();
    const missing = [...alsoMissing, ...first.missing];
    if (missing.length === 0) return first.messages;
    await this.fetchDescriptors(from, missing);
    const second = attempt();
    if (second.missing.length > 0) throw new MissingDescriptorsError(`round.${kind}`, second.missing);
    return second.messages;
  }

  /** Asks `from` for the descriptors with these digests, verifies them and keeps them in the store. */
  private async fetchDescriptors(from: PeerAddress, refs: readonly Uint8Array[]): Promise<void> {
    const wanted = new Map<string, Uint8Array>();
    for (const r of refs) if (wanted.size < MAX_FETCH) wanted.set(digestKey(r), r);
    let answer: Uint8Array;
    try {
      answer = await this.request(from, MESSAGE_TYPES.descriptors, encodeFetchRequest([...wanted.values()]), { timeoutMs: this.requestTimeoutMs });
    } catch (err) {
      this.stats.fetchesFailed++;
      throw err;
    }
    const limits = this.codec.codec.limits;
    const items = decodeFetchResponse(answer, limits.maxDescriptorBytes);
    items.forEach((encoded, i) => {
      const field = `descriptors.response[${i}]`;
      const d = decodeDescriptor(encoded, limits, field);
      const digest = this.directory.store.digestOf(d);
      if (!wanted.has(digestKey(digest))) throw new CodecError(field, 'is not one of the descriptors asked for');
      this.directory.learn(d, field);
      this.stats.descriptorsFetched++;
    });
  }

  private noteEpochs(): void {
    const a = this.protocols.aggregation;
    const published = a.publishedEpochOf(LOCAL_HANDLE);
    if (published !== this.lastPublishedEpoch) {
      this.lastPublishedEpoch = published;
      this.publishedAt = this.clock.now();
    }
    const epoch = a.epochOf(LOCAL_HANDLE);
    if (epoch !== this.lastEpoch) {
      this.lastEpoch = epoch;
      this.epochStartedAt = this.clock.now();
    }
  }

  // ---- inbound -----------------------------------------------------------------------------------

  private async onRequest(from: RemotePeer, type: number, payload: Uint8Array): Promise<Uint8Array> {
    try {
      const answer = await this.answer(from, type, payload);
      this.stats.requestsHandled++;
      return answer;
    } catch (err) {
      this.stats.requestsRejected++;
      this.log.debug({ peer: from.nodeId, type, error: err instanceof Error ? err.message : String(err) }, 'request rejected');
      throw err instanceof GossipRequestError ? err : new GossipRequestError(err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  private async answer(from: RemotePeer, type: number, sealed: Uint8Array): Promise<Uint8Array> {
    if (from.nodeId === this.nodeId) throw new GossipRequestError('a node does not gossip with itself');
    // A private cloud answers its members only; nothing else is even decoded.
    const payload = this.options.cloudSecret ? this.options.cloudSecret.open(from.nodeId, this.nodeId, sealed) : sealed;
    if (type === MESSAGE_TYPES.hello) return this.answerHello(from, payload);
    if (type === MESSAGE_TYPES.descriptors) return this.answerFetch(payload);
    const service = this.services.get(type);
    if (service !== undefined) return service(from, payload);
    if (type !== MESSAGE_TYPES.round) throw new GossipRequestError(`unknown request type ${type}`);
    const envelope = decodeRequest(payload);
    this.hearRumors(envelope.rumors);
    this.strikes.delete(from.nodeId); // it reached us: alive
    if (this.rumors.covers(envelope.senderRef, this.clock.now())) {
      // The sender is alive but does not know it is rumored dead: tell it (it re-signs its
      // descriptor on hearing this) instead of running a round with a descriptor we refuse.
      return encodeResponse([envelope.senderRef], encodeParts([]));
    }
    const parts = decodeParts(envelope.body, 'round.request');
    if (parts.length === 0) throw new GossipRequestError('a round needs at least one protocol message');
    // The sender may be reached back over the connection its request came on.
    const back: PeerAddress = { nodeId: from.nodeId, host: from.remoteAddress.host, port: from.remoteAddress.port };
    const senderKnown = this.directory.store.get(envelope.senderRef) !== undefined;
    const messages = await this.decodeRound(parts, 'request', from.nodeId, back, senderKnown ? [] : [envelope.senderRef]);
    const sender = this.directory.internItem(descriptorRef(envelope.senderRef));
    if (sender === NO_PEER) throw new GossipRequestError('sender descriptor not obtained (fetch failed or it re-signed meanwhile), expired, or no room for it');
    if (this.directory.nodeIdOf(sender) !== from.nodeId) throw new GossipRequestError(`the sender reference names ${this.directory.nodeIdOf(sender)}, not the authenticated ${from.nodeId}`);
    this.directory.pin(sender);
    const release = this.directory.retain([...messages.values()].flatMap(handlesIn));
    try {
      const replies: RoundPart[] = [];
      for (const [name, message] of messages) {
        const reply = this.protocol(name).handle(LOCAL_HANDLE, sender, message.body);
        if (reply === null) throw new GossipRequestError(`${name} has no reply`);
        replies.push({ protocol: name, body: this.codec.encodeBody({ protocol: name, kind: 'response', body: reply } as ProtocolMessage, true) });
      }
      if (messages.has('sampling')) this.dropRumored();
      if (messages.has('aggregation')) this.noteEpochs();
      return encodeResponse(this.rumors.takeForMessage(this.clock.now()), encodeParts(replies));
    } finally {
      release();
      this.directory.unpin(sender);
    }
  }

  private answerHello(from: RemotePeer, payload: Uint8Array): Uint8Array {
    const limits = this.codec.codec.limits;
    const hello = decodeHello(payload, limits.maxDescriptorBytes);
    const descriptor = decodeDescriptor(hello.descriptor, limits, 'hello.descriptor');
    if (this.rumors.covers(this.directory.store.digestOf(descriptor), this.clock.now())) {
      return encodeHello(this.directory.descriptorOf(LOCAL_HANDLE).encoded, { rumored: true });
    }
    const sender = this.directory.intern({ ...detachDescriptor(descriptor), nodeId: from.nodeId } as NodeDescriptor);
    if (sender === NO_PEER) throw new GossipRequestError('sender descriptor expired, rumored dead, or no room for it');
    // A newcomer: it becomes a contact, so the overlay learns of it quickly.
    const isNew = this.viewSize() < this.protocols.sampling.config.viewSize && this.protocols.sampling.views.indexOf(LOCAL_HANDLE, sender) < 0;
    if (isNew) {
      this.protocols.sampling.addContacts(LOCAL_HANDLE, [sender]);
      this.pace.disturb();
    }
    // A joining node gets our view (without itself).
    const view = hello.wantView ? this.viewForHello(sender) : undefined;
    return encodeHello(this.directory.descriptorOf(LOCAL_HANDLE).encoded, { view });
  }

  /** Our view as full descriptors with their ages, for a joining node (`except` left out). */
  private viewForHello(except: PeerHandle): HelloViewEntry[] {
    const views = this.protocols.sampling.views;
    const out: HelloViewEntry[] = [];
    for (let i = 0; i < views.size(LOCAL_HANDLE) && out.length < MAX_HELLO_VIEW; i++) {
      const h = views.peerAt(LOCAL_HANDLE, i);
      if (h === except || !this.directory.has(h)) continue;
      out.push({ descriptor: this.directory.descriptorOf(h).encoded, age: views.ageAt(LOCAL_HANDLE, i) });
    }
    return out;
  }

  /** Answers a DESCRIPTORS request with the ones we hold (those we do not are left out). */
  private answerFetch(payload: Uint8Array): Uint8Array {
    const refs = decodeFetchRequest(payload);
    const own = this.directory.descriptorOf(LOCAL_HANDLE);
    const ownKey = digestKey(this.directory.store.digestOf(own));
    const out: Uint8Array[] = [];
    for (const r of refs) {
      // Our own descriptor is always served, even if a flood of others pushed it out of the store.
      const d = digestKey(r) === ownKey ? own : this.directory.store.get(r);
      if (d !== undefined) out.push(d.encoded);
    }
    return encodeFetchResponse(out);
  }
}

/** Runs `fn` on every item, at most `limit` at a time; resolves when all have settled. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]).catch(() => undefined);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
