/**
 * The wire form of a slice request, as peers pass it along while allocating a slice:
 *
 *     {"v":1,"name":"web","nodes":10,"where":[{"attr":"cores","op":">=","value":4}],
 *      "rank":{"attr":"cpu","order":"desc"},"keepSize":false}
 *
 * JSON-safe and protobuf-friendly (plain fields, no maps). `v` is the format version: a peer
 * refuses a version it does not know instead of guessing. Exactly one of `nodes` and `fraction`.
 * `specFromWire` validates untrusted input completely (see query-wire.ts) and throws only
 * QueryError (field "wire").
 */
import * as z from '../core/zod.js';
import { resolveCanonicalAttribute } from './query-attributes.js';
import { QueryError, showText } from './query-errors.js';
import type { Rank, RankOrder } from './query-rank.js';
import { queryFromChecked, queryToWire, type WireQuery, wireError, wireQuerySchema, zodProblem } from './query-wire.js';
import { parseSliceCount, parseSliceName, type SliceSpec } from './spec.js';

export const SLICE_SPEC_WIRE_VERSION = 1;

export interface WireRank {
  readonly attr: string;
  readonly order: RankOrder;
}

export interface WireSliceSpec {
  readonly v: typeof SLICE_SPEC_WIRE_VERSION;
  readonly name: string;
  readonly nodes?: number;
  readonly fraction?: number;
  readonly where: WireQuery;
  readonly rank: WireRank | null;
  readonly keepSize: boolean;
}

const wireSliceSpecSchema = z.strictObject({
  v: z.literal(SLICE_SPEC_WIRE_VERSION, { error: `unsupported format version (this node reads version ${SLICE_SPEC_WIRE_VERSION})` }),
  name: z.string().check(z.maxLength(63)),
  nodes: z.optional(z.number()),
  fraction: z.optional(z.number()),
  where: wireQuerySchema,
  rank: z.nullable(z.strictObject({ attr: z.string().check(z.maxLength(32)), order: z.enum(['asc', 'desc']) })),
  keepSize: z.boolean(),
});

export function specToWire(spec: SliceSpec): WireSliceSpec {
  const count = 'nodes' in spec.count ? { nodes: spec.count.nodes } : { fraction: spec.count.fraction };
  return {
    v: SLICE_SPEC_WIRE_VERSION,
    name: spec.name,
    ...count,
    where: queryToWire(spec.where),
    rank: spec.rank === null ? null : { attr: spec.rank.attribute, order: spec.rank.order },
    keepSize: spec.keepSize,
  };
}

export function specFromWire(data: unknown): SliceSpec {
  const parsed = wireSliceSpecSchema.safeParse(data);
  if (!parsed.success) throw wireError(zodProblem(parsed.error));
  const wire = parsed.data;
  const name = rethrown('name', () => parseSliceName(wire.name));
  const count = rethrown('nodes/fraction', () => parseSliceCount(wire.nodes, wire.fraction));
  const where = queryFromChecked(wire.where, 'where');
  let rank: Rank | null = null;
  if (wire.rank !== null) {
    const ref = resolveCanonicalAttribute(wire.rank.attr);
    if (ref.kind !== 'numeric') throw wireError(`rank.attr: cannot rank by ${showText(wire.rank.attr)}`);
    rank = Object.freeze({ attribute: ref.info.name, order: wire.rank.order });
  }
  return Object.freeze({ name, count, where, rank, keepSize: wire.keepSize });
}

/** The spec validators speak to users; on the wire their message is prefixed with where it was. */
function rethrown<T>(path: string, validate: () => T): T {
  try {
    return validate();
  } catch (err) {
    if (err instanceof QueryError) throw wireError(`${path}: ${err.message}`);
    throw err;
  }
}
