/**
 * The node side of inspections: answers INSPECT_REQUEST_TYPE requests with this node's snapshot.
 * The request body is empty (anything else is refused, so the type can grow options later without
 * old nodes misreading them). Everything a snapshot shows is already public to the cloud's members
 * (views and descriptors are gossiped; ring neighbours and slices are told to whoever asks the
 * slice API), and in a private cloud only members can ask (the request carries the join proof).
 */
import { type NodeSnapshot, encodeSnapshot } from './snapshot.js';

export class InspectRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InspectRequestError';
  }
}

/** The handler to pass to GossipNode.serve(INSPECT_REQUEST_TYPE, …). */
export function inspectHandler(snapshot: () => NodeSnapshot): (from: unknown, payload: Uint8Array) => Promise<Uint8Array> {
  return async (_from, payload) => {
    if (payload.length !== 0) throw new InspectRequestError(`an inspect request has an empty body, got ${payload.length} bytes`);
    return encodeSnapshot(snapshot());
  };
}
