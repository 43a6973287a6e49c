/**
 * Protocol messages ⇄ wire messages: peer handles become signed descriptors on the way out, and
 * descriptors become handles on the way in (verified and interned by the peer directory).
 *
 * Incoming messages are all-or-nothing with respect to forgery: every descriptor is checked before
 * any is interned, and one forged or invalid descriptor rejects the whole message (a DescriptorError,
 * which is a CodecError) with nothing changed in the directory. Descriptors that are merely
 * unusable — expired, or no room left in the directory — are dropped from the message, together
 * with the values that go with them (age, key, attribute...): the protocols treat every buffer as a
 * set of independent entries, so a shorter buffer is still a valid one.
 */
import { NO_PEER, type PeerHandle } from '../core/handles.js';
import { CodecError } from '../network/codec/errors.js';
import type { WireDescriptorItem } from '../network/codec/descriptor.js';
import type { MessageKind, WireMessage, WireSlicingGossip } from '../network/codec/messages.js';
import type { AggregationMessage } from '../protocols/aggregation/aggregation.js';
import type { DescriptorBuffer } from '../protocols/peer-sampling/peer-sampling.js';
import type { SlicingDescriptors, SwapReply, SwapRequest } from '../protocols/slicing/ordered-slicing.js';
import type { AttributeMessage } from '../protocols/slicing/rank-estimation.js';
import type { TManBuffer } from '../protocols/tman/tman.js';
import { ringKeyOf } from './ring-key.js';

/** A protocol's message together with which protocol and direction it belongs to. */
export type ProtocolMessage =
  | { readonly protocol: 'sampling'; readonly kind: MessageKind; readonly body: DescriptorBuffer }
  | { readonly protocol: 'aggregation'; readonly kind: MessageKind; readonly body: AggregationMessage }
  | { readonly protocol: 'tman'; readonly kind: MessageKind; readonly body: TManBuffer }
  | { readonly protocol: 'slicing'; readonly kind: 'request'; readonly body: SwapRequest }
  | { readonly protocol: 'slicing'; readonly kind: 'response'; readonly body: SwapReply }
  | { readonly protocol: 'ranking'; readonly kind: MessageKind; readonly body: AttributeMessage };

/**
 * Where T-Man keys come from. `node-id`: every key is the ring key of the node's id (sorted ring,
 * ring distance), so keys are not sent and a sender's claimed key is checked; `carried`: keys are
 * arbitrary numbers (line-distance rankings over attributes) that travel with the descriptors.
 */
export type TManKeyMode = 'node-id' | 'carried';

/**
 * The result of checking one incoming descriptor, before anything is interned: usable, to be
 * dropped (expired, rumored dead), or a reference to a descriptor we do not hold.
 */
export type CheckedDescriptor =
  | { readonly kind: 'drop' }
  | { readonly kind: 'ok'; readonly admit: () => PeerHandle }
  | { readonly kind: 'missing'; readonly ref: Uint8Array };

/**
 * A message refers to descriptors we do not hold. Nothing was interned; the receiver fetches `refs`
 * from the sender and decodes the message again (src/node/runtime/gossip-node.ts).
 */
export class MissingDescriptorsError extends CodecError {
  readonly refs: readonly Uint8Array[];
  constructor(field: string, refs: readonly Uint8Array[]) {
    super(field, `refers to ${refs.length} descriptor(s) this node does not hold`);
    this.name = 'MissingDescriptorsError';
    this.refs = refs;
  }
}

/** What the translation needs from the peer directory. */
export interface TranslationDirectory {
  /** The descriptor (or reference) to send for a handle (0: our own, freshly signed if due). */
  descriptorFor(handle: PeerHandle): WireDescriptorItem;
  /** Verifies a descriptor without changing anything; throws DescriptorError if forged or invalid. */
  check(descriptor: WireDescriptorItem, field: string): CheckedDescriptor;
  /** Starts a batch of admissions: handles admitted in one batch are never evicted for each other. */
  beginBatch(): void;
  /** The handle of a node id, NO_PEER if unknown. */
  handleOf(nodeId: string): PeerHandle;
  keyOf(handle: PeerHandle): number;
  /** Records a remote peer's T-Man group as claimed in a message (never changes our own). */
  noteGroup(handle: PeerHandle, group: number): void;
}

export function protocolToWire(dir: TranslationDirectory, message: ProtocolMessage, keys: TManKeyMode): WireMessage {
  const { kind } = message;
  switch (message.protocol) {
    case 'sampling': {
      const b = message.body;
      if (b.ids.length !== b.ages.length) throw new RangeError(`sampling buffer has ${b.ids.length} ids and ${b.ages.length} ages`);
      return { protocol: 'sampling', kind, body: { descriptors: b.ids.map((h) => dir.descriptorFor(h)), ages: b.ages } };
    }
    case 'tman': {
      const b = message.body;
      return {
        protocol: 'tman',
        kind,
        body: {
          senderKey: b.senderKey,
          group: b.group,
          descriptors: b.ids.map((h) => dir.descriptorFor(h)),
          keys: keys === 'node-id' ? [] : b.keys,
          ages: b.ages,
        },
      };
    }
    case 'slicing': {
      if (message.kind === 'request') {
        const b = message.body;
        return { protocol: 'slicing', kind: 'request', body: { a: b.a, r: b.r, gossip: gossipToWire(dir, b.gossip) } };
      }
      const b = message.body;
      return { protocol: 'slicing', kind: 'response', body: { swapped: b.swapped, a: b.a, r: b.r, gossip: gossipToWire(dir, b.gossip) } };
    }
    case 'aggregation':
      return { protocol: 'aggregation', kind, body: message.body };
    case 'ranking':
      return { protocol: 'ranking', kind, body: message.body };
    default:
      throw new RangeError(`unknown protocol ${String((message as { protocol: unknown }).protocol)}`);
  }
}

/**
 * `sender` is the authenticated node id of the peer the message came from (the transport vouches
 * for it); it need not be interned yet, e.g. when its own descriptor is in this very message.
 */
export function wireToProtocol(dir: TranslationDirectory, message: WireMessage, sender: string, keys: TManKeyMode): ProtocolMessage {
  const field = `${message.protocol}.${message.kind}`;
  switch (message.protocol) {
    case 'sampling': {
      const b = message.body;
      const kept = admitAll(dir, b.descriptors, `${field}.descriptors`);
      const ids: PeerHandle[] = [];
      const ages: number[] = [];
      kept.forEach((h, i) => {
        if (h === NO_PEER) return;
        ids.push(h);
        ages.push(b.ages[i]);
      });
      return { protocol: 'sampling', kind: message.kind, body: { ids, ages } };
    }
    case 'tman': {
      const b = message.body;
      if (keys === 'node-id') {
        if (b.keys.length !== 0) throw new CodecError(`${field}.keys`, 'must be empty: T-Man keys derive from node ids');
        const known = dir.handleOf(sender);
        const senderKey = known !== NO_PEER ? dir.keyOf(known) : ringKeyOf(sender);
        if (b.senderKey !== senderKey) throw new CodecError(`${field}.senderKey`, `${b.senderKey} is not the ring key of the sender's node id`);
      } else if (b.keys.length !== b.descriptors.length) {
        throw new CodecError(`${field}.keys`, `has ${b.keys.length} entries for ${b.descriptors.length} descriptors`);
      }
      const kept = admitAll(dir, b.descriptors, `${field}.descriptors`);
      const ids: PeerHandle[] = [];
      const out: number[] = [];
      const ages: number[] = [];
      const from = dir.handleOf(sender);
      if (from !== NO_PEER) dir.noteGroup(from, b.group);
      kept.forEach((h, i) => {
        if (h === NO_PEER) return;
        // The sender vouches that everything it sends is in its group (see TManBuffer).
        dir.noteGroup(h, b.group);
        ids.push(h);
        out.push(keys === 'node-id' ? dir.keyOf(h) : b.keys[i]);
        ages.push(b.ages[i]);
      });
      return { protocol: 'tman', kind: message.kind, body: { senderKey: b.senderKey, group: b.group, ids, keys: out, ages } };
    }
    case 'slicing': {
      if (message.kind === 'request') {
        const b = message.body;
        return { protocol: 'slicing', kind: 'request', body: { a: b.a, r: b.r, gossip: gossipFromWire(dir, b.gossip, `${field}.gossip`) } };
      }
      const b = message.body;
      return { protocol: 'slicing', kind: 'response', body: { swapped: b.swapped, a: b.a, r: b.r, gossip: gossipFromWire(dir, b.gossip, `${field}.gossip`) } };
    }
    case 'aggregation':
      return { protocol: 'aggregation', kind: message.kind, body: message.body };
    case 'ranking':
      return { protocol: 'ranking', kind: message.kind, body: message.body };
  }
}

/** Every peer handle a protocol message refers to (to pin them while an exchange is in flight). */
export function handlesIn(message: ProtocolMessage): PeerHandle[] {
  switch (message.protocol) {
    case 'sampling':
      return [...message.body.ids];
    case 'tman':
      return [...message.body.ids];
    case 'slicing':
      return message.body.gossip ? [...message.body.gossip.ids] : [];
    default:
      return [];
  }
}

/**
 * Checks every descriptor first (throwing on the first forged one), then admits them all; if any
 * reference is unknown, throws MissingDescriptorsError listing them all and admits nothing.
 */
function admitAll(dir: TranslationDirectory, descriptors: readonly WireDescriptorItem[], field: string): PeerHandle[] {
  const checked = descriptors.map((d, i) => dir.check(d, `${field}[${i}]`));
  const missing = checked.filter((c): c is Extract<CheckedDescriptor, { kind: 'missing' }> => c.kind === 'missing').map((c) => c.ref);
  if (missing.length > 0) throw new MissingDescriptorsError(field, missing);
  dir.beginBatch();
  return checked.map((c) => (c.kind === 'ok' ? c.admit() : NO_PEER));
}

function gossipToWire(dir: TranslationDirectory, g: SlicingDescriptors | null): WireSlicingGossip | null {
  if (g === null) return null;
  return { descriptors: g.ids.map((h) => dir.descriptorFor(h)), attrs: g.attrs, rs: g.rs, ages: g.ages };
}

function gossipFromWire(dir: TranslationDirectory, g: WireSlicingGossip | null, field: string): SlicingDescriptors | null {
  if (g === null) return null;
  const kept = admitAll(dir, g.descriptors, `${field}.descriptors`);
  const out: SlicingDescriptors = { ids: [], attrs: [], rs: [], ages: [] };
  kept.forEach((h, i) => {
    if (h === NO_PEER) return;
    out.ids.push(h);
    out.attrs.push(g.attrs[i]);
    out.rs.push(g.rs[i]);
    out.ages.push(g.ages[i]);
  });
  return out;
}
