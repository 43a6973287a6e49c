/**
 * Wire messages: the protocols' messages with every peer handle replaced by that peer's signed
 * descriptor, or a reference to it (DescriptorRef). Handles are local to a process; descriptors name nodes everywhere. Messages without
 * handles (aggregation, rank estimation) are the protocols' own types.
 */
import type { AggregationMessage } from '../../protocols/aggregation/aggregation.js';
import type { AttributeMessage } from '../../protocols/slicing/rank-estimation.js';
import type { WireDescriptorItem } from './descriptor.js';

export type ProtocolName = 'sampling' | 'aggregation' | 'tman' | 'slicing' | 'ranking';
export type MessageKind = 'request' | 'response';

/** Wire ids of the protocols (the schema's `Protocol` enum). */
export const PROTOCOL_IDS: Readonly<Record<ProtocolName, number>> = Object.freeze({
  sampling: 1,
  aggregation: 2,
  tman: 3,
  slicing: 4,
  ranking: 5,
});

export const KIND_IDS: Readonly<Record<MessageKind, number>> = Object.freeze({ request: 1, response: 2 });

/** Peer sampling (DescriptorBuffer): descriptors and their ages, pairwise. */
export interface WireSamplingBuffer {
  readonly descriptors: readonly WireDescriptorItem[];
  readonly ages: readonly number[];
}

/** T-Man (TManBuffer). `keys` is empty when keys derive from node ids, else one per descriptor. */
export interface WireTManBuffer {
  readonly senderKey: number;
  readonly group: number;
  readonly descriptors: readonly WireDescriptorItem[];
  readonly keys: readonly number[];
  /** Cycles since each described node issued its descriptor, pairwise with `descriptors`. */
  readonly ages: readonly number[];
}

/** mod-JK's piggybacked (peer, a, r, age) descriptors. */
export interface WireSlicingGossip {
  readonly descriptors: readonly WireDescriptorItem[];
  readonly attrs: readonly number[];
  readonly rs: readonly number[];
  readonly ages: readonly number[];
}

export interface WireSwapRequest {
  readonly a: number;
  readonly r: number;
  readonly gossip: WireSlicingGossip | null;
}

export interface WireSwapReply {
  readonly swapped: boolean;
  readonly a: number;
  readonly r: number;
  readonly gossip: WireSlicingGossip | null;
}

/** Every message the codec encodes and decodes. `minor` is the sender's minor version (set by decode). */
export type WireMessage = (
  | { readonly protocol: 'sampling'; readonly kind: MessageKind; readonly body: WireSamplingBuffer }
  | { readonly protocol: 'aggregation'; readonly kind: MessageKind; readonly body: AggregationMessage }
  | { readonly protocol: 'tman'; readonly kind: MessageKind; readonly body: WireTManBuffer }
  | { readonly protocol: 'slicing'; readonly kind: 'request'; readonly body: WireSwapRequest }
  | { readonly protocol: 'slicing'; readonly kind: 'response'; readonly body: WireSwapReply }
  | { readonly protocol: 'ranking'; readonly kind: MessageKind; readonly body: AttributeMessage }
) & { readonly minor?: number };
