/**
 * A node snapshot: what one node tells a dashboard about itself when asked (INSPECT_REQUEST_TYPE):
 * its identity and addresses, attributes, peer sampling view, slice, ring neighbours and the
 * network-wide aggregates as it estimates them. Dashboards crawl the overlay with these
 * (overlay-crawler.ts) to draw the graph, the rings and the tables.
 *
 * Snapshots travel as JSON (like slice messages: a control-plane message, small and rare, where
 * readability beats compactness) and come from untrusted peers, so `decodeSnapshot` checks every
 * field against the schema below, bounds every string and list, and refuses anything else.
 * Nothing in a snapshot is signed: a dashboard shows what nodes say about themselves, and the
 * identity of the node that answers is pinned by the transport (TLS, key = node id), which
 * `decodeSnapshot`'s caller checks against `id`.
 */
import * as z from '../core/zod.js';

/** Node-to-node request type of inspections (slices use 10). */
export const INSPECT_REQUEST_TYPE = 11;

/** Largest encoded snapshot (a 200-entry view is ~14 KiB). */
export const MAX_SNAPSHOT_BYTES = 64 * 1024;
export const MAX_VIEW_ENTRIES = 200;

const nodeId = z.string().check(z.regex(/^pc[a-z2-7]{32}$/));
const host = z.string().check(z.minLength(1), z.maxLength(255));
const address = z.strictObject({ host, port: z.int().check(z.minimum(0), z.maximum(65535)) });
/** zod numbers are finite: NaN and ±Infinity are refused. */
const finite = z.number();
const nonNegative = z.number().check(z.minimum(0));
const fraction = z.number().check(z.minimum(0), z.maximum(1));
const estimate = z.nullable(finite);

export const snapshotSchema = z.strictObject({
  v: z.literal(1),
  id: nodeId,
  name: z.string().check(z.maxLength(64)),
  version: z.string().check(z.maxLength(32)),
  address,
  /** The node's user API, if it wants dashboards to link to it (null: not shared). */
  api: z.nullable(address),
  uptimeMs: nonNegative,
  attributes: z.strictObject({
    cores: z.int().check(z.minimum(0), z.maximum(1_000_000)),
    cpuScore: nonNegative,
    memoryTotalBytes: nonNegative,
    memoryFreeBytes: nonNegative,
    diskTotalBytes: nonNegative,
    diskFreeBytes: nonNegative,
    loadAverage: nonNegative,
    freeCores: nonNegative,
    availabilityDay: fraction,
    availabilityWeek: fraction,
  }),
  labels: z
    .record(z.string().check(z.maxLength(64)), z.string().check(z.maxLength(256)))
    .check(z.refine((l) => Object.keys(l).length <= 32, 'at most 32 labels')),
  view: z
    .array(z.strictObject({ id: nodeId, host, port: z.int().check(z.minimum(1), z.maximum(65535)) }))
    .check(z.maxLength(MAX_VIEW_ENTRIES)),
  slice: z.nullable(
    z.strictObject({
      // As slice messages take it (src/slices/messages.ts): a member of any slice the protocol
      // accepts must stay readable, or dashboards would show it unreachable.
      sliceId: z.string().check(z.regex(/^[0-9a-f]{16,64}$/)),
      name: z.string().check(z.minLength(1), z.maxLength(64)),
      ownerNode: nodeId,
      ownerUser: z.string().check(z.regex(/^pu[a-z2-7]{32}$/)),
    }),
  ),
  ring: z.strictObject({ predecessor: z.nullable(nodeId), successor: z.nullable(nodeId) }),
  network: z.strictObject({
    size: estimate,
    averageFreeCores: estimate,
    totalFreeCores: estimate,
    totalFreeMemoryBytes: estimate,
    totalFreeDiskBytes: estimate,
    averageLoad: estimate,
  }),
  /** The node's clock when it answered (Unix ms). */
  takenAt: nonNegative,
});

export type NodeSnapshot = z.infer<typeof snapshotSchema>;

/** A snapshot a peer sent that we refuse; the message names the first problem. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

export function encodeSnapshot(snapshot: NodeSnapshot): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(snapshot));
}

/** Parses and validates a snapshot from an untrusted peer; throws SnapshotError. */
export function decodeSnapshot(bytes: Uint8Array): NodeSnapshot {
  if (bytes.length > MAX_SNAPSHOT_BYTES) throw new SnapshotError(`snapshot of ${bytes.length} bytes is larger than ${MAX_SNAPSHOT_BYTES}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SnapshotError('snapshot is not UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SnapshotError(`snapshot is not JSON: ${(err as Error).message}`);
  }
  const parsed = snapshotSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SnapshotError(`invalid snapshot at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
