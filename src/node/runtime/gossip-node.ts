/**
 * The gossip core of a daemon: the peer directory, the protocols, and the glue that runs their
 * exchanges over a Transport. Independent of TLS, HTTP and files, so tests can run it over a fake
 * transport and drive cycles by hand (`runCycle`).
 *
 * Outbound, per protocol and cycle: selectPeer → initiate → transport.request → complete, or fail
 * on any TransportError or an unusable reply. At most one exchange per protocol is in flight: a
 * cycle that comes while the previous exchange still waits is skipped (counted), so a slow peer
 * cannot pile up requests. The handles in a request are pinned in the directory until it ends.
 *
 * Inbound: decode the envelope (envelope.ts), check that the carried descriptor is the
 * authenticated sender's, intern it, decode the message, run `handle`, encode the reply. Any
 * problem rejects that one request (the caller sees REMOTE_ERROR), is counted, and changes nothing.
 */
import type { Clock } from '../../core/clock.js';
import { NO_PEER, type PeerHandle } from '../../core/handles.js';
import type { Random } from '../../core/random.js';
import { CodecError } from '../../network/codec/errors.js';
import { WireCodec } from '../../network/codec/codec.js';
import { decodeDescriptor, detachDescriptor } from '../../network/codec/descriptor.js';
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
import { type ProtocolMessage, handlesIn } from '../wire-translation.js';
import { CycleTimer } from './cycle-timer.js';
import { type GossipProtocolName, MESSAGE_TYPES, decodeEnvelope, encodeEnvelope } from './envelope.js';
import { type AggregatedInputs, type GossipProtocolSettings, type GossipProtocols, createGossipProtocols } from './gossip-protocols.js';

export interface GossipNodeOptions extends GossipProtocolSettings {
  readonly identity: NodeIdentity;
  readonly transport: Transport;
  /** The address signed into our descriptor. */
  readonly advertise: { readonly host: string; readonly port: number };
  readonly cyclePeriodMs: number;
  readonly cycleJitter: number;
  readonly inputs: () => AggregatedInputs;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  readonly logger: Logger;
  /** Timeout of one exchange (default: the cycle period, at least 1 s). */
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

/** How long a peer that could not be reached stays out of the view unless it contacts us first. */
const SUSPECT_MS = 60_000;

const PROTOCOL_BY_TYPE = new Map<number, GossipProtocolName>([
  [MESSAGE_TYPES.sampling, 'sampling'],
  [MESSAGE_TYPES.aggregation, 'aggregation'],
]);

export class GossipNode {
  readonly directory: PeerDirectory;
  readonly protocols: GossipProtocols;
  readonly codec: PeerMessageCodec;
  readonly stats: GossipStats = { exchangesStarted: 0, exchangesCompleted: 0, exchangesFailed: 0, cyclesSkipped: 0, requestsHandled: 0, requestsRejected: 0 };
  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly timers: CycleTimer[] = [];
  private readonly inFlight = new Set<GossipProtocolName>();
  private readonly pending = new Set<Promise<void>>();
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  /** When the published aggregation epoch last changed, and the epoch's own start. */
  private lastPublishedEpoch = -1;
  publishedAt: number | null = null;
  private lastEpoch = -1;
  epochStartedAt: number | null = null;
  private stopped = false;
  /**
   * Peers whose exchange failed because they were unreachable, by node id, with the time of the
   * failure. They are kept out of the peer sampling view for SUSPECT_MS (or until they contact us):
   * Newscast's healer only ages out dead entries when a view is full, and while views have room
   * (networks smaller than the view size) other nodes would gossip the dead entry straight back.
   */
  private readonly suspects = new Map<string, number>();

  constructor(private readonly options: GossipNodeOptions) {
    this.transport = options.transport;
    this.log = options.logger;
    this.clock = options.clock;
    this.requestTimeoutMs = options.requestTimeoutMs ?? Math.max(1_000, options.cyclePeriodMs);
    const local = new LocalDescriptor(identitySigner(options.identity), options.clock, { addresses: [options.advertise] });
    this.directory = new PeerDirectory(local, options.clock, { capacity: Math.max(256, 8 * options.peerSampling.viewSize) });
    this.protocols = createGossipProtocols(options, options.inputs, options.random);
    const views = this.protocols.sampling.views;
    this.directory.addReferences((visit) => {
      const n = views.size(LOCAL_HANDLE);
      for (let i = 0; i < n; i++) visit(views.peerAt(LOCAL_HANDLE, i));
    });
    const limits = limitsForProtocols({ sampling: this.protocols.sampling.config, aggregation: this.protocols.aggregation.config });
    this.codec = new PeerMessageCodec(new WireCodec(limits), this.directory);
    for (const name of ['sampling', 'aggregation'] as const) {
      this.timers.push(new CycleTimer(options.cyclePeriodMs, options.cycleJitter, options.timers, options.random, () => this.startCycle(name)));
    }
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
    await Promise.allSettled([...this.pending]);
  }

  /** One cycle of `protocol` now; resolves when its exchange ended (tests drive cycles with it). */
  runCycle(protocol: GossipProtocolName): Promise<void> {
    if (this.inFlight.has(protocol)) {
      this.stats.cyclesSkipped++;
      return Promise.resolve();
    }
    this.inFlight.add(protocol);
    const run = this.exchange(protocol)
      .catch((err: unknown) => this.log.error({ err, protocol }, 'gossip exchange crashed'))
      .finally(() => {
        this.inFlight.delete(protocol);
        this.pending.delete(run);
      });
    this.pending.add(run);
    return run;
  }

  private startCycle(protocol: GossipProtocolName): void {
    if (!this.stopped) void this.runCycle(protocol);
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

  viewSize(): number {
    return this.protocols.sampling.views.size(LOCAL_HANDLE);
  }

  /**
   * Contacts `peer` (whose id is pinned by the transport), exchanges descriptors and adds it to the
   * view. Rejects with a TransportError, or a CodecError if its answer is unusable.
   */
  async hello(peer: PeerAddress): Promise<string> {
    const own = this.directory.descriptorOf(LOCAL_HANDLE);
    const answer = await this.transport.request(peer, MESSAGE_TYPES.hello, encodeEnvelope(own.encoded, new Uint8Array(0)), { timeoutMs: this.requestTimeoutMs });
    const descriptor = detachDescriptor(decodeDescriptor(answer, this.codec.codec.limits, 'hello.descriptor'));
    const handle = this.directory.intern(descriptor);
    if (handle === NO_PEER) throw new CodecError('hello.descriptor', 'descriptor expired or no room in the peer directory');
    const nodeId = this.directory.nodeIdOf(handle);
    if (nodeId !== peer.nodeId) throw new CodecError('hello.descriptor', `answer describes ${nodeId}, not ${peer.nodeId}`);
    this.suspects.delete(nodeId); // it answered: alive again
    if (handle !== LOCAL_HANDLE) this.protocols.sampling.addContacts(LOCAL_HANDLE, [handle]);
    return nodeId;
  }

  // ---- outbound ----------------------------------------------------------------------------------

  private protocol(name: GossipProtocolName): ExchangeProtocol<unknown, unknown> {
    return (name === 'sampling' ? this.protocols.sampling : this.protocols.aggregation) as ExchangeProtocol<unknown, unknown>;
  }

  private async exchange(name: GossipProtocolName): Promise<void> {
    const protocol = this.protocol(name);
    const peer = protocol.selectPeer(LOCAL_HANDLE);
    if (name === 'aggregation') this.noteEpochs();
    if (peer === NO_PEER || peer === LOCAL_HANDLE || !this.directory.has(peer)) return;
    const req = protocol.initiate(LOCAL_HANDLE, peer);
    const message = { protocol: name, kind: 'request', body: req } as ProtocolMessage;
    const release = this.directory.retain([peer, ...handlesIn(message)]);
    this.stats.exchangesStarted++;
    try {
      const target = this.directory.descriptorOf(peer);
      const payload = encodeEnvelope(this.directory.descriptorOf(LOCAL_HANDLE).encoded, this.codec.encode(message));
      let bytes: Uint8Array;
      try {
        bytes = await this.transport.request({ nodeId: target.nodeId, ...target.addresses[0] }, MESSAGE_TYPES[name], payload, { timeoutMs: this.requestTimeoutMs });
      } catch (err) {
        this.failExchange(protocol, peer, req, err);
        return;
      }
      let reply: ProtocolMessage;
      try {
        reply = this.codec.decode(bytes, peer);
      } catch (err) {
        this.failExchange(protocol, peer, req, err);
        return;
      }
      if (reply.protocol !== name || reply.kind !== 'response') {
        this.failExchange(protocol, peer, req, new CodecError('envelope', `expected a ${name} response, got a ${reply.protocol} ${reply.kind}`));
        return;
      }
      protocol.complete(LOCAL_HANDLE, peer, req, reply.body);
      this.stats.exchangesCompleted++;
      if (name === 'sampling') this.dropSuspects();
    } finally {
      release();
      if (name === 'aggregation') this.noteEpochs();
    }
  }

  private failExchange(protocol: ExchangeProtocol<unknown, unknown>, peer: PeerHandle, req: unknown, err: unknown): void {
    this.stats.exchangesFailed++;
    protocol.fail(LOCAL_HANDLE, peer, req);
    const code = err instanceof TransportError ? err.code : err instanceof CodecError ? 'CODEC' : 'ERROR';
    this.log.debug({ protocol: protocol.name, peer: this.directory.has(peer) ? this.directory.nodeIdOf(peer) : peer, code, error: err instanceof Error ? err.message : String(err) }, 'exchange failed');
    // A peer we could not reach or that proved another key is probably gone: let the directory
    // forget it as soon as no view holds it.
    if (err instanceof TransportError && err.code !== 'CLOSED' && err.code !== 'ABORTED' && err.code !== 'BUSY' && this.directory.has(peer)) {
      this.suspects.set(this.directory.nodeIdOf(peer), this.clock.now());
      this.dropSuspects();
      this.directory.markDead(peer);
    }
  }

  /** Removes suspected-dead peers from the peer sampling view; forgets suspicions older than SUSPECT_MS. */
  private dropSuspects(): void {
    if (this.suspects.size === 0) return;
    const now = this.clock.now();
    for (const [id, since] of this.suspects) if (now - since > SUSPECT_MS) this.suspects.delete(id);
    const views = this.protocols.sampling.views;
    for (let i = views.size(LOCAL_HANDLE) - 1; i >= 0; i--) {
      const h = views.peerAt(LOCAL_HANDLE, i);
      if (this.directory.has(h) && this.suspects.has(this.directory.nodeIdOf(h))) views.removeAt(LOCAL_HANDLE, i);
    }
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

  private onRequest(from: RemotePeer, type: number, payload: Uint8Array): Uint8Array {
    try {
      const answer = this.answer(from, type, payload);
      this.stats.requestsHandled++;
      return answer;
    } catch (err) {
      this.stats.requestsRejected++;
      this.log.debug({ peer: from.nodeId, type, error: err instanceof Error ? err.message : String(err) }, 'request rejected');
      throw err instanceof GossipRequestError ? err : new GossipRequestError(err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  private answer(from: RemotePeer, type: number, payload: Uint8Array): Uint8Array {
    if (from.nodeId === this.nodeId) throw new GossipRequestError('a node does not gossip with itself');
    const name = PROTOCOL_BY_TYPE.get(type);
    if (name === undefined && type !== MESSAGE_TYPES.hello) throw new GossipRequestError(`unknown request type ${type}`);
    const envelope = decodeEnvelope(payload);
    const descriptor = decodeDescriptor(envelope.descriptor, this.codec.codec.limits, 'envelope.descriptor');
    const sender = this.directory.intern({ ...descriptor, nodeId: from.nodeId } as NodeDescriptor);
    if (sender === NO_PEER) throw new GossipRequestError('sender descriptor expired or no room for it');
    // An authenticated request proves the sender alive again (e.g. restarted with its data dir).
    this.suspects.delete(from.nodeId);
    if (type === MESSAGE_TYPES.hello) {
      // A newcomer: it becomes a contact, so the overlay learns of it quickly.
      if (this.viewSize() < this.protocols.sampling.config.viewSize) this.protocols.sampling.addContacts(LOCAL_HANDLE, [sender]);
      return this.directory.descriptorOf(LOCAL_HANDLE).encoded;
    }
    this.directory.pin(sender);
    try {
      const message = this.codec.decode(envelope.body, sender);
      if (message.protocol !== name || message.kind !== 'request') throw new GossipRequestError(`request type ${type} carries a ${message.protocol} ${message.kind}`);
      const protocol = this.protocol(name);
      const reply = protocol.handle(LOCAL_HANDLE, sender, message.body);
      if (name === 'sampling') this.dropSuspects();
      if (name === 'aggregation') this.noteEpochs();
      if (reply === null) throw new GossipRequestError(`${name} has no reply`);
      return this.codec.encode({ protocol: name, kind: 'response', body: reply } as ProtocolMessage);
    } finally {
      this.directory.unpin(sender);
    }
  }
}
