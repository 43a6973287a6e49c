/**
 * The message connections of a transport, at most one in use per peer.
 *
 * - Dials are made on demand and coalesce: concurrent requests to a peer share one dial.
 * - Inbound and outbound connections are equal: either side sends requests on either.
 * - When two connections join the same pair (both dialled at once, or a reconnect), both sides keep
 *   the one dialled by the smaller node id (on a tie, the newer) and retire the other with GOAWAY,
 *   so they agree without talking about it, and no request on the loser is lost.
 * - Idle connections are retired after `idleTimeoutMs`; retired ones that do not finish draining
 *   within `drainTimeoutMs` are destroyed; a frame that stalls half-way is a protocol error.
 * - Limits: connections in use (`maxConnections`), of which inbound (`maxInboundConnections`). At a
 *   limit the least recently used idle connection is retired to make room, else the new one is refused.
 */
import type { MessageConnection } from './message-connection.js';
import type { PendingRequest } from './pending-request.js';
import { type PeerAddress, TransportError, type TransportLogger } from './transport.js';

export interface ConnectionPoolOptions {
  maxConnections: number;
  maxInboundConnections: number;
  idleTimeoutMs: number;
  drainTimeoutMs: number;
}

export interface ConnectionPoolHooks {
  /** Makes and authenticates an outbound connection (it is adopted by the pool here). */
  dial(peer: PeerAddress): Promise<MessageConnection>;
  /** A request that was queued on a connection that went away unsent: send it again. */
  redispatch(call: PendingRequest): void;
  opened(connection: MessageConnection): void;
  closed(connection: MessageConnection, reason: TransportError | undefined): void;
  readonly log: TransportLogger;
}

/**
 * Connections one peer may hold open at once, draining ones included. Beyond it the oldest that is
 * not in use is destroyed, so a peer that keeps reconnecting cannot pile up draining connections.
 */
export const MAX_CONNECTIONS_PER_PEER = 3;

interface PeerEntry {
  /** The connection new requests to this peer go to. */
  active: MessageConnection | undefined;
  dialing: Promise<MessageConnection> | undefined;
}

export class ConnectionPool {
  private readonly options: ConnectionPoolOptions;
  private readonly hooks: ConnectionPoolHooks;
  private readonly peers = new Map<string, PeerEntry>();
  /** Every open connection, usable or draining. */
  private readonly connections = new Set<MessageConnection>();
  private dialsInProgress = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: ConnectionPoolOptions, hooks: ConnectionPoolHooks) {
    this.options = options;
    this.hooks = hooks;
    // Sweep often enough that idle and drain deadlines are honoured within a quarter.
    const period = Math.max(10, Math.min(options.idleTimeoutMs, options.drainTimeoutMs) / 4);
    this.sweepTimer = setInterval(() => this.sweep(), period);
    this.sweepTimer.unref();
  }

  /** A usable connection to `peer`, dialling one if there is none. */
  async connect(peer: PeerAddress): Promise<MessageConnection> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.closed) throw new TransportError('CLOSED', 'transport is closed', { peer: peer.nodeId });
      const entry = this.entry(peer.nodeId);
      if (entry.active?.usable) return entry.active;
      if (entry.dialing === undefined) entry.dialing = this.startDial(peer, entry);
      try {
        await entry.dialing;
      } catch (err) {
        // An inbound connection from the same peer may have arrived while our dial failed.
        const active = this.peers.get(peer.nodeId)?.active;
        if (active?.usable) return active;
        throw err;
      }
      const active = this.peers.get(peer.nodeId)?.active;
      if (active?.usable) return active;
      // The new connection was retired or lost before we got to use it: try again.
    }
    throw new TransportError('CONNECTION_LOST', `connections to ${peer.nodeId} keep closing`, { peer: peer.nodeId });
  }

  /** Whether an inbound connection may be accepted now (making room if needed). */
  admitInbound(): TransportError | undefined {
    const usable = this.usableConnections();
    const inbound = usable.filter((c) => c.direction === 'inbound');
    if (inbound.length >= this.options.maxInboundConnections && !this.retireLeastRecentlyUsed(inbound)) {
      return new TransportError('TOO_MANY_CONNECTIONS', `at the limit of ${this.options.maxInboundConnections} inbound connections`);
    }
    if (usable.length + this.dialsInProgress >= this.options.maxConnections && !this.retireLeastRecentlyUsed(usable)) {
      return new TransportError('TOO_MANY_CONNECTIONS', `at the limit of ${this.options.maxConnections} connections`);
    }
    return undefined;
  }

  /** Takes an authenticated connection (inbound or just dialled) into the pool. */
  adopt(connection: MessageConnection): void {
    if (this.closed) {
      connection.destroy(new TransportError('CLOSED', 'transport is closed'));
      return;
    }
    this.connections.add(connection);
    this.hooks.opened(connection);
    const entry = this.entry(connection.peer.nodeId);
    const current = entry.active;
    if (current === undefined || !current.usable) {
      entry.active = connection;
    } else if (preferred(connection, current) === connection) {
      entry.active = connection;
      current.retire();
    } else {
      connection.retire();
    }
    this.limitPerPeer(connection.peer.nodeId, entry.active);
  }

  private limitPerPeer(nodeId: string, keep: MessageConnection | undefined): void {
    const mine = [...this.connections].filter((c) => c.peer.nodeId === nodeId && c !== keep && !c.closed);
    let excess = mine.length + (keep === undefined ? 0 : 1) - MAX_CONNECTIONS_PER_PEER;
    // Oldest first: Set iteration follows insertion order.
    for (const c of mine) {
      if (excess <= 0) break;
      c.destroy(new TransportError('TOO_MANY_CONNECTIONS', `${nodeId} holds more than ${MAX_CONNECTIONS_PER_PEER} connections`, { peer: nodeId }));
      excess--;
    }
  }

  /** Called by the transport for each connection's retirement (GOAWAY sent). */
  onRetired(connection: MessageConnection, unsent: PendingRequest[]): void {
    const entry = this.peers.get(connection.peer.nodeId);
    if (entry?.active === connection) entry.active = undefined;
    for (const call of unsent) this.hooks.redispatch(call);
  }

  /** Called by the transport when a connection has closed. */
  onClosed(connection: MessageConnection, reason: TransportError | undefined, unsent: PendingRequest[]): void {
    this.connections.delete(connection);
    const entry = this.peers.get(connection.peer.nodeId);
    if (entry !== undefined) {
      if (entry.active === connection) entry.active = undefined;
      if (entry.active === undefined && entry.dialing === undefined) this.peers.delete(connection.peer.nodeId);
    }
    this.hooks.closed(connection, reason);
    for (const call of unsent) this.hooks.redispatch(call);
  }

  /** Destroys every connection; further connects fail with CLOSED. */
  close(): void {
    this.closed = true;
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const connection of this.connections) connection.end(new TransportError('CLOSED', 'transport closed'));
  }

  private entry(nodeId: string): PeerEntry {
    let entry = this.peers.get(nodeId);
    if (entry === undefined) {
      entry = { active: undefined, dialing: undefined };
      this.peers.set(nodeId, entry);
    }
    return entry;
  }

  private async startDial(peer: PeerAddress, entry: PeerEntry): Promise<MessageConnection> {
    try {
      const usable = this.usableConnections();
      if (usable.length + this.dialsInProgress >= this.options.maxConnections && !this.retireLeastRecentlyUsed(usable)) {
        throw new TransportError('TOO_MANY_CONNECTIONS', `at the limit of ${this.options.maxConnections} connections; none idle`, { peer: peer.nodeId });
      }
      this.dialsInProgress++;
      try {
        const connection = await this.hooks.dial(peer);
        this.adopt(connection);
        return connection;
      } finally {
        this.dialsInProgress--;
      }
    } finally {
      entry.dialing = undefined;
    }
  }

  private usableConnections(): MessageConnection[] {
    return [...this.connections].filter((c) => c.usable);
  }

  private retireLeastRecentlyUsed(candidates: MessageConnection[]): boolean {
    let victim: MessageConnection | undefined;
    for (const c of candidates) {
      if (c.usable && c.idle && (victim === undefined || c.lastActivity < victim.lastActivity)) victim = c;
    }
    if (victim === undefined) return false;
    this.hooks.log('debug', `retiring idle connection with ${victim.peer.nodeId} to make room`, { peer: victim.peer.nodeId });
    victim.retire();
    return true;
  }

  private sweep(): void {
    const now = Date.now();
    for (const c of this.connections) {
      if (c.closed) continue;
      if (c.midFrame && now - c.lastBytesIn >= this.options.idleTimeoutMs) {
        c.reject(new TransportError('PROTOCOL_ERROR', `frame stalled: no bytes for ${this.options.idleTimeoutMs} ms in the middle of a frame`));
      } else if (c.retiredAt !== undefined) {
        if (now - c.retiredAt >= this.options.drainTimeoutMs) {
          c.destroy(new TransportError('TIMEOUT', `connection with ${c.peer.nodeId} did not drain within ${this.options.drainTimeoutMs} ms`, { peer: c.peer.nodeId }));
        }
      } else if (c.usable && c.idle && now - c.lastActivity >= this.options.idleTimeoutMs) {
        c.retire();
      }
    }
  }
}

/**
 * Of two connections between the same pair, the one both sides keep: dialled by the smaller node
 * id, or if both were dialled by the same side, the newer (the older one is likely stale).
 */
function preferred(newer: MessageConnection, older: MessageConnection): MessageConnection {
  if (newer.dialerId === older.dialerId) return newer;
  return newer.dialerId < older.dialerId ? newer : older;
}
