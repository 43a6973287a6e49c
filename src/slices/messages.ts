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
import * as z from '../core/zod.js';

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

const id = z.string().check(z.regex(/^[0-9a-f]{16,64}$/));
const nodeId = z.string().check(z.regex(/^pc[a-z2-7]{32}$/));
const userId = z.string().check(z.regex(/^pu[a-z2-7]{32}$/));
const name = z.string().check(z.regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/));
const host = z.string().check(z.minLength(1), z.maxLength(253));
const port = z.int().check(z.minimum(1), z.maximum(65_535));
export const sliceNodeId = nodeId;
const address = z.strictObject({ nodeId, host, port });
/** Shared with owned-store.ts, which persists what these messages carry. */
export const signedObject = z.strictObject({
  v: z.literal(1),
  purpose: z.string().check(z.maxLength(64)),
  user: z.string().check(z.maxLength(64)),
  issuedAt: z.int().check(z.nonnegative()),
  payload: z.string().check(z.maxLength(16_384)),
  signature: z.string().check(z.maxLength(128)),
});
export const memberResources = z.strictObject({
  cores: z.int().check(z.minimum(0), z.maximum(1_000_000)),
  memoryBytes: z.int().check(z.minimum(0), z.maximum(2 ** 60)),
});
export const sliceRef = z.strictObject({ sliceId: id, name, ownerNode: nodeId, ownerUser: userId, group: z.int().check(z.minimum(-0x80000000), z.maximum(0x7fffffff)) });

const call = z.strictObject({
  v: z.literal(SLICE_MESSAGE_VERSION),
  kind: z.literal('call'),
  requestId: id,
  slice: sliceRef,
  owner: address,
  grant: signedObject,
  /** Hops the call may still travel. */
  ttl: z.int().check(z.minimum(0), z.maximum(32)),
  /** The owner only wants offers from nodes whose estimated capacity rank is at least this (0: all). */
  minRank: z.number().check(z.minimum(0), z.maximum(1)),
  /**
   * Nodes this copy of the call should still reach, the receiver included (reach.ts): it keeps one
   * if it had not seen the request and splits the rest among a few peers. Absent: flood (every node
   * forwards it to `fanout` peers the first time it sees it).
   */
  budget: z.optional(z.int().check(z.minimum(1), z.maximum(1_000_000))),
});

const offer = z.strictObject({
  v: z.literal(SLICE_MESSAGE_VERSION),
  kind: z.literal('offer'),
  requestId: id,
  /** False: the node matches but is in another slice or reserved (counted, not chosen). */
  available: z.boolean(),
  /** The node's value of the spec's rank attribute (0 without ranking). zod numbers are finite. */
  score: z.number(),
  address,
  /** What a slice may use of the node (its slices.maxShare of cores and memory), as the query saw it. */
  resources: z.optional(memberResources),
});

const confirm = z.strictObject({
  v: z.literal(SLICE_MESSAGE_VERSION),
  kind: z.literal('confirm'),
  requestId: id,
  slice: sliceRef,
  grant: signedObject,
  leaseMs: z.int().check(z.minimum(1_000), z.maximum(24 * 3_600_000)),
});

const cancel = z.strictObject({ v: z.literal(SLICE_MESSAGE_VERSION), kind: z.literal('cancel'), requestId: id });

const renew = z.strictObject({
  v: z.literal(SLICE_MESSAGE_VERSION),
  kind: z.literal('renew'),
  sliceId: id,
  leaseMs: z.int().check(z.minimum(1_000), z.maximum(24 * 3_600_000)),
  members: z.array(address).check(z.maxLength(MAX_MEMBERS)),
});

const leave = z.strictObject({ v: z.literal(SLICE_MESSAGE_VERSION), kind: z.literal('leave'), sliceId: id });

const reply = z.strictObject({
  v: z.literal(SLICE_MESSAGE_VERSION),
  kind: z.literal('reply'),
  ok: z.boolean(),
  /** Why not, when !ok (e.g. busy, expired, not-member, denied: …). */
  reason: z.optional(z.string().check(z.maxLength(512))),
  /** In answer to a renew: the member's ring neighbours as its T-Man sees them (node ids or null). */
  ring: z.optional(z.strictObject({ predecessor: z.nullable(nodeId), successor: z.nullable(nodeId) })),
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
