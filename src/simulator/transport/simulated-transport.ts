/**
 * `Transport` on a SimulatedNetwork: what TlsTransport does, minus the bytes on a socket, on
 * virtual time. Semantics kept from TlsTransport:
 * - one long-lived message connection per peer, dialled on demand and shared by requests in both
 *   directions; set-up costs `handshakeRoundTrips` round trips; the peer's key is pinned to the
 *   node id asked for (PEER_KEY_MISMATCH), an address with nobody listening is UNREACHABLE after a
 *   round trip, one where nobody answers is UNREACHABLE after the connect timeout;
 * - a request's timeout counts set-up and waiting (TIMEOUT); a handler's throw or rejection is the
 *   caller's REMOTE_ERROR (message cut like an ERROR frame's), no handler is NO_HANDLER, more than
 *   `maxInFlightRequests` being served on a connection is BUSY, oversized payloads FRAME_TOO_LARGE;
 * - close(): pending requests fail with CLOSED, peers see the connections close (their requests in
 *   flight fail with CONNECTION_LOST), the address is free again;
 * - probe(): who holds the address, nothing pinned; streams: see simulated-stream.ts.
 * Byte and frame counters count what TLS would carry inside the encryption: payloads plus the
 * 8-byte frame header of framing.ts, stream data as written.
 *
 * Not modelled: connection limits (TOO_MANY_CONNECTIONS for message connections), idle
 * retirement and GOAWAY, queueing of our own requests beyond maxInFlightRequests (they are sent and
 * the peer answers BUSY), malformed frames and failed handshakes (every simulated node is an honest
 * peercloud node; hostile peers are the TLS transport's tests' business).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Timers } from '../../node/attributes-system.js';
import { type NodeIdentity, isValidNodeId } from '../../node/identity.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_BYTES,
  MAX_MESSAGE_TYPE,
  RemoteErrorCode,
  decodeErrorPayload,
  encodeErrorPayload,
  maxPayloadBytes,
} from '../../network/framing.js';
import { StreamStatus, isValidStreamPurpose } from '../../network/stream-header.js';
import {
  type ConnectionInfo,
  type ListenAddress,
  type NetworkAddress,
  type PeerAddress,
  type ProbeOptions,
  type RemotePeer,
  type RequestHandler,
  type RequestOptions,
  type StreamHandler,
  type Transport,
  TransportError,
  type TransportEventListener,
  type TransportEvents,
  type TransportLogger,
  type TransportStats,
} from '../../network/transport.js';
import type { CrashMode, SimulatedNetwork } from './simulated-network.js';
import { type Answer, type Dial, type LinkEnd, PendingCall } from './message-link.js';
import { SimulatedStream } from './simulated-stream.js';
import type { TimerOwner } from './virtual-scheduler.js';

export interface SimulatedTransportOptions {
  /** Default timeout of `request`. Default 10 s (as TlsTransport). */
  readonly requestTimeoutMs?: number;
  /** Connection set-up, and a stream's accept answer. Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** Largest frame (8-byte header + payload). Default 1 MiB. */
  readonly maxFrameBytes?: number;
  /** Requests served at once per connection before the peer's get BUSY. Default 64. */
  readonly maxInFlightRequests?: number;
  /** Bulk streams open, both directions. Default 32. */
  readonly maxStreams?: number;
  /** Unconsumed bytes a stream writer may have in flight (see simulated-stream.ts). Default 64 KiB. */
  readonly streamWindowBytes?: number;
  readonly logger?: TransportLogger;
}

type Resolved = { -readonly [K in Exclude<keyof SimulatedTransportOptions, 'logger'>]-?: number };

const DEFAULTS: Resolved = {
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxInFlightRequests: 64,
  maxStreams: 32,
  streamWindowBytes: 64 * 1024,
};

const silentLogger: TransportLogger = () => {};

export class SimulatedTransport implements Transport, TimerOwner {
  readonly nodeId: string;
  readonly publicKey: Uint8Array;
  /** Timers of this node's process: they stop when it crashes (not when it closes). */
  readonly timers: Timers;
  /** Undefined while alive; how it died once crashed. */
  crashMode: CrashMode | undefined;
  /** @internal Counters, updated by the streams too. */
  readonly counters: TransportStats = {
    connectionsOpen: 0,
    streamsOpen: 0,
    connectionsAccepted: 0,
    connectionsDialled: 0,
    connectionsRejected: 0,
    framesRejected: 0,
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    requestsSent: 0,
    requestsFailed: 0,
    requestsHandled: 0,
  };
  private readonly options: Resolved;
  private readonly log: TransportLogger;
  private readonly events = new EventEmitter();
  private address: { host: string; port: number } | undefined;
  private closed = false;
  private requestHandler: RequestHandler | undefined;
  private streamHandler: StreamHandler | undefined;
  /** The connection used for requests to each peer (the latest set up, in either direction). */
  private readonly links = new Map<string, LinkEnd>();
  /** Every open connection end, for close and the gauge. */
  private readonly ends = new Set<LinkEnd>();
  private readonly dials = new Map<string, Dial>();
  private readonly calls = new Set<PendingCall>();
  /** Probes and stream openings in progress: how to fail them when we close or crash. */
  private readonly attempts = new Set<(err: TransportError) => void>();
  private readonly streams = new Set<SimulatedStream>();
  private streamsStarting = 0;

  /** Use SimulatedNetwork.createTransport. */
  constructor(
    private readonly network: SimulatedNetwork,
    identity: NodeIdentity,
    options: SimulatedTransportOptions,
  ) {
    this.nodeId = identity.nodeId;
    this.publicKey = identity.publicKey;
    this.options = resolveOptions(options);
    const logger = options.logger ?? silentLogger;
    this.log = (level, message, fields) => {
      try {
        logger(level, message, fields);
      } catch {
        // a logger's bug must not break the simulation
      }
    };
    this.timers = network.scheduler.timers(this);
  }

  get alive(): boolean {
    return this.crashMode === undefined;
  }

  /** Where it listens, once it does. */
  get listenAddress(): { readonly host: string; readonly port: number } | undefined {
    return this.address;
  }

  async listen(address: ListenAddress): Promise<ListenAddress> {
    this.checkUsable();
    if (this.address !== undefined) throw new RangeError('listen: the transport is already listening');
    if (typeof address?.host !== 'string' || address.host === '' || !isPort(address.port, true)) {
      throw new RangeError(`listen: address must be {host, port 0..65535}, got ${JSON.stringify(address)}`);
    }
    this.address = this.network.bind(this, address);
    return { ...this.address };
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  onStream(handler: StreamHandler): void {
    this.streamHandler = handler;
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  on<K extends keyof TransportEvents>(event: K, listener: TransportEventListener<K>): void {
    this.events.on(event, listener);
  }

  off<K extends keyof TransportEvents>(event: K, listener: TransportEventListener<K>): void {
    this.events.off(event, listener);
  }

  // ---- requests ----------------------------------------------------------------------------------

  request(peer: PeerAddress, type: number, payload: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    checkPeer(peer, 'request', this.nodeId);
    if (!Number.isInteger(type) || type < 0 || type > MAX_MESSAGE_TYPE) throw new RangeError(`request: type must be an integer in 0..${MAX_MESSAGE_TYPE}, got ${type}`);
    if (!(payload instanceof Uint8Array)) throw new RangeError('request: payload must be a Uint8Array');
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`request: timeoutMs must be a positive number, got ${timeoutMs}`);
    if (!this.usable) return Promise.reject(new TransportError('CLOSED', 'transport is closed', { peer: peer.nodeId }));
    this.counters.requestsSent++;
    const limit = maxPayloadBytes(this.options.maxFrameBytes);
    if (payload.length > limit) {
      this.counters.requestsFailed++;
      return Promise.reject(new TransportError('FRAME_TOO_LARGE', `request payload of ${payload.length} bytes exceeds the maximum of ${limit}`, { peer: peer.nodeId }));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      // A copy: what the caller does with its buffer afterwards must not travel.
      const call = new PendingCall({ nodeId: peer.nodeId, host: peer.host, port: peer.port }, type, Uint8Array.from(payload), options.signal, (err, answer) => {
        this.calls.delete(call);
        if (err === undefined) {
          resolve(answer!);
        } else {
          this.counters.requestsFailed++;
          reject(err);
        }
      });
      this.calls.add(call);
      call.start(this.network.timers, timeoutMs);
      if (!call.settled) this.dispatch(call);
    });
  }

  private dispatch(call: PendingCall): void {
    const end = this.links.get(call.peer.nodeId);
    if (end !== undefined) {
      this.send(end, call);
      return;
    }
    let dial = this.dials.get(call.peer.nodeId);
    if (dial === undefined) {
      dial = { waiting: new Set() };
      this.dials.set(call.peer.nodeId, dial);
      this.dialMessages(call.peer, dial);
    }
    call.dial = dial;
    dial.waiting.add(call);
  }

  private dialMessages(peer: PeerAddress, dial: Dial): void {
    this.connect(peer, peer.nodeId, this.options.connectTimeoutMs, 'UNREACHABLE', (result) => {
      this.dials.delete(peer.nodeId);
      const waiting = [...dial.waiting];
      for (const call of waiting) call.dial = undefined;
      dial.waiting.clear();
      if (result instanceof TransportError) {
        for (const call of waiting) call.fail(result);
        return;
      }
      // The peer may have dialled us meanwhile: use whichever connection is registered.
      const end = this.links.get(peer.nodeId) ?? this.openLink(result);
      for (const call of waiting) if (!call.settled) this.send(end, call);
    });
  }

  /** Sets up the connection of both sides (at the time the dialler learns it is up). */
  private openLink(acceptor: SimulatedTransport): LinkEnd {
    const dialerPeer: RemotePeer = { nodeId: this.nodeId, publicKey: this.publicKey, remoteAddress: { host: this.address?.host ?? '0.0.0.0', port: this.network.ephemeralPort() } };
    const acceptorPeer: RemotePeer = { nodeId: acceptor.nodeId, publicKey: acceptor.publicKey, remoteAddress: { ...acceptor.address! } };
    const mine: LinkEnd = { transport: this, peer: acceptorPeer, direction: 'outbound', other: undefined!, open: true, lane: { lastArrival: -Infinity }, calls: new Set(), serving: 0 };
    const theirs: LinkEnd = { transport: acceptor, peer: dialerPeer, direction: 'inbound', other: mine, open: true, lane: { lastArrival: -Infinity }, calls: new Set(), serving: 0 };
    mine.other = theirs;
    this.counters.connectionsDialled++;
    acceptor.counters.connectionsAccepted++;
    this.adopt(mine);
    acceptor.adopt(theirs);
    return mine;
  }

  /** @internal */
  adopt(end: LinkEnd): void {
    this.ends.add(end);
    // A connection already there (both sides dialled at once) stays the one used for requests.
    if (!this.links.has(end.peer.nodeId)) this.links.set(end.peer.nodeId, end);
    this.counters.connectionsOpen++;
    this.emit('connection-open', { peer: end.peer, direction: end.direction, kind: 'messages' });
  }

  private send(end: LinkEnd, call: PendingCall): void {
    call.end = end;
    end.calls.add(call);
    this.counters.framesOut++;
    this.counters.bytesOut += FRAME_HEADER_BYTES + call.payload.length;
    const other = end.other;
    this.network.transmit(this.nodeId, other.transport, 'request', () => other.transport.receiveRequest(other, call), other.lane);
  }

  /** A request arrived on `end` (ours); the answer goes back on the same connection. */
  private receiveRequest(end: LinkEnd, call: PendingCall): void {
    if (!end.open) {
      this.resetFrom(end);
      return;
    }
    if (this.oversized(end, call.payload.length)) return;
    this.counters.framesIn++;
    this.counters.bytesIn += FRAME_HEADER_BYTES + call.payload.length;
    const handler = this.requestHandler;
    if (handler === undefined) {
      this.answer(end, call, { ok: false, error: encodeErrorPayload(RemoteErrorCode.NoHandler, 'no request handler') });
      return;
    }
    if (end.serving >= this.options.maxInFlightRequests) {
      this.answer(end, call, { ok: false, error: encodeErrorPayload(RemoteErrorCode.Busy, `more than ${this.options.maxInFlightRequests} requests in flight`) });
      return;
    }
    end.serving++;
    this.counters.requestsHandled++;
    let result: Promise<Uint8Array> | Uint8Array;
    try {
      // A copy of its own, as if decoded from a frame.
      result = handler(end.peer, call.type, Uint8Array.from(call.payload));
    } catch (err) {
      result = Promise.reject(err);
    }
    Promise.resolve(result).then(
      (response: unknown) => {
        end.serving--;
        if (!(response instanceof Uint8Array)) {
          this.answer(end, call, { ok: false, error: encodeErrorPayload(RemoteErrorCode.HandlerFailed, `handler for type ${call.type} returned ${typeof response}, not bytes`) });
        } else if (response.length > maxPayloadBytes(this.options.maxFrameBytes)) {
          this.answer(end, call, { ok: false, error: encodeErrorPayload(RemoteErrorCode.ResponseTooLarge, `response of ${response.length} bytes exceeds the maximum frame size`) });
        } else {
          this.answer(end, call, { ok: true, payload: Uint8Array.from(response) });
        }
      },
      (err: unknown) => {
        end.serving--;
        this.log('debug', `request handler for type ${call.type} from ${end.peer.nodeId} failed`, { error: err });
        this.answer(end, call, { ok: false, error: encodeErrorPayload(RemoteErrorCode.HandlerFailed, err instanceof Error ? err.message : String(err)) });
      },
    );
  }

  private answer(end: LinkEnd, call: PendingCall, answer: Answer): void {
    // A crashed or closed node sends nothing; its peers learnt of it otherwise.
    if (!end.open || !this.alive) return;
    this.counters.framesOut++;
    this.counters.bytesOut += FRAME_HEADER_BYTES + (answer.ok ? answer.payload.length : answer.error.length);
    const other = end.other;
    this.network.transmit(this.nodeId, other.transport, 'response', () => other.transport.receiveAnswer(other, call, answer), other.lane);
  }

  private receiveAnswer(end: LinkEnd, call: PendingCall, answer: Answer): void {
    if (!end.open) {
      this.resetFrom(end);
      return;
    }
    if (this.oversized(end, answer.ok ? answer.payload.length : answer.error.length)) return;
    this.counters.framesIn++;
    this.counters.bytesIn += FRAME_HEADER_BYTES + (answer.ok ? answer.payload.length : answer.error.length);
    if (call.settled) return; // timed out or aborted: a late answer
    if (answer.ok) {
      call.succeed(answer.payload);
      return;
    }
    const { code, message } = decodeErrorPayload(answer.error);
    const peer = end.peer.nodeId;
    switch (code) {
      case RemoteErrorCode.HandlerFailed:
        call.fail(new TransportError('REMOTE_ERROR', `peer ${peer} failed request ${call.type}: ${message}`, { peer }));
        break;
      case RemoteErrorCode.NoHandler:
        call.fail(new TransportError('NO_HANDLER', `peer ${peer} has no handler for request ${call.type}: ${message}`, { peer }));
        break;
      case RemoteErrorCode.Busy:
        call.fail(new TransportError('BUSY', `peer ${peer} is busy: ${message}`, { peer }));
        break;
      case RemoteErrorCode.ResponseTooLarge:
        call.fail(new TransportError('FRAME_TOO_LARGE', `peer ${peer}: ${message}`, { peer }));
        break;
    }
  }

  /**
   * A frame above our own limit (the peer's may be higher): the connection is dropped, as the TLS
   * transport's frame decoder does, and everything waiting on it fails with FRAME_TOO_LARGE.
   */
  private oversized(end: LinkEnd, payloadBytes: number): boolean {
    if (FRAME_HEADER_BYTES + payloadBytes <= this.options.maxFrameBytes) return false;
    this.counters.framesRejected++;
    const peer = end.peer.nodeId;
    const reason = new TransportError('FRAME_TOO_LARGE', `peer ${peer}: frame of ${FRAME_HEADER_BYTES + payloadBytes} bytes exceeds the maximum of ${this.options.maxFrameBytes}`, { peer });
    this.log('warn', `closing connection with ${peer}: ${reason.message}`, { peer, code: reason.code });
    this.closeEnd(end, reason, 'reset', reason);
    return true;
  }

  /**
   * Something arrived on a connection this side already closed. A live host answers that with a
   * reset (as TCP does, e.g. after a restart); a silently crashed one never got here (the network
   * dropped it).
   */
  private resetFrom(end: LinkEnd): void {
    const other = end.other;
    if (!other.open) return;
    this.network.transmit(this.nodeId, other.transport, 'control', () => other.transport.closeEnd(other, new TransportError('CONNECTION_LOST', `connection with ${end.transport.nodeId} was reset`, { peer: end.transport.nodeId }), 'quiet'));
  }

  /**
   * Closes our side of a connection: requests waiting on it fail (CONNECTION_LOST, or `local` for
   * our own close or crash), and the other side is told (`notify`): 'orderly' close, 'reset', or
   * 'quiet' (it is not told at all).
   */
  private closeEnd(end: LinkEnd, reason: TransportError | undefined, notify: 'orderly' | 'reset' | 'quiet', local?: TransportError): void {
    if (!end.open) return;
    end.open = false;
    this.ends.delete(end);
    if (this.links.get(end.peer.nodeId) === end) {
      this.links.delete(end.peer.nodeId);
      // Another connection with the same peer (both sides dialled at once) takes over.
      for (const e of this.ends) {
        if (e.peer.nodeId === end.peer.nodeId) {
          this.links.set(e.peer.nodeId, e);
          break;
        }
      }
    }
    this.counters.connectionsOpen--;
    const peer = end.peer.nodeId;
    const failure = local ?? new TransportError('CONNECTION_LOST', `connection with ${peer} closed${reason ? `: ${reason.message}` : ''}`, { peer, cause: reason });
    for (const call of [...end.calls]) call.fail(failure);
    if (this.alive) {
      if (reason !== undefined && reason.code !== 'CLOSED') this.log('debug', `connection with ${peer} closed: ${reason.message}`, { peer, code: reason.code });
      this.emit('connection-close', { peer: end.peer, direction: end.direction, kind: 'messages', reason });
    }
    if (notify === 'quiet') return;
    const other = end.other;
    const why = notify === 'reset' ? new TransportError('CONNECTION_LOST', `connection with ${this.nodeId} was reset`, { peer: this.nodeId }) : undefined;
    this.network.transmit(this.nodeId, other.transport, 'control', () => other.transport.closeEnd(other, why, 'quiet'), other.lane);
  }

  // ---- connection set-up -------------------------------------------------------------------------

  /**
   * Connects to `address`, with `expected` the node id the key must hash to (undefined: a probe),
   * and calls `done` once with the transport there or the error. `deadlineCode` is what running
   * out of `timeoutMs` is called.
   */
  private connect(
    address: NetworkAddress,
    expected: string | undefined,
    timeoutMs: number,
    deadlineCode: 'UNREACHABLE' | 'TIMEOUT',
    done: (result: SimulatedTransport | TransportError) => void,
    signal?: AbortSignal,
  ): void {
    const where = `${address.host}:${address.port}`;
    const who = expected === undefined ? where : `${expected} at ${where}`;
    let settled = false;
    const finish = (result: SimulatedTransport | TransportError): void => {
      if (settled) return;
      settled = true;
      cancelTimer();
      this.attempts.delete(abandon);
      signal?.removeEventListener('abort', onAbort);
      done(result);
    };
    const abandon = (err: TransportError): void => finish(err);
    const onAbort = (): void => finish(new TransportError('ABORTED', `connecting to ${who} was aborted`, { peer: expected }));
    const cancelTimer = this.network.timers.schedule(() => {
      const text = deadlineCode === 'TIMEOUT' ? `probing ${where} took longer than ${timeoutMs} ms` : `no session with ${where} within ${timeoutMs} ms`;
      finish(new TransportError(deadlineCode, text, { peer: expected }));
    }, timeoutMs);
    this.attempts.add(abandon);
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    this.network.handshake(this, address, (answer) => {
      if (settled) return;
      if (!this.usable) {
        finish(new TransportError('CLOSED', 'transport closed', { peer: expected }));
      } else if (answer === 'refused') {
        finish(new TransportError('UNREACHABLE', `cannot connect to ${who}: connection refused`, { peer: expected }));
      } else if (expected !== undefined && answer.nodeId !== expected) {
        this.log('warn', `${where} is ${answer.nodeId}, not ${expected} as we were told`, { peer: expected, actual: answer.nodeId });
        finish(new TransportError('PEER_KEY_MISMATCH', `${where} proved the key of ${answer.nodeId}, not of ${expected}`, { peer: expected }));
      } else {
        finish(answer);
      }
    });
  }

  async probe(address: NetworkAddress, options: ProbeOptions = {}): Promise<RemotePeer> {
    if (typeof address?.host !== 'string' || address.host === '') throw new RangeError('probe: host must be a non-empty string');
    if (!isPort(address.port, false)) throw new RangeError(`probe: port must be an integer in 1..65535, got ${address?.port}`);
    const timeoutMs = options.timeoutMs ?? this.options.connectTimeoutMs;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`probe: timeoutMs must be a positive number, got ${timeoutMs}`);
    if (!this.usable) throw new TransportError('CLOSED', 'transport is closed');
    const there = await new Promise<SimulatedTransport>((resolve, reject) => {
      this.connect(address, undefined, timeoutMs, 'TIMEOUT', (result) => (result instanceof TransportError ? reject(result) : resolve(result)), options.signal);
    });
    return { nodeId: there.nodeId, publicKey: there.publicKey, remoteAddress: { host: address.host, port: address.port } };
  }

  // ---- streams -----------------------------------------------------------------------------------

  async openStream(peer: PeerAddress, purpose: string): Promise<Duplex> {
    checkPeer(peer, 'openStream', this.nodeId);
    if (!isValidStreamPurpose(purpose)) throw new RangeError(`openStream: invalid purpose ${JSON.stringify(purpose)} (1-64 chars of letters, digits, ._:/-)`);
    if (!this.usable) throw new TransportError('CLOSED', 'transport is closed', { peer: peer.nodeId });
    if (this.streams.size + this.streamsStarting >= this.options.maxStreams) {
      throw new TransportError('TOO_MANY_CONNECTIONS', `at the limit of ${this.options.maxStreams} streams`, { peer: peer.nodeId });
    }
    this.streamsStarting++;
    try {
      const there = await new Promise<SimulatedTransport>((resolve, reject) => {
        this.connect(peer, peer.nodeId, this.options.connectTimeoutMs, 'UNREACHABLE', (result) => (result instanceof TransportError ? reject(result) : resolve(result)));
      });
      return await this.requestStream(there, peer.nodeId, purpose);
    } finally {
      this.streamsStarting--;
    }
  }

  /** Sends the stream header to `there` and waits for its answer (as long as the connect timeout). */
  private requestStream(there: SimulatedTransport, peerId: string, purpose: string): Promise<SimulatedStream> {
    return new Promise<SimulatedStream>((resolve, reject) => {
      let settled = false;
      const finish = (result: SimulatedStream | TransportError): void => {
        if (settled) {
          if (result instanceof SimulatedStream) result.destroy();
          return;
        }
        settled = true;
        cancelTimer();
        this.attempts.delete(abandon);
        if (result instanceof TransportError) {
          reject(result);
        } else if (!this.usable) {
          result.destroy();
          reject(new TransportError('CLOSED', 'transport closed', { peer: peerId }));
        } else {
          this.openedStream(result, there.remoteSelf(), 'outbound');
          resolve(result);
        }
      };
      const abandon = (err: TransportError): void => finish(err);
      const cancelTimer = this.network.timers.schedule(() => finish(new TransportError('TIMEOUT', `peer ${peerId} did not answer stream ${purpose} within ${this.options.connectTimeoutMs} ms`, { peer: peerId })), this.options.connectTimeoutMs);
      this.attempts.add(abandon);
      const me = this.remoteSelf();
      this.network.transmit(this.nodeId, there, 'control', () => {
        const verdict = there.streamVerdict(me);
        if (verdict !== StreamStatus.Accepted) {
          const refusal = verdict === 'reset'
            ? new TransportError('CONNECTION_LOST', `peer ${peerId} went away while we opened stream ${purpose}`, { peer: peerId })
            : streamRefusal(verdict, peerId, purpose);
          this.network.transmit(there.nodeId, this, 'control', () => finish(refusal));
          return;
        }
        const [mine, theirs] = SimulatedStream.pair(this.network, this, there, this.options.streamWindowBytes);
        there.acceptStream(me, purpose, theirs);
        this.network.transmit(there.nodeId, this, 'control', () => finish(mine));
      });
    });
  }

  /** Whether an inbound stream can be taken now ('reset': this node is gone). */
  private streamVerdict(from: RemotePeer): StreamStatus | 'reset' {
    if (!this.usable) return 'reset';
    if (this.streams.size + this.streamsStarting >= this.options.maxStreams) {
      this.counters.connectionsRejected++;
      this.emit('connection-rejected', { remoteAddress: from.remoteAddress, reason: new TransportError('TOO_MANY_CONNECTIONS', `at the limit of ${this.options.maxStreams} streams`) });
      return StreamStatus.Busy;
    }
    return this.streamHandler === undefined ? StreamStatus.NoHandler : StreamStatus.Accepted;
  }

  /** Hands an accepted inbound stream to the stream handler. */
  private acceptStream(from: RemotePeer, purpose: string, stream: SimulatedStream): void {
    this.openedStream(stream, from, 'inbound');
    try {
      this.streamHandler!(from, purpose, stream);
    } catch (err) {
      this.log('warn', `stream handler for ${purpose} from ${from.nodeId} threw: ${err instanceof Error ? err.message : String(err)}`, { peer: from.nodeId });
      stream.destroy();
    }
  }

  private openedStream(stream: SimulatedStream, remote: RemotePeer, direction: 'inbound' | 'outbound'): void {
    this.streams.add(stream);
    this.counters.streamsOpen++;
    const info: ConnectionInfo = { peer: remote, direction, kind: 'stream' };
    // The stream's user may not listen for errors; an unheard 'error' would crash the process.
    stream.on('error', (err: Error) => this.log('debug', `stream with ${remote.nodeId} failed: ${err.message}`, { peer: remote.nodeId }));
    stream.once('close', () => {
      this.streams.delete(stream);
      this.counters.streamsOpen--;
      if (this.alive) this.emit('connection-close', { ...info, reason: undefined });
    });
    this.emit('connection-open', info);
  }

  /** How this node appears to a peer it connects to. */
  private remoteSelf(): RemotePeer {
    return { nodeId: this.nodeId, publicKey: this.publicKey, remoteAddress: { host: this.address?.host ?? '0.0.0.0', port: this.network.ephemeralPort() } };
  }

  // ---- the end -----------------------------------------------------------------------------------

  close(): Promise<void> {
    if (this.closed || !this.alive) return Promise.resolve();
    this.closed = true;
    this.shutdown(new TransportError('CLOSED', 'transport closed'), 'orderly');
    return Promise.resolve();
  }

  /** @internal Use SimulatedNetwork.crash. */
  crashNow(mode: CrashMode): void {
    if (!this.alive) return;
    this.crashMode = mode;
    this.shutdown(new TransportError('CLOSED', 'the node crashed'), mode === 'refuse' ? 'reset' : 'quiet');
  }

  private shutdown(local: TransportError, notify: 'orderly' | 'reset' | 'quiet'): void {
    this.network.retire(this);
    if (this.address !== undefined) this.network.unbind(this, this.address, this.crashMode === 'silent');
    for (const call of [...this.calls]) call.fail(local);
    for (const abandon of [...this.attempts]) abandon(local);
    for (const end of [...this.ends]) this.closeEnd(end, undefined, notify, local);
    for (const stream of [...this.streams]) {
      if (this.crashMode === 'silent') stream.vanish();
      else stream.destroy();
    }
  }

  private get usable(): boolean {
    return !this.closed && this.alive;
  }

  private checkUsable(): void {
    if (!this.usable) throw new TransportError('CLOSED', 'transport is closed');
  }

  private emit<K extends keyof TransportEvents>(event: K, payload: TransportEvents[K]): void {
    try {
      this.events.emit(event, payload);
    } catch (err) {
      // A listener's bug must not break the connection handling that reported the event.
      this.log('warn', `listener of ${event} threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function resolveOptions(options: SimulatedTransportOptions): Resolved {
  const resolved: Resolved = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS) as (keyof Resolved)[]) {
    const value = options[k];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`SimulatedTransport: ${k} must be a positive number, got ${String(value)}`);
    resolved[k] = value;
  }
  if (resolved.maxFrameBytes <= FRAME_HEADER_BYTES) throw new RangeError(`SimulatedTransport: maxFrameBytes must exceed ${FRAME_HEADER_BYTES}, got ${resolved.maxFrameBytes}`);
  return resolved;
}

function checkPeer(peer: PeerAddress, what: string, self: string): void {
  if (!isValidNodeId(peer?.nodeId)) throw new RangeError(`${what}: invalid peer node id ${JSON.stringify(peer?.nodeId)}`);
  if (typeof peer.host !== 'string' || peer.host === '') throw new RangeError(`${what}: peer host must be a non-empty string`);
  if (!isPort(peer.port, false)) throw new RangeError(`${what}: peer port must be an integer in 1..65535, got ${peer.port}`);
  if (peer.nodeId === self) throw new RangeError(`${what}: ${peer.nodeId} is this node`);
}

function isPort(port: unknown, allowZero: boolean): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= (allowZero ? 0 : 1) && port <= 65535;
}

function streamRefusal(status: StreamStatus, peer: string, purpose: string): TransportError {
  switch (status) {
    case StreamStatus.NoHandler:
      return new TransportError('NO_HANDLER', `peer ${peer} has no handler for stream ${purpose}`, { peer });
    case StreamStatus.Busy:
      return new TransportError('BUSY', `peer ${peer} is at its limit of streams`, { peer });
    default:
      return new TransportError('PROTOCOL_ERROR', `peer ${peer} answered stream ${purpose} with status ${status}`, { peer });
  }
}
