/**
 * One authenticated, long-lived message connection to a peer: framed requests and responses in
 * both directions, multiplexed by request id.
 *
 * It knows nothing of TLS: it runs over any duplex byte stream whose far end was already
 * authenticated as `peer`. Anything the peer sends that breaks the protocol closes the connection
 * with a logged reason and a counter increment; nothing here throws into the caller's stack or the
 * event loop.
 */
import type { Duplex } from 'node:stream';
import {
  type Frame,
  FrameDecoder,
  FrameKind,
  RemoteErrorCode,
  decodeErrorPayload,
  encodeErrorPayload,
  encodeFrame,
  maxPayloadBytes,
} from './framing.js';
import type { PendingRequest } from './pending-request.js';
import {
  type RemotePeer,
  type RequestHandler,
  TransportError,
  type TransportLogger,
  type TransportStats,
} from './transport.js';

export interface MessageConnectionOptions {
  maxFrameBytes: number;
  /** Requests in flight per direction: ours beyond it wait in a queue, the peer's get BUSY. */
  maxInFlightRequests: number;
  /** Above this many bytes waiting to be written, stop reading until the peer catches up. */
  maxWriteBufferBytes: number;
  /** After ending the socket, destroy it if the peer has not closed its side within this time. */
  closeGraceMs: number;
}

export interface MessageConnectionHooks {
  /** The current inbound request handler (it may change while the connection lives). */
  requestHandler(): RequestHandler | undefined;
  /** The connection takes no new requests any more; `unsent` were queued here and must go elsewhere. */
  retired(connection: MessageConnection, unsent: PendingRequest[]): void;
  /** The connection is closed; `reason` is undefined for an orderly close. */
  closed(connection: MessageConnection, reason: TransportError | undefined, unsent: PendingRequest[]): void;
  readonly stats: TransportStats;
  readonly log: TransportLogger;
}

const EMPTY = new Uint8Array(0);

export class MessageConnection {
  readonly peer: RemotePeer;
  readonly direction: 'inbound' | 'outbound';
  /** Node id of the side that dialled: when two connections join the same pair, both sides keep the same one. */
  readonly dialerId: string;
  /** Last time a frame went either way (ms, Date.now()). */
  lastActivity: number;
  /** Last time any bytes arrived. */
  lastBytesIn: number;
  /** When GOAWAY was sent, if it was. */
  retiredAt: number | undefined;

  private readonly socket: Duplex;
  private readonly options: MessageConnectionOptions;
  private readonly hooks: MessageConnectionHooks;
  private readonly decoder: FrameDecoder;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private goAwayReceived = false;
  /** Our requests awaiting a response, by request id. */
  private readonly inFlight = new Map<number, PendingRequest>();
  /** Our requests waiting for an in-flight slot, oldest first (a Set, so timeouts leave in O(1)). */
  private readonly queue = new Set<PendingRequest>();
  /** Request ids of the peer's requests being handled here. */
  private readonly serving = new Set<number>();
  private nextRequestId = 1;
  private closeReason: TransportError | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readPaused = false;

  constructor(
    socket: Duplex,
    peer: RemotePeer,
    direction: 'inbound' | 'outbound',
    localNodeId: string,
    options: MessageConnectionOptions,
    hooks: MessageConnectionHooks,
  ) {
    this.socket = socket;
    this.peer = peer;
    this.direction = direction;
    this.dialerId = direction === 'outbound' ? localNodeId : peer.nodeId;
    this.options = options;
    this.hooks = hooks;
    this.decoder = new FrameDecoder(options.maxFrameBytes);
    this.lastActivity = this.lastBytesIn = Date.now();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => {
      this.closeReason ??= new TransportError('CONNECTION_LOST', `connection to ${peer.nodeId} failed: ${err.message}`, { peer: peer.nodeId, cause: err });
    });
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.finalize());
  }

  /** Open and not retired by either side: new requests may go here. */
  get usable(): boolean {
    return this.state === 'open' && this.retiredAt === undefined && !this.goAwayReceived;
  }

  /** Nothing in flight either way and nothing queued. */
  get idle(): boolean {
    return this.inFlight.size === 0 && this.serving.size === 0 && this.queue.size === 0;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** True while a frame has started arriving but not finished. */
  get midFrame(): boolean {
    return this.decoder.midFrame;
  }

  /** Sends `call` now, or queues it until an in-flight slot frees up. Returns false if unusable. */
  send(call: PendingRequest): boolean {
    if (!this.usable) return false;
    if (call.settled) return true;
    if (this.inFlight.size >= this.options.maxInFlightRequests) {
      this.queue.add(call);
      call.detach = () => {
        this.queue.delete(call);
      };
      return true;
    }
    this.transmit(call);
    return true;
  }

  /** Stops taking new requests (GOAWAY) and closes once both sides are done; see FrameKind.GoAway. */
  retire(): void {
    if (this.state !== 'open' || this.retiredAt !== undefined) return;
    this.retiredAt = Date.now();
    this.writeFrame(FrameKind.GoAway, 0, 0, EMPTY);
    const unsent = this.takeQueue();
    this.hooks.retired(this, unsent);
    this.maybeFinish();
  }

  /** Closes at once: pending requests fail with `reason` (or are handed back if never sent). */
  destroy(reason: TransportError): void {
    if (this.state === 'closed') return;
    this.closeReason ??= reason;
    this.socket.destroy();
  }

  /** Ends the connection politely (TLS close_notify, FIN), destroying it if the peer lingers. */
  end(reason: TransportError | undefined): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    if (reason !== undefined) this.closeReason ??= reason;
    this.socket.end();
    this.graceTimer = setTimeout(() => this.socket.destroy(), this.options.closeGraceMs);
  }

  private transmit(call: PendingRequest): void {
    const id = this.allocateRequestId();
    this.inFlight.set(id, call);
    call.detach = () => {
      // Timed out or aborted: free the slot; a late response to `id` is then ignored.
      if (this.inFlight.get(id) !== call) return;
      this.inFlight.delete(id);
      this.pump();
      this.maybeFinish();
    };
    this.writeFrame(FrameKind.Request, id, call.type, call.payload);
  }

  private allocateRequestId(): number {
    // Ids are u32 and 0 is reserved; after wrapping, skip ids still in flight.
    for (;;) {
      const id = this.nextRequestId;
      this.nextRequestId = id === 0xffffffff ? 1 : id + 1;
      if (!this.inFlight.has(id)) return id;
    }
  }

  private pump(): void {
    while (this.usable && this.queue.size > 0 && this.inFlight.size < this.options.maxInFlightRequests) {
      const call = this.queue.values().next().value as PendingRequest;
      this.queue.delete(call);
      call.detach = undefined;
      if (!call.settled) this.transmit(call);
    }
  }

  private takeQueue(): PendingRequest[] {
    const unsent = [...this.queue];
    this.queue.clear();
    for (const call of unsent) call.detach = undefined;
    return unsent.filter((c) => !c.settled);
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.lastBytesIn = Date.now();
    try {
      this.decoder.push(chunk, (frame) => this.onFrame(frame));
    } catch (err) {
      const reason = err instanceof TransportError
        ? err
        : new TransportError('PROTOCOL_ERROR', `cannot process frame: ${err instanceof Error ? err.message : String(err)}`);
      this.reject(reason);
    }
  }

  /** The peer broke the protocol: count it, log it, drop the connection. */
  reject(reason: TransportError): void {
    if (this.state === 'closed') return;
    this.hooks.stats.framesRejected++;
    this.hooks.log('warn', `closing connection with ${this.peer.nodeId}: ${reason.message}`, {
      peer: this.peer.nodeId,
      remoteAddress: this.peer.remoteAddress,
      code: reason.code,
    });
    this.destroy(new TransportError(reason.code, `peer ${this.peer.nodeId}: ${reason.message}`, { peer: this.peer.nodeId, cause: reason }));
  }

  private onFrame(frame: Frame): void {
    if (this.state === 'closed') return;
    this.hooks.stats.framesIn++;
    this.lastActivity = Date.now();
    switch (frame.kind) {
      case FrameKind.Request:
        this.onRequest(frame);
        break;
      case FrameKind.Response:
        this.onResponse(frame);
        break;
      case FrameKind.Error:
        this.onError(frame);
        break;
      case FrameKind.Ping:
        this.writeFrame(FrameKind.Pong, frame.requestId, frame.type, frame.payload);
        break;
      case FrameKind.Pong:
        break; // we send no pings yet; an unsolicited pong is harmless
      case FrameKind.GoAway:
        this.onGoAway(frame);
        break;
    }
  }

  private onRequest(frame: Frame): void {
    const { requestId: id, type } = frame;
    if (id === 0) throw new TransportError('PROTOCOL_ERROR', 'request with the reserved id 0');
    if (this.serving.has(id)) throw new TransportError('PROTOCOL_ERROR', `request id ${id} is already being served`);
    const handler = this.hooks.requestHandler();
    if (handler === undefined) {
      this.writeError(id, type, RemoteErrorCode.NoHandler, 'no request handler');
      return;
    }
    if (this.serving.size >= this.options.maxInFlightRequests) {
      this.writeError(id, type, RemoteErrorCode.Busy, `more than ${this.options.maxInFlightRequests} requests in flight`);
      return;
    }
    this.serving.add(id);
    this.hooks.stats.requestsHandled++;
    let result: Promise<Uint8Array> | Uint8Array;
    try {
      result = handler(this.peer, type, frame.payload);
    } catch (err) {
      result = Promise.reject(err);
    }
    Promise.resolve(result).then(
      (response: unknown) => {
        this.serving.delete(id);
        if (!(response instanceof Uint8Array)) {
          this.writeError(id, type, RemoteErrorCode.HandlerFailed, `handler for type ${type} returned ${typeof response}, not bytes`);
        } else if (response.length > maxPayloadBytes(this.options.maxFrameBytes)) {
          this.writeError(id, type, RemoteErrorCode.ResponseTooLarge, `response of ${response.length} bytes exceeds the maximum frame size`);
        } else {
          this.writeFrame(FrameKind.Response, id, type, response);
        }
        this.maybeFinish();
      },
      (err: unknown) => {
        this.serving.delete(id);
        this.hooks.log('debug', `request handler for type ${type} from ${this.peer.nodeId} failed`, { error: err });
        this.writeError(id, type, RemoteErrorCode.HandlerFailed, err instanceof Error ? err.message : String(err));
        this.maybeFinish();
      },
    );
  }

  private onResponse(frame: Frame): void {
    const call = this.inFlight.get(frame.requestId);
    if (call === undefined) return; // the request timed out or was aborted: a late answer
    if (frame.type !== call.type) {
      throw new TransportError('PROTOCOL_ERROR', `response to request ${frame.requestId} has type ${frame.type}, the request had ${call.type}`);
    }
    this.inFlight.delete(frame.requestId);
    call.detach = undefined;
    call.resolve(frame.payload);
    this.pump();
    this.maybeFinish();
  }

  private onError(frame: Frame): void {
    const { code, message } = decodeErrorPayload(frame.payload);
    const call = this.inFlight.get(frame.requestId);
    if (call === undefined) return;
    this.inFlight.delete(frame.requestId);
    call.detach = undefined;
    const peer = this.peer.nodeId;
    switch (code) {
      case RemoteErrorCode.HandlerFailed:
        call.reject(new TransportError('REMOTE_ERROR', `peer ${peer} failed request ${call.type}: ${message}`, { peer }));
        break;
      case RemoteErrorCode.NoHandler:
        call.reject(new TransportError('NO_HANDLER', `peer ${peer} has no handler for request ${call.type}: ${message}`, { peer }));
        break;
      case RemoteErrorCode.Busy:
        call.reject(new TransportError('BUSY', `peer ${peer} is busy: ${message}`, { peer }));
        break;
      case RemoteErrorCode.ResponseTooLarge:
        call.reject(new TransportError('FRAME_TOO_LARGE', `peer ${peer}: ${message}`, { peer }));
        break;
    }
    this.pump();
    this.maybeFinish();
  }

  private onGoAway(frame: Frame): void {
    if (frame.requestId !== 0 || frame.type !== 0 || frame.payload.length !== 0) {
      throw new TransportError('PROTOCOL_ERROR', 'malformed GOAWAY frame');
    }
    this.goAwayReceived = true;
    if (this.retiredAt === undefined) this.retire();
    else this.maybeFinish();
  }

  /** The peer ended the connection (Node then ends our side too). */
  private onEnd(): void {
    if (this.decoder.midFrame) {
      this.reject(new TransportError('PROTOCOL_ERROR', 'connection ended in the middle of a frame (truncated frame)'));
      return;
    }
    if (this.retiredAt === undefined || !this.goAwayReceived) {
      this.closeReason ??= new TransportError('CONNECTION_LOST', `${this.peer.nodeId} ended the connection`, { peer: this.peer.nodeId });
    }
    if (this.state === 'open') this.end(undefined);
  }

  private maybeFinish(): void {
    if (this.state === 'open' && this.retiredAt !== undefined && this.goAwayReceived && this.inFlight.size === 0 && this.serving.size === 0) {
      this.end(undefined);
    }
  }

  private writeError(id: number, type: number, code: RemoteErrorCode, message: string): void {
    this.writeFrame(FrameKind.Error, id, type, encodeErrorPayload(code, message));
  }

  private writeFrame(kind: FrameKind, id: number, type: number, payload: Uint8Array): void {
    if (this.state !== 'open' || this.socket.destroyed || this.socket.writableEnded) return;
    this.hooks.stats.framesOut++;
    this.lastActivity = Date.now();
    const ok = this.socket.write(encodeFrame(kind, id, type, payload));
    // A peer that sends requests but never reads our responses would make us buffer without
    // bound; stop reading from it until it drains what we already wrote.
    if (!ok && !this.readPaused && this.socket.writableLength > this.options.maxWriteBufferBytes) {
      this.readPaused = true;
      this.socket.pause();
      this.socket.once('drain', () => {
        this.readPaused = false;
        if (this.state !== 'closed') this.socket.resume();
      });
    }
  }

  private finalize(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    const reason = this.closeReason;
    const lost = reason ?? new TransportError('CONNECTION_LOST', `connection to ${this.peer.nodeId} closed`, { peer: this.peer.nodeId });
    const inFlight = [...this.inFlight.values()];
    this.inFlight.clear();
    this.serving.clear();
    const unsent = this.takeQueue();
    for (const call of inFlight) {
      call.detach = undefined;
      // A request already sent may have been acted on: never resend it, fail it.
      call.reject(lost.code === 'CLOSED' ? lost : new TransportError('CONNECTION_LOST', `connection to ${this.peer.nodeId} lost with the request in flight: ${lost.message}`, { peer: this.peer.nodeId, cause: lost }));
    }
    this.hooks.closed(this, reason, unsent);
  }
}
