/**
 * Trust on first use: learning the node id behind a bare `host:port` join entry.
 *
 * The transport's `probe` has whoever answers at the address prove a key and reports the node id
 * it hashes to, without pinning anything. Taking that id is the trust decision (as ssh does for an
 * unknown host): from then on it is used like a configured one, so every later connection is
 * pinned to that key. Only the joiner calls this, and only when `joinTrustOnFirstUse` allows it.
 */
import type { NetworkAddress, Transport } from '../../network/transport.js';

/** The id of the node at `address`; rejects with the probe's TransportError if none answered. */
export async function learnNodeIdOnFirstUse(transport: Transport, address: NetworkAddress, timeoutMs: number): Promise<string> {
  const remote = await transport.probe(address, { timeoutMs });
  return remote.nodeId;
}
