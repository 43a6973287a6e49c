/**
 * What the API serves, as the node runtime provides it. The API never reaches into the node: the
 * runtime implements this interface over its protocols, directory, monitor and transport, and
 * tests implement it with fixed data. Methods may answer synchronously or with a promise; they may
 * throw an ApiError to choose the HTTP status (e.g. 503 while the transport is not started), and
 * anything else they throw becomes a 500 without taking the server down.
 */
import type { TransportStats } from '../network/transport.js';
import type { HealthCheck, NetworkAggregates, NodeInfo, PeerView } from './schemas.js';

export type MaybePromise<T> = T | Promise<T>;

export interface NodeStatusSource {
  /** Identity, addresses, version, uptime, attributes, labels. */
  nodeInfo(): MaybePromise<NodeInfo>;
  /** The current peer sampling view. */
  peers(): MaybePromise<PeerView>;
  /** The latest network aggregates. */
  network(): MaybePromise<NetworkAggregates>;
  /** Transport counters, or null while there is no transport (starting, stopped). */
  transportStats(): MaybePromise<TransportStats | null>;
  /** Readiness checks (e.g. "transport listening", "view not empty"); ready when all pass. */
  health(): MaybePromise<readonly HealthCheck[]>;
}

export type ApiErrorCode =
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'URI_TOO_LONG'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'HEADERS_TOO_LARGE'
  | 'INTERNAL'
  | 'UNAVAILABLE';

/** An error with the HTTP status and code the client should see. */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: ApiErrorCode;
  constructor(statusCode: number, code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
  }
}
