/**
 * The contract between the daemon and the network: authenticated request/response messages and
 * bulk byte streams between nodes named by their node id.
 *
 * Implementations: `TlsTransport` (TLS 1.3, mutual authentication with Ed25519 certificates), the
 * simulator's network, and later a NAT-traversing transport. Nothing here is specific to TLS: a
 * transport only promises that `from.nodeId` in a handler is the node that holds the private key of
 * `from.publicKey`, and that a request to `peer` reaches the node that holds the key `peer.nodeId`
 * was derived from, or fails.
 */
import type { Duplex } from 'node:stream';

/** Where to reach a node, and who it must prove to be. */
export interface PeerAddress {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
}

/** A local address to listen on; port 0 picks a free one. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** The authenticated remote end of a request or stream. */
export interface RemotePeer {
  readonly nodeId: string;
  /** Raw 32-byte Ed25519 public key; `nodeId` is derived from it. */
  readonly publicKey: Uint8Array;
  /** The network address the connection came from (not necessarily the peer's listening address). */
  readonly remoteAddress: { readonly host: string; readonly port: number };
}

/** A network address alone, with no claim about who answers there. */
export interface NetworkAddress {
  readonly host: string;
  readonly port: number;
}

export interface ProbeOptions {
  /** Give up after this long, connection set-up included (default: the transport's connect timeout). */
  timeoutMs?: number;
  /** Aborting rejects the probe with ABORTED. */
  signal?: AbortSignal;
}

export interface RequestOptions {
  /** Give up after this long, counting connection set-up and queueing (default: the transport's). */
  timeoutMs?: number;
  /** Aborting rejects the request with ABORTED. */
  signal?: AbortSignal;
}

/**
 * Answers one inbound request. What it returns (or resolves to) is the response payload; a throw
 * or rejection reaches the caller as a REMOTE_ERROR carrying the error's message.
 */
export type RequestHandler = (from: RemotePeer, type: number, payload: Uint8Array) => Promise<Uint8Array> | Uint8Array;

/**
 * Takes an inbound bulk stream. The handler owns the stream: it must read it (or destroy it) and
 * end or destroy it when done; errors on the stream are emitted on it, as for any node stream.
 *
 * A stream is not half-closable: when one side ends it, the other side reads what was sent up to
 * the end and then the stream closes. So a side that still expects data must not `end()` first
 * (over TLS, data already on its way to a side that has ended can be discarded). The usual shape:
 * the opener writes its request without ending, the acceptor answers and ends, the opener reads to
 * the end.
 */
export type StreamHandler = (from: RemotePeer, purpose: string, stream: Duplex) => void;

export type TransportErrorCode =
  /** The request (or connection set-up) did not finish within its timeout. */
  | 'TIMEOUT'
  /** No connection could be made to the address (refused, unroutable, connect timeout). */
  | 'UNREACHABLE'
  /** The node at the address proved a key that does not hash to the node id we asked for. */
  | 'PEER_KEY_MISMATCH'
  /** A connection was made but authentication failed (no certificate, wrong key type, wrong protocol). */
  | 'HANDSHAKE_FAILED'
  /** A message larger than the maximum frame size, to be sent or received. */
  | 'FRAME_TOO_LARGE'
  /** The peer sent something that breaks the wire protocol. */
  | 'PROTOCOL_ERROR'
  /** The local transport is closed (or was closed while the operation was pending). */
  | 'CLOSED'
  /** The connection carrying the operation went away before it finished. */
  | 'CONNECTION_LOST'
  /** The remote handler failed; the message is the remote error's. */
  | 'REMOTE_ERROR'
  /** The remote node has no handler for requests or for this stream purpose. */
  | 'NO_HANDLER'
  /** The remote node refused the work because it is at a limit (in-flight requests, streams). */
  | 'BUSY'
  /** A local limit on connections or streams was reached. */
  | 'TOO_MANY_CONNECTIONS'
  /** The caller's AbortSignal fired. */
  | 'ABORTED';

export class TransportError extends Error {
  readonly code: TransportErrorCode;
  /** The node id of the peer concerned, when there is one. */
  readonly peer: string | undefined;
  constructor(code: TransportErrorCode, message: string, options: { peer?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransportError';
    this.code = code;
    this.peer = options.peer;
  }
}

/** Where a transport reports what it did to whom; the daemon plugs its logger in. */
export type TransportLogger = (level: 'debug' | 'info' | 'warn', message: string, fields?: Readonly<Record<string, unknown>>) => void;

/** Counters since the transport was created; gauges are marked. */
export interface TransportStats {
  /** Gauge: authenticated message connections open (inbound + outbound). */
  connectionsOpen: number;
  /** Gauge: bulk streams open. */
  streamsOpen: number;
  connectionsAccepted: number;
  connectionsDialled: number;
  /** Connections closed before or at authentication: failed handshakes, wrong keys, limits. */
  connectionsRejected: number;
  /** Frames that made us close a connection: oversized, malformed, truncated. */
  framesRejected: number;
  framesIn: number;
  framesOut: number;
  /** Payload bytes through authenticated connections (frames and stream data, before encryption), in and out. */
  bytesIn: number;
  bytesOut: number;
  requestsSent: number;
  /** Requests we sent that ended in an error of any kind. */
  requestsFailed: number;
  requestsHandled: number;
}

/** A connection as events describe it. */
export interface ConnectionInfo {
  /** The authenticated peer; undefined when the connection closed before authentication. */
  readonly peer: RemotePeer | undefined;
  readonly direction: 'inbound' | 'outbound';
  readonly kind: 'messages' | 'stream';
}

export interface TransportEvents {
  'connection-open': ConnectionInfo;
  /** `reason` is undefined for an orderly close. */
  'connection-close': ConnectionInfo & { reason: TransportError | undefined };
  /** A connection was refused before it was usable (handshake, authentication, limits). */
  'connection-rejected': { remoteAddress: { host: string; port: number }; reason: TransportError };
}

export type TransportEventListener<K extends keyof TransportEvents> = (event: TransportEvents[K]) => void;

export interface Transport {
  /** This node's id. */
  readonly nodeId: string;
  /** Starts accepting connections; resolves to the bound address (with the real port for port 0). */
  listen(address: ListenAddress): Promise<ListenAddress>;
  /**
   * Stops listening and ends every connection and stream; pending requests fail with CLOSED. Once
   * it resolves the transport holds no sockets or timers. Idempotent.
   */
  close(): Promise<void>;
  /**
   * Sends a request to `peer` over the one long-lived connection to it (made on demand) and
   * resolves to the response payload. Rejects with a TransportError. `type` is 0..65535.
   */
  request(peer: PeerAddress, type: number, payload: Uint8Array, options?: RequestOptions): Promise<Uint8Array>;
  /**
   * Finds out which node answers at `address` without knowing its id beforehand: connects, has the
   * node prove its key exactly as for a request, and resolves to who it is; the connection is then
   * closed. Nothing is pinned or remembered, so this is trust on first use: the answer is whoever
   * holds the address (or the path to it) right now, and the caller decides whether to trust it;
   * later requests to the returned id are pinned to its key as usual. May return this node's own
   * id (an address of ours). Rejects with a TransportError: UNREACHABLE, TIMEOUT, HANDSHAKE_FAILED
   * (the far end is not a peercloud node of this transport's kind), CLOSED, ABORTED.
   */
  probe(address: NetworkAddress, options?: ProbeOptions): Promise<RemotePeer>;
  /** Sets the handler of inbound requests (one per transport; a later call replaces it). */
  onRequest(handler: RequestHandler): void;
  /**
   * Opens a bulk byte stream to `peer`, resolved once the peer accepted it for `purpose` (1-64
   * characters of letters, digits and `._:/-`). Writes respect backpressure (`write()` returns false,
   * then 'drain'); see StreamHandler for how a stream ends.
   */
  openStream(peer: PeerAddress, purpose: string): Promise<Duplex>;
  /** Sets the handler of inbound streams (one per transport; a later call replaces it). */
  onStream(handler: StreamHandler): void;
  stats(): TransportStats;
  on<K extends keyof TransportEvents>(event: K, listener: TransportEventListener<K>): void;
  off<K extends keyof TransportEvents>(event: K, listener: TransportEventListener<K>): void;
}
