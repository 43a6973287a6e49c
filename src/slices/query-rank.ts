/**
 * `--rank ATTR[:asc|desc]`: which nodes a slice prefers when more match than it needs ("the 20
 * fastest", "the top 5% by availability"). Without an order the better end is taken: the largest
 * value for every attribute except load, where the smallest is best.
 *
 * The slicing service (src/protocols/slicing) ranks nodes by a number where higher is the top, so
 * `rankScore` turns a ranking into that number: the value for desc, its negation for asc.
 */
import type { NodeAttributes } from '../node/attributes.js';
import { LABEL_PREFIX, type NumericAttribute, NUMERIC_ATTRIBUTES, type RankOrder, resolveAttribute } from './query-attributes.js';
import { QueryError, showText } from './query-errors.js';
import { attributeValue } from './query-eval.js';

export interface Rank {
  readonly attribute: NumericAttribute;
  readonly order: RankOrder;
}

export type { RankOrder };

export const RANK_ORDERS: readonly RankOrder[] = Object.freeze(['asc', 'desc']);
const RANKABLE_HINT = `rank by one of: ${NUMERIC_ATTRIBUTES.map((info) => info.name).join(', ')}`;

/** Parses `cpu`, `load:asc`, `availability.day:desc` (names and orders case-insensitive). Throws QueryError (field "rank"). */
export function parseRank(text: string): Rank {
  if (typeof text !== 'string') throw new QueryError({ field: 'rank', problem: `the ranking must be text, got ${showText(text)}` });
  const fail = (problem: string, at: number, hint?: string): never => {
    throw new QueryError({ field: 'rank', problem, column: at + 1, input: text, hint });
  };
  const colon = text.indexOf(':');
  const namePart = colon < 0 ? text : text.slice(0, colon);
  const name = namePart.trim();
  const nameAt = namePart.length - namePart.trimStart().length;
  if (name === '') return fail('expected an attribute to rank by', nameAt, RANKABLE_HINT);
  const ref = resolveAttribute(name);
  if (ref.kind === 'unknown') {
    const suggestion = ref.suggestion?.startsWith(LABEL_PREFIX) ? undefined : ref.suggestion;
    return fail(ref.problem, nameAt, suggestion === undefined ? RANKABLE_HINT : `did you mean ${suggestion}? ${RANKABLE_HINT}`);
  }
  if (ref.kind === 'label') return fail(`cannot rank by ${showText(name)}: labels are text, not amounts`, nameAt, RANKABLE_HINT);
  if (colon < 0) return Object.freeze({ attribute: ref.info.name, order: ref.info.defaultOrder });
  const orderPart = text.slice(colon + 1);
  const orderText = orderPart.trim();
  const order = orderText.toLowerCase();
  if (order !== 'asc' && order !== 'desc') {
    const orderAt = colon + 1 + (orderPart.length - orderPart.trimStart().length);
    return fail(`the order must be "asc" or "desc", got ${showText(orderText)}`, orderAt);
  }
  return Object.freeze({ attribute: ref.info.name, order });
}

/** Canonical text, always with the order: `cpu:desc`. */
export function formatRank(rank: Rank): string {
  return `${rank.attribute}:${rank.order}`;
}

/** The node's value of the ranked attribute, in base units. */
export function rankValue(rank: Rank, attributes: NodeAttributes): number {
  return attributeValue(rank.attribute, attributes);
}

/** Higher is better whatever the order; a node that does not report a finite value is the worst. */
export function rankScore(rank: Rank, attributes: NodeAttributes): number {
  const value = rankValue(rank, attributes);
  if (!Number.isFinite(value)) return Number.NEGATIVE_INFINITY;
  return rank.order === 'desc' ? value : -value;
}

/** A sort comparator putting the best nodes first. Ties compare equal: callers break them (by node id). */
export function compareByRank(rank: Rank): (a: NodeAttributes, b: NodeAttributes) => number {
  return (a, b) => {
    const sa = rankScore(rank, a);
    const sb = rankScore(rank, b);
    return sa === sb ? 0 : sa > sb ? -1 : 1;
  };
}
