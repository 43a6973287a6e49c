/**
 * `Transport` over TLS 1.3 with mutual authentication.
 *
 * Every node presents a self-signed certificate carrying its Ed25519 identity key. There is no CA:
 * a connection is authenticated by the key alone. Outbound, the server's key must hash to the node
 * id we dialled (else PEER_KEY_MISMATCH); inbound, a client certificate is required and its key
 * defines the caller's node id. ALPN names what a connection carries: `peercloud/1` for the one
 * long-lived message connection per peer (see MessageConnection, ConnectionPool), and
 * `peercloud-stream/1` for a bulk byte stream (one TLS connection each, see stream-header.ts), so a
 * stream's backpressure is TCP's own and a bulk transfer never delays gossip messages.
 * `probe` dials like a message connection but checks only that the key is Ed25519, reports the
 * node id it hashes to, and hangs up (trust on first use is the caller's decision).
 */
import { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { type NodeIdentity, isValidNodeId } from '../node/identity.js';
import { ConnectionPool } from './connection-pool.js';
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES, MAX_MAX_FRAME_BYTES, MAX_MESSAGE_TYPE, maxPayloadBytes } from './framing.js';
import { MessageConnection, type MessageConnectionHooks, type MessageConnectionOptions } from './message-connection.js';
import { authenticatePeer } from './peer-certificate.js';
import { PendingRequest } from './pending-request.js';
import type { NodeCertificate } from './self-signed-certificate.js';
import { StreamStatus, encodeStreamHeader, isValidStreamPurpose, readExactly, readStreamHeader } from './stream-header.js';
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
} from './transport.js';

export const ALPN_MESSAGES = 'peercloud/1';
export const ALPN_STREAM = 'peercloud-stream/1';

export interface TlsTransportOptions {
  /** Largest frame (header + payload) sent or accepted on a message connection. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Default timeout of `request`. Default 10 s. */
  requestTimeoutMs?: number;
  /** TCP connect plus TLS handshake (and a stream's header), either direction. Default 5 s. */
  connectTimeoutMs?: number;
  /** A message connection with nothing in flight for this long is retired. Default 60 s. */
  idleTimeoutMs?: number;
  /** A retired connection still busy after this long is destroyed. Default 30 s. */
  drainTimeoutMs?: number;
  /** Message connections in use, both directions. Default 256. */
  maxConnections?: number;
  /** Inbound message connections in use. Default 192. */
  maxInboundConnections?: number;
  /** Bulk streams open, both directions. Default 32. */
  maxStreams?: number;
  /** Requests in flight per connection and direction. Default 64. */
  maxInFlightRequests?: number;
  /** Bytes buffered for writing on a message connection before we stop reading from it. Default 8 MiB. */
  maxWriteBufferBytes?: number;
  /** After ending a socket politely, destroy it if still open after this long. Default 1 s. */
  closeGraceMs?: number;
  logger?: TransportLogger;
}

type ResolvedOptions = Required<Omit<TlsTransportOptions, 'logger'>>;

const DEFAULTS: ResolvedOptions = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  drainTimeoutMs: 30_000,
  maxConnections: 256,
  maxInboundConnections: 192,
  maxStreams: 32,
  maxInFlightRequests: 64,
  maxWriteBufferBytes: 8 * 1024 * 1024,
  closeGraceMs: 1_000,
};

/** Socket errors that mean nothing is listening or reachable at the address. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EADDRNOTAVAIL', 'EHOSTDOWN']);

/** Whom to dial: a node id to pin the key to, or none when probing who is there. */
interface DialTarget {
  readonly host: string;
  readonly port: number;
  readonly nodeId?: string;
}

const silentLogger: TransportLogger = () => {};

/** A logger that throws must not break the connection handling that called it. */
function safeLogger(logger: TransportLogger): TransportLogger {
  return (level, message, fields) => {
    try {
      logger(level, message, fields);
    } catch {
      // nowhere better to report it
    }
  };
}

export class TlsTransport implements Transport {
  readonly nodeId: string;
  private readonly options: ResolvedOptions;
  private readonly log: TransportLogger;
  private readonly certificate: NodeCertificate;
  private readonly clientContext: tls.SecureContext;
  private readonly pool: ConnectionPool;
  private readonly connectionOptions: MessageConnectionOptions;
  private readonly connectionHooks: MessageConnectionHooks;
  private readonly events = new EventEmitter();
  private readonly counters: TransportStats = {
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
  /** Every socket we own, raw inbound or outbound TLS, until it closes: what close() waits for. */
  private readonly sockets = new Set<Socket>();
  /** Inbound raw sockets still in the TLS handshake, by remote address and port. */
  private readonly handshaking = new Map<string, Socket>();
  /** Outbound sockets still connecting or in the handshake. */
  private readonly dialing = new Set<tls.TLSSocket>();
  /** Authenticated TLS sockets still open, for live byte counts. */
  private readonly authenticated = new Set<tls.TLSSocket>();
  /** Open bulk streams (accepted by both sides). */
  private readonly streams = new Set<tls.TLSSocket>();
  /** Every stream connection from its handshake to its close: opening, open or being refused. */
  private readonly streamSockets = new Set<tls.TLSSocket>();
  /** Streams being opened or accepted, counted against maxStreams before they are open. */
  private streamsStarting = 0;
  private readonly pending = new Set<PendingRequest>();
  private server: tls.Server | undefined;
  private requestHandler: RequestHandler | undefined;
  private streamHandler: StreamHandler | undefined;
  private closing: Promise<void> | undefined;

  /**
   * A transport that can dial; call `listen` to accept. `certificate`: the identity's certificate
   * made earlier (the daemon keeps it in its data directory, src/node/node-certificate.ts); without
   * it one is made now (a few ms, and the X.509 library stays loaded). A RangeError if it is not for
   * the identity's key.
   */
  static async create(identity: NodeIdentity, options: TlsTransportOptions = {}, certificate?: NodeCertificate): Promise<TlsTransport> {
    if (certificate === undefined) {
      const { createNodeCertificate } = await import('./self-signed-certificate.js');
      return new TlsTransport(identity, await createNodeCertificate(identity), options);
    }
    if (!new X509Certificate(certificate.certPem).checkPrivateKey(identity.privateKey)) {
      throw new RangeError(`the certificate given is not for the key of node ${identity.nodeId}`);
    }
    return new TlsTransport(identity, certificate, options);
  }

  private constructor(identity: NodeIdentity, certificate: NodeCertificate, options: TlsTransportOptions) {
    this.nodeId = identity.nodeId;
    this.certificate = certificate;
    this.options = resolveOptions(options);
    this.log = safeLogger(options.logger ?? silentLogger);
    this.clientContext = tls.createSecureContext({
      key: certificate.keyPem,
      cert: certificate.certPem,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    });
    this.connectionOptions = {
      maxFrameBytes: this.options.maxFrameBytes,
      maxInFlightRequests: this.options.maxInFlightRequests,
      maxWriteBufferBytes: this.options.maxWriteBufferBytes,
      closeGraceMs: this.options.closeGraceMs,
    };
    this.connectionHooks = {
      requestHandler: () => this.requestHandler,
      retired: (connection, unsent) => this.pool.onRetired(connection, unsent),
      closed: (connection, reason, unsent) => this.pool.onClosed(connection, reason, unsent),
      stats: this.counters,
      log: this.log,
    };
    this.pool = new ConnectionPool(
      {
        maxConnections: this.options.maxConnections,
        maxInboundConnections: this.options.maxInboundConnections,
        idleTimeoutMs: this.options.idleTimeoutMs,
        drainTimeoutMs: this.options.drainTimeoutMs,
      },
      {
        dial: (peer) => this.dialMessageConnection(peer),
        redispatch: (call) => this.dispatch(call),
        opened: (connection) => {
          this.counters.connectionsOpen++;
          this.emit('connection-open', { peer: connection.peer, direction: connection.direction, kind: 'messages' });
        },
        closed: (connection, reason) => {
          this.counters.connectionsOpen--;
          if (reason !== undefined && reason.code !== 'CLOSED') {
            this.log('debug', `connection with ${connection.peer.nodeId} closed: ${reason.message}`, { peer: connection.peer.nodeId, code: reason.code });
          }
          this.emit('connection-close', { peer: connection.peer, direction: connection.direction, kind: 'messages', reason });
        },
        log: this.log,
      },
    );
  }

  async listen(address: ListenAddress): Promise<ListenAddress> {
    if (this.closing) throw new TransportError('CLOSED', 'transport is closed');
    if (this.server !== undefined) throw new RangeError('listen: the transport is already listening');
    if (typeof address?.host !== 'string' || !isPort(address.port, true)) {
      throw new RangeError(`listen: address must be {host, port 0..65535}, got ${JSON.stringify(address)}`);
    }
    const server = tls.createServer({
      key: this.certificate.keyPem,
      cert: this.certificate.certPem,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      requestCert: true,
      // No CA vouches for anyone: authentication is the key check in onSecureConnection.
      rejectUnauthorized: false,
      ALPNProtocols: [ALPN_MESSAGES, ALPN_STREAM],
      handshakeTimeout: this.options.connectTimeoutMs,
    });
    // A hard cap on raw inbound sockets, handshakes included, enforced before any TLS work.
    server.maxConnections = this.options.maxInboundConnections + this.options.maxStreams + 16;
    server.on('connection', (socket: Socket) => {
      this.track(socket);
      const key = socketKey(socket);
      this.handshaking.set(key, socket);
      socket.once('close', () => {
        if (this.handshaking.get(key) === socket) this.handshaking.delete(key);
      });
    });
    server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
      this.rejectConnection({ host: data?.remoteAddress ?? '', port: data?.remotePort ?? 0 },
        new TransportError('TOO_MANY_CONNECTIONS', `dropped: at the limit of ${server.maxConnections} inbound sockets`));
    });
    server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      this.rejectConnection(addressOf(socket), new TransportError('HANDSHAKE_FAILED', `TLS handshake failed: ${err.message}`, { cause: err }));
      // With a listener here, Node leaves the socket to us (a handshake timeout would linger).
      socket.destroy();
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      try {
        this.onSecureConnection(socket);
      } catch (err) {
        // A bug here must cost one connection, not the process.
        this.log('warn', `failed to take an inbound connection: ${err instanceof Error ? err.message : String(err)}`, { error: err });
        socket.destroy();
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server = undefined;
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host: address.host, port: address.port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    // From here on, server errors (e.g. EMFILE when accepting) are logged, never thrown.
    server.on('error', (err: Error) => this.log('warn', `transport server error: ${err.message}`, { error: err }));
    const bound = server.address();
    if (bound === null || typeof bound === 'string') throw new Error('listen: server has no TCP address');
    return { host: bound.address, port: bound.port };
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  onStream(handler: StreamHandler): void {
    this.streamHandler = handler;
  }

  async probe(address: NetworkAddress, options: ProbeOptions = {}): Promise<RemotePeer> {
    if (typeof address?.host !== 'string' || address.host === '') throw new RangeError('probe: host must be a non-empty string');
    if (!isPort(address.port, false)) throw new RangeError(`probe: port must be an integer in 1..65535, got ${address?.port}`);
    const timeoutMs = options.timeoutMs ?? this.options.connectTimeoutMs;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`probe: timeoutMs must be a positive number, got ${timeoutMs}`);
    if (this.closing) throw new TransportError('CLOSED', 'transport is closed');
    const where = `${address.host}:${address.port}`;
    // One signal for the three ways to give up: our deadline, the caller's signal, and close().
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(new TransportError('TIMEOUT', `probing ${where} took longer than ${timeoutMs} ms`)), timeoutMs);
    const onCallerAbort = (): void => attempt.abort(new TransportError('ABORTED', `probing ${where} was aborted`));
    if (options.signal?.aborted) onCallerAbort();
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      // Offering the message protocol means only a peercloud node completes the handshake.
      const { socket, remote } = await this.dialTls(address, ALPN_MESSAGES, attempt.signal);
      // We only wanted to know who is there: leave politely, and do not wait for it.
      this.endSocket(socket);
      if (this.closing) throw new TransportError('CLOSED', 'transport closed');
      return remote;
    } catch (err) {
      if (this.closing && !(err instanceof TransportError && err.code === 'CLOSED')) throw new TransportError('CLOSED', 'transport closed', { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  async request(peer: PeerAddress, type: number, payload: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    this.checkPeer(peer, 'request');
    if (!Number.isInteger(type) || type < 0 || type > MAX_MESSAGE_TYPE) throw new RangeError(`request: type must be an integer in 0..${MAX_MESSAGE_TYPE}, got ${type}`);
    if (!(payload instanceof Uint8Array)) throw new RangeError('request: payload must be a Uint8Array');
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`request: timeoutMs must be a positive number, got ${timeoutMs}`);
    if (this.closing) throw new TransportError('CLOSED', 'transport is closed', { peer: peer.nodeId });
    this.counters.requestsSent++;
    if (payload.length > maxPayloadBytes(this.options.maxFrameBytes)) {
      this.counters.requestsFailed++;
      throw new TransportError('FRAME_TOO_LARGE', `request payload of ${payload.length} bytes exceeds the maximum of ${maxPayloadBytes(this.options.maxFrameBytes)}`, { peer: peer.nodeId });
    }
    const call = new PendingRequest(peer, type, payload, timeoutMs, options.signal);
    this.pending.add(call);
    this.dispatch(call);
    try {
      return await call.promise;
    } catch (err) {
      this.counters.requestsFailed++;
      throw err;
    } finally {
      this.pending.delete(call);
    }
  }

  async openStream(peer: PeerAddress, purpose: string): Promise<Duplex> {
    this.checkPeer(peer, 'openStream');
    if (!isValidStreamPurpose(purpose)) throw new RangeError(`openStream: invalid purpose ${JSON.stringify(purpose)} (1-64 chars of letters, digits, ._:/-)`);
    if (this.closing) throw new TransportError('CLOSED', 'transport is closed', { peer: peer.nodeId });
    if (this.streams.size + this.streamsStarting >= this.options.maxStreams) {
      throw new TransportError('TOO_MANY_CONNECTIONS', `at the limit of ${this.options.maxStreams} streams`, { peer: peer.nodeId });
    }
    this.streamsStarting++;
    let socket: tls.TLSSocket | undefined;
    try {
      const dialled = await this.dialTls(peer, ALPN_STREAM);
      socket = dialled.socket;
      this.trackStreamSocket(socket);
      socket.write(encodeStreamHeader(purpose));
      const status = (await readExactly(socket, 1, this.options.connectTimeoutMs))[0];
      if (status !== StreamStatus.Accepted) throw streamRefusal(status, peer.nodeId, purpose);
      if (this.closing) throw new TransportError('CLOSED', 'transport is closed', { peer: peer.nodeId });
      this.openedStream(socket, dialled.remote, 'outbound');
      return socket;
    } catch (err) {
      socket?.destroy();
      if (this.closing) throw new TransportError('CLOSED', 'transport closed', { peer: peer.nodeId, cause: err });
      throw err instanceof TransportError ? err : new TransportError('CONNECTION_LOST', `stream to ${peer.nodeId} failed: ${String(err)}`, { peer: peer.nodeId, cause: err });
    } finally {
      this.streamsStarting--;
    }
  }

  stats(): TransportStats {
    const s = { ...this.counters };
    for (const socket of this.authenticated) {
      s.bytesIn += socket.bytesRead;
      s.bytesOut += socket.bytesWritten;
    }
    return s;
  }

  on<K extends keyof TransportEvents>(event: K, listener: TransportEventListener<K>): void {
    this.events.on(event, listener);
  }

  off<K extends keyof TransportEvents>(event: K, listener: TransportEventListener<K>): void {
    this.events.off(event, listener);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const closed = new TransportError('CLOSED', 'transport closed');
    for (const call of this.pending) call.reject(closed);
    this.pool.close();
    for (const socket of this.streamSockets) socket.destroy();
    const server = this.server;
    const serverClosed = server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    // Handshakes in progress, either way, are cut short.
    for (const socket of this.handshaking.values()) socket.destroy();
    for (const socket of this.dialing) socket.destroy();
    const allClosed = Promise.all([...this.sockets].map((s) => (s.closed ? undefined : new Promise((resolve) => s.once('close', resolve)))));
    // Message connections were ended politely; whatever has not closed within the grace goes now.
    const grace = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, this.options.closeGraceMs);
    await allClosed;
    clearTimeout(grace);
    await serverClosed;
  }

  private dispatch(call: PendingRequest): void {
    if (call.settled) return;
    if (this.closing) {
      call.reject(new TransportError('CLOSED', 'transport closed', { peer: call.peer.nodeId }));
      return;
    }
    // Handed on each time its connection went away before it was sent; a bound against ping-pong.
    if (++call.redispatches > 5) {
      call.reject(new TransportError('CONNECTION_LOST', `connections to ${call.peer.nodeId} keep closing`, { peer: call.peer.nodeId }));
      return;
    }
    this.pool.connect(call.peer).then(
      (connection) => {
        if (!call.settled && !connection.send(call)) this.dispatch(call);
      },
      (err: unknown) => call.reject(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private async dialMessageConnection(peer: PeerAddress): Promise<MessageConnection> {
    const { socket, remote } = await this.dialTls(peer, ALPN_MESSAGES);
    if (this.closing) {
      socket.destroy();
      throw new TransportError('CLOSED', 'transport closed', { peer: peer.nodeId });
    }
    this.counters.connectionsDialled++;
    this.trackAuthenticated(socket);
    return new MessageConnection(socket, remote, 'outbound', this.nodeId, this.connectionOptions, this.connectionHooks);
  }

  /**
   * A TLS connection to `target` whose key was checked against `target.nodeId`, or, with no node
   * id (a probe), whose key was only checked to be an Ed25519 key. `signal` aborts the attempt
   * with its reason, which must be a TransportError.
   */
  private dialTls(target: DialTarget, alpn: string, signal?: AbortSignal): Promise<{ socket: tls.TLSSocket; remote: RemotePeer }> {
    const where = `${target.host}:${target.port}`;
    const who = target.nodeId === undefined ? where : `${target.nodeId} at ${where}`;
    const peer = target.nodeId;
    return new Promise((resolve, reject) => {
      const connectOptions: tls.ConnectionOptions = {
        host: target.host,
        port: target.port,
        secureContext: this.clientContext,
        minVersion: 'TLSv1.3',
        maxVersion: 'TLSv1.3',
        ALPNProtocols: [alpn],
        // The peer's certificate is self-signed: we check its key against the node id below.
        rejectUnauthorized: false,
        timeout: this.options.connectTimeoutMs,
      };
      const socket = tls.connect(connectOptions);
      this.track(socket);
      this.dialing.add(socket);
      let settled = false;
      const onAbort = (): void => {
        const reason: unknown = signal?.reason;
        fail(reason instanceof TransportError ? reason : new TransportError('ABORTED', `connecting to ${who} was aborted`, { peer }));
      };
      const fail = (err: TransportError): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        this.dialing.delete(socket);
        socket.destroy();
        reject(err);
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return; // after the handshake the connection's owner handles errors
        const code = err.code !== undefined && UNREACHABLE_CODES.has(err.code) ? 'UNREACHABLE' : 'HANDSHAKE_FAILED';
        fail(new TransportError(code, `cannot connect to ${who}: ${err.message}`, { peer, cause: err }));
      });
      socket.once('timeout', () => {
        fail(new TransportError('UNREACHABLE', `no TLS session with ${where} within ${this.options.connectTimeoutMs} ms`, { peer }));
      });
      socket.once('close', () => {
        // Also fires when an established connection closes, long after: no error to make then.
        if (!settled) fail(new TransportError('HANDSHAKE_FAILED', `${where} closed the connection during the handshake`, { peer }));
      });
      socket.once('secureConnect', () => {
        if (settled) return;
        const remote = authenticatePeer(socket);
        if (remote instanceof TransportError) {
          fail(new TransportError('HANDSHAKE_FAILED', `${where}: ${remote.message}`, { peer }));
          return;
        }
        if (target.nodeId !== undefined && remote.nodeId !== target.nodeId) {
          this.log('warn', `${where} is ${remote.nodeId}, not ${target.nodeId} as we were told`, { peer, actual: remote.nodeId });
          fail(new TransportError('PEER_KEY_MISMATCH', `${where} proved the key of ${remote.nodeId}, not of ${target.nodeId}`, { peer }));
          return;
        }
        if (socket.alpnProtocol !== alpn) {
          fail(new TransportError('HANDSHAKE_FAILED', `${where} did not agree to ${alpn}`, { peer }));
          return;
        }
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        this.dialing.delete(socket);
        socket.setTimeout(0);
        resolve({ socket, remote });
      });
    });
  }

  private onSecureConnection(socket: tls.TLSSocket): void {
    // The raw socket under it is no longer a handshake in progress: the TLS socket owns it now.
    this.handshaking.delete(socketKey(socket));
    socket.on('error', (err: Error) => this.log('debug', `inbound socket error: ${err.message}`, { remoteAddress: addressOf(socket) }));
    const remote = authenticatePeer(socket);
    if (remote instanceof TransportError) {
      this.rejectInbound(socket, remote);
      return;
    }
    if (remote.nodeId === this.nodeId) {
      this.rejectInbound(socket, new TransportError('HANDSHAKE_FAILED', 'peer presents our own key'));
      return;
    }
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (socket.alpnProtocol === ALPN_MESSAGES) {
      const refusal = this.pool.admitInbound();
      if (refusal !== undefined) {
        this.rejectInbound(socket, refusal);
        return;
      }
      this.counters.connectionsAccepted++;
      this.trackAuthenticated(socket);
      this.pool.adopt(new MessageConnection(socket, remote, 'inbound', this.nodeId, this.connectionOptions, this.connectionHooks));
    } else if (socket.alpnProtocol === ALPN_STREAM) {
      this.trackStreamSocket(socket);
      this.acceptStream(socket, remote).catch((err: unknown) => {
        this.log('warn', `failed to accept a stream from ${remote.nodeId}: ${err instanceof Error ? err.message : String(err)}`, { peer: remote.nodeId });
        socket.destroy();
      });
    } else {
      this.rejectInbound(socket, new TransportError('HANDSHAKE_FAILED', 'client offered no peercloud protocol (ALPN)'));
    }
  }

  private async acceptStream(socket: tls.TLSSocket, remote: RemotePeer): Promise<void> {
    if (this.streams.size + this.streamsStarting >= this.options.maxStreams) {
      this.refuseStream(socket, StreamStatus.Busy);
      this.rejectConnection(addressOf(socket), new TransportError('TOO_MANY_CONNECTIONS', `at the limit of ${this.options.maxStreams} streams`));
      return;
    }
    this.streamsStarting++;
    let purpose: string;
    try {
      purpose = await readStreamHeader(socket, this.options.connectTimeoutMs);
    } catch (err) {
      const reason = err instanceof TransportError ? err : new TransportError('PROTOCOL_ERROR', String(err));
      if (reason.code === 'PROTOCOL_ERROR') {
        this.counters.framesRejected++;
        this.refuseStream(socket, StreamStatus.BadHeader);
      } else {
        socket.destroy();
      }
      this.log('warn', `refused stream from ${remote.nodeId}: ${reason.message}`, { peer: remote.nodeId, code: reason.code });
      return;
    } finally {
      this.streamsStarting--;
    }
    const handler = this.streamHandler;
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (handler === undefined) {
      this.refuseStream(socket, StreamStatus.NoHandler);
      return;
    }
    socket.write(Buffer.from([StreamStatus.Accepted]));
    this.openedStream(socket, remote, 'inbound');
    try {
      handler(remote, purpose, socket);
    } catch (err) {
      this.log('warn', `stream handler for ${purpose} from ${remote.nodeId} threw: ${err instanceof Error ? err.message : String(err)}`, { peer: remote.nodeId });
      socket.destroy();
    }
  }

  private refuseStream(socket: tls.TLSSocket, status: StreamStatus): void {
    this.endSocket(socket, Buffer.from([status]));
  }

  /**
   * Ends a socket politely after writing `last`: discards whatever the other side still sends, so
   * its close reaches us, and destroys the socket if it is still open after the close grace.
   */
  private endSocket(socket: tls.TLSSocket, last?: Uint8Array): void {
    if (last === undefined) socket.end();
    else socket.end(last);
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), this.options.closeGraceMs);
    socket.once('close', () => clearTimeout(timer));
  }

  private openedStream(socket: tls.TLSSocket, remote: RemotePeer, direction: 'inbound' | 'outbound'): void {
    this.streams.add(socket);
    this.trackAuthenticated(socket);
    this.counters.streamsOpen++;
    const info: ConnectionInfo = { peer: remote, direction, kind: 'stream' };
    // The stream's user may not listen for errors; an unheard 'error' would crash the process.
    socket.on('error', (err: Error) => this.log('debug', `stream with ${remote.nodeId} failed: ${err.message}`, { peer: remote.nodeId }));
    socket.once('close', () => {
      this.streams.delete(socket);
      this.counters.streamsOpen--;
      this.emit('connection-close', { ...info, reason: undefined });
    });
    this.emit('connection-open', info);
  }

  private rejectInbound(socket: tls.TLSSocket, reason: TransportError): void {
    this.rejectConnection(addressOf(socket), reason);
    socket.destroy();
  }

  private rejectConnection(remoteAddress: { host: string; port: number }, reason: TransportError): void {
    this.counters.connectionsRejected++;
    this.log('warn', `rejected connection from ${remoteAddress.host}:${remoteAddress.port}: ${reason.message}`, { remoteAddress, code: reason.code });
    this.emit('connection-rejected', { remoteAddress, reason });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private trackStreamSocket(socket: tls.TLSSocket): void {
    this.streamSockets.add(socket);
    socket.once('close', () => this.streamSockets.delete(socket));
  }

  private trackAuthenticated(socket: tls.TLSSocket): void {
    if (this.authenticated.has(socket)) return;
    this.authenticated.add(socket);
    socket.once('close', () => {
      this.authenticated.delete(socket);
      this.counters.bytesIn += socket.bytesRead;
      this.counters.bytesOut += socket.bytesWritten;
    });
  }

  private checkPeer(peer: PeerAddress, what: string): void {
    if (!isValidNodeId(peer?.nodeId)) throw new RangeError(`${what}: invalid peer node id ${JSON.stringify(peer?.nodeId)}`);
    if (typeof peer.host !== 'string' || peer.host === '') throw new RangeError(`${what}: peer host must be a non-empty string`);
    if (!isPort(peer.port, false)) throw new RangeError(`${what}: peer port must be an integer in 1..65535, got ${peer.port}`);
    if (peer.nodeId === this.nodeId) throw new RangeError(`${what}: ${peer.nodeId} is this node`);
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

function resolveOptions(options: TlsTransportOptions): ResolvedOptions {
  const resolved: ResolvedOptions = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof ResolvedOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`TlsTransport: ${key} must be a positive number, got ${String(value)}`);
    }
    resolved[key] = value;
  }
  if (resolved.maxFrameBytes <= FRAME_HEADER_BYTES || resolved.maxFrameBytes > MAX_MAX_FRAME_BYTES) {
    throw new RangeError(`TlsTransport: maxFrameBytes must be in ${FRAME_HEADER_BYTES + 1}..${MAX_MAX_FRAME_BYTES}, got ${resolved.maxFrameBytes}`);
  }
  return resolved;
}

function streamRefusal(status: number | undefined, peer: string, purpose: string): TransportError {
  switch (status) {
    case StreamStatus.NoHandler:
      return new TransportError('NO_HANDLER', `peer ${peer} has no handler for stream ${purpose}`, { peer });
    case StreamStatus.Busy:
      return new TransportError('BUSY', `peer ${peer} is at its limit of streams`, { peer });
    case StreamStatus.BadHeader:
      return new TransportError('PROTOCOL_ERROR', `peer ${peer} rejected our stream header`, { peer });
    default:
      return new TransportError('PROTOCOL_ERROR', `peer ${peer} answered stream ${purpose} with unknown status ${status}`, { peer });
  }
}

function isPort(port: unknown, allowZero: boolean): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= (allowZero ? 0 : 1) && port <= 65535;
}

/** Identifies a live inbound TCP connection: the same for its raw socket and its TLS socket. */
function socketKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

function addressOf(socket: Socket | undefined): { host: string; port: number } {
  return { host: socket?.remoteAddress ?? '', port: socket?.remotePort ?? 0 };
}
