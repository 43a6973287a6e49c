/**
 * The node-to-node messages of slice allocation (allocation.ts), one transport request type
 * (SLICE_REQUEST_TYPE) carrying JSON validated by the zod schemas below: these are control
 * messages, a few per slice operation, not gossip, so readability wins over compactness. Every
 * field from a peer is checked (types, lengths, ranges, no unknown keys); anything else is a
 * SliceMessageError and the request is refused.
 *
 *   call     owner → everyone, or a budget of nodes (spread by gossip, reach.ts): "nodes matching
 *            this spec, offer yourselves to me"
 *   offer    candidate → owner: "I match and I am holding myself for your request" (or: "I match
 *            but I am busy", so the owner can say how many matched)
 *   confirm  owner → candidate: "you are in" (the candidate answers joined, or why not)
 *   cancel   owner → candidate: "not needed, let go of your reservation"
 *   renew    owner → member: lease renewal, with the current member list (the ring's seed)
 *   leave    owner → member: "you are out" (shrink, delete)
 *
 * The user's authority travels as `grant`: a signed object (src/auth/signed-object.ts, purpose
 * GRANT_PURPOSE) over the slice id, name, owner node and spec, which every node involved verifies
 * before it reserves or joins, and checks against its own policy.
 */
import { z } from 'zod';

export const SLICE_REQUEST_TYPE = 10;
export const SLICE_MESSAGE_VERSION = 1;
export const GRANT_PURPOSE = 'slice-grant';
/** Largest slice message accepted (a renew lists up to MAX_MEMBERS members). */
export const MAX_SLICE_MESSAGE_BYTES = 256 * 1024;
export const MAX_MEMBERS = 2000;

export class SliceMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SliceMessageError';
  }
}

const id = z.string().regex(/^[0-9a-f]{16,64}$/);
const nodeId = z.string().regex(/^pc[a-z2-7]{32}$/);
const userId = z.string().regex(/^pu[a-z2-7]{32}$/);
const name = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
const host = z.string().min(1).max(253);
const port = z.number().int().min(1).max(65_535);
export const sliceNodeId = nodeId;
const address = z.strictObject({ nodeId, host, port });
/** Shared with owned-store.ts, which persists what these messages carry. */
export const signedObject = z.strictObject({
  v: z.literal(1),
  purpose: z.string().max(64),
  user: z.string().max(64),
  issuedAt: z.number().int().nonnegative(),
  payload: z.string().max(16_384),
  signature: z.string().max(128),
});
export const memberResources = z.strictObject({ cores: z.number().int().min(0).max(1_000_000), memoryBytes: z.number().int().min(0).max(2 ** 60) });
export const sliceRef = z.strictObject({ sliceId: id, name, ownerNode: nodeId, ownerUser: userId, group: z.number().int().min(-0x80000000).max(0x7fffffff) });

const call = z.strictObject({
  v: z.literal(SLICE_MESSAGE_VERSION),
  kind: z.literal('call'),
  requestId: id,
  slice: sliceRef,
  owner: address,
  grant: signedObject,
  /** Hops the call may still travel. */
  ttl: z.number().int().min(0).max(32),
  /** The owner only wants offers from nodes whose estimated capacity rank is at least this (0: all). */
  minRank: z.number().min(0).max(1),
  /**
   * Nodes this copy of the call should still reach, the receiver included (reach.ts): it keeps one
   * if it had not seen the request and splits the rest among a few peers. Absent: flood (every node
   * forwards it to `fanout` peers the first time it sees it).
   */
  budget: z.number().int().min(1).max(1_000_000).optional(),
});

const offer = z.strictObject({
  v: z.literal(SLICE_MESSAGE_VERSION),
  kind: z.literal('offer'),
  requestId: id,
  /** False: the node matches but is in another slice or reserved (counted, not chosen). */
  available: z.boolean(),
  /** The node's value of the spec's rank attribute (0 without ranking). */
  score: z.number().finite(),
  address,
  /** What a slice may use of the node (its slices.maxShare of cores and memory), as the query saw it. */
  resources: memberResources.optional(),
});

const confirm = z.strictObject({
  v: z.literal(SLICE_MESSAGE_VERSION),
  kind: z.literal('confirm'),
  requestId: id,
  slice: sliceRef,
  grant: signedObject,
  leaseMs: z.number().int().min(1_000).max(24 * 3_600_000),
});

const cancel = z.strictObject({ v: z.literal(SLICE_MESSAGE_VERSION), kind: z.literal('cancel'), requestId: id });

const renew = z.strictObject({
  v: z.literal(SLICE_MESSAGE_VERSION),
  kind: z.literal('renew'),
  sliceId: id,
  leaseMs: z.number().int().min(1_000).max(24 * 3_600_000),
  members: z.array(address).max(MAX_MEMBERS),
});

const leave = z.strictObject({ v: z.literal(SLICE_MESSAGE_VERSION), kind: z.literal('leave'), sliceId: id });

const reply = z.strictObject({
  v: z.literal(SLICE_MESSAGE_VERSION),
  kind: z.literal('reply'),
  ok: z.boolean(),
  /** Why not, when !ok (e.g. busy, expired, not-member, denied: …). */
  reason: z.string().max(512).optional(),
  /** In answer to a renew: the member's ring neighbours as its T-Man sees them (node ids or null). */
  ring: z.strictObject({ predecessor: nodeId.nullable(), successor: nodeId.nullable() }).optional(),
});

const message = z.discriminatedUnion('kind', [call, offer, confirm, cancel, renew, leave, reply]);

export type SliceAddress = z.infer<typeof address>;
export type SignedGrant = z.infer<typeof signedObject>;
export type CallMessage = z.infer<typeof call>;
export type OfferMessage = z.infer<typeof offer>;
export type ConfirmMessage = z.infer<typeof confirm>;
export type CancelMessage = z.infer<typeof cancel>;
export type RenewMessage = z.infer<typeof renew>;
export type LeaveMessage = z.infer<typeof leave>;
export type ReplyMessage = z.infer<typeof reply>;
export type SliceMessage = z.infer<typeof message>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeSliceMessage(m: SliceMessage): Uint8Array {
  return encoder.encode(JSON.stringify(m));
}

/** Parses and checks a message from a peer; throws SliceMessageError naming what is wrong. */
export function decodeSliceMessage(bytes: Uint8Array): SliceMessage {
  if (bytes.length > MAX_SLICE_MESSAGE_BYTES) throw new SliceMessageError(`slice message of ${bytes.length} bytes, at most ${MAX_SLICE_MESSAGE_BYTES} allowed`);
  let data: unknown;
  try {
    data = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new SliceMessageError('slice message is not UTF-8 JSON');
  }
  const parsed = message.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SliceMessageError(`slice message: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export function okReply(): ReplyMessage {
  return { v: SLICE_MESSAGE_VERSION, kind: 'reply', ok: true };
}

export function refusal(reason: string): ReplyMessage {
  return { v: SLICE_MESSAGE_VERSION, kind: 'reply', ok: false, reason: reason.slice(0, 512) };
}
