/**
 * Peers as small integers ("handles").
 *
 * Protocol modules identify peers by integer handles and keep per-node state in flat typed arrays
 * indexed by the local node's handle. In the simulator a handle is the global index of a simulated
 * node, so 10^6 nodes fit in a few hundred MB; in the daemon the local node is handle 0 and remote
 * peers are interned into handles by the peer directory, which also holds their id, address and
 * signature. A protocol only ever reads the state of `self`: anything it learns about another node
 * arrives in a message.
 */
export type PeerHandle = number;

/** Returned by `selectPeer` when a node knows nobody to talk to. */
export const NO_PEER: PeerHandle = -1;

/** Something that can hand out random peers for a node, e.g. the peer sampling service. */
export interface PeerSampler {
  /** A random peer known to `self`, or NO_PEER. */
  samplePeer(self: PeerHandle): PeerHandle;
  /** Appends up to `count` distinct peers known to `self` to `out`. */
  samplePeers(self: PeerHandle, count: number, out: PeerHandle[]): void;
}
