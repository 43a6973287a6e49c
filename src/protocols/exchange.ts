import type { PeerHandle } from '../core/handles.js';

/**
 * The shape every gossip protocol in peercloud shares: one active step per cycle, made of a single
 * request/response exchange with one peer, written as pure steps over the node's own state.
 *
 *   peer = selectPeer(self)            (NO_PEER: skip this cycle)
 *   req  = initiate(self, peer)        at the initiator
 *   res  = handle(peer, self, req)     at the peer (null: no reply)
 *   complete(self, peer, req, res)     back at the initiator
 *   fail(self, peer, req)              instead of complete, when no reply came (dead, lost, timeout)
 *
 * The cycle-driven simulator runs the four steps back to back (an atomic exchange, as PeerSim does);
 * the event-driven simulator puts latency and loss between them; the daemon runs them as RPCs over
 * its transport. Because the steps are the same functions in all three places, what the simulator
 * measures is what the daemon does.
 */
export interface ExchangeProtocol<Req, Res> {
  /** Short stable name, used in logs, metrics and wire message types. */
  readonly name: string;
  selectPeer(self: PeerHandle): PeerHandle;
  initiate(self: PeerHandle, peer: PeerHandle): Req;
  handle(self: PeerHandle, from: PeerHandle, req: Req): Res | null;
  complete(self: PeerHandle, peer: PeerHandle, req: Req, res: Res): void;
  fail(self: PeerHandle, peer: PeerHandle, req: Req): void;
}

/** Per-node state lifecycle, so one protocol instance can serve a whole simulated population. */
export interface NodeState {
  /** Make room for handles in [0, capacity). Called before any handle >= old capacity is used. */
  ensureCapacity(capacity: number): void;
  /** Reset the state of a handle that starts a new life (join). */
  resetNode(self: PeerHandle): void;
}

/** A protocol the engines can drive: an exchange protocol with per-node state. */
export type Protocol = ExchangeProtocol<unknown, unknown> & NodeState;
