/**
 * A slice request as the user states it (`slice create NAME (--nodes N | --fraction 5%) [--where
 * EXPR] [--rank ATTR[:asc|desc]] [--keep-size]`), parsed and validated in one place so the CLI, the
 * HTTP API and the wire all accept exactly the same requests.
 */
import { QueryError, showText } from './query-errors.js';
import { formatRank, parseRank, type Rank } from './query-rank.js';
import { EMPTY_QUERY, formatQuery, parseQuery, type Query } from './query.js';

/** A number of nodes, or a share of the nodes matching the query (0 < fraction ≤ 1). */
export type SliceCount = { readonly nodes: number } | { readonly fraction: number };

export interface SliceSpec {
  readonly name: string;
  readonly count: SliceCount;
  readonly where: Query;
  /** Which matching nodes are preferred; null: any. */
  readonly rank: Rank | null;
  /** Replace members that leave, so the slice keeps its size. */
  readonly keepSize: boolean;
}

/** What a user typed (CLI flags) or sent (HTTP API). Numbers may be given as text. */
export interface SliceSpecInput {
  readonly name: string;
  readonly nodes?: string | number;
  readonly fraction?: string | number;
  readonly where?: string;
  readonly rank?: string;
  readonly keepSize?: boolean;
}

/** DNS-label-like, so a slice name can appear in host names, metrics and URLs unescaped. */
export const SLICE_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** The simulator's largest world: a bigger request is a typo. */
export const MAX_SLICE_NODES = 1_000_000;

const NAME_HINT = "1–63 lowercase letters, digits or '-', starting and ending with a letter or digit";
const WHOLE = /^\d+$/;
const DECIMAL = /^(?:\d+(?:\.\d+)?|\.\d+)$/;

/** Validates everything; throws QueryError whose `field` says which part was wrong. */
export function parseSliceSpec(input: SliceSpecInput): SliceSpec {
  if (typeof input !== 'object' || input === null) throw new QueryError({ field: 'name', problem: `a slice request must be an object, got ${showText(input)}` });
  const name = parseSliceName(input.name);
  const count = parseSliceCount(input.nodes, input.fraction);
  const where = input.where === undefined ? EMPTY_QUERY : parseQuery(input.where);
  const rank = input.rank === undefined ? null : parseRank(input.rank);
  if (input.keepSize !== undefined && typeof input.keepSize !== 'boolean') {
    throw new QueryError({ field: 'keepSize', problem: `keepSize must be true or false, got ${showText(input.keepSize)}` });
  }
  return Object.freeze({ name, count, where, rank, keepSize: input.keepSize ?? false });
}

export function parseSliceName(name: unknown): string {
  if (typeof name !== 'string') throw new QueryError({ field: 'name', problem: `the slice name must be text, got ${showText(name)}` });
  if (name === '') throw new QueryError({ field: 'name', problem: 'the slice name is empty', hint: NAME_HINT });
  if (!SLICE_NAME_PATTERN.test(name)) {
    const lower = name.toLowerCase();
    const hint = lower !== name && SLICE_NAME_PATTERN.test(lower) ? `names are lowercase: ${lower}` : NAME_HINT;
    throw new QueryError({ field: 'name', problem: `slice name ${showText(name)} is not valid`, hint });
  }
  return name;
}

/** Exactly one of a node count and a fraction. */
export function parseSliceCount(nodes: string | number | undefined, fraction: string | number | undefined): SliceCount {
  if (nodes !== undefined && fraction !== undefined) {
    throw new QueryError({ field: 'count', problem: 'give either a number of nodes or a fraction, not both' });
  }
  if (nodes !== undefined) return Object.freeze({ nodes: parseNodeCount(nodes) });
  if (fraction !== undefined) return Object.freeze({ fraction: parseFraction(fraction) });
  throw new QueryError({ field: 'count', problem: 'give a number of nodes or a fraction', hint: 'e.g. 10 nodes, or 5%' });
}

/** A whole number of nodes from 1 to MAX_SLICE_NODES: 10, "10". */
export function parseNodeCount(value: string | number): number {
  const n = typeof value === 'string' && WHOLE.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_SLICE_NODES) {
    throw new QueryError({
      field: 'count',
      problem: `the number of nodes must be a whole number from 1 to ${MAX_SLICE_NODES}, got ${showText(value)}`,
    });
  }
  return n;
}

/** A share of the matching nodes, 0 < f ≤ 1: "5%", "0.05", 0.05. */
export function parseFraction(value: string | number): number {
  const bad = (why: string, hint?: string): never => {
    throw new QueryError({ field: 'count', problem: `the fraction ${why}, got ${showText(value)}`, hint });
  };
  let f: number;
  if (typeof value === 'number') {
    f = value;
  } else if (typeof value === 'string') {
    const t = value.trim();
    const percent = t.endsWith('%');
    const digits = percent ? t.slice(0, -1).trimEnd() : t;
    if (!DECIMAL.test(digits)) return bad('must be a percentage or a number from 0 to 1, such as 5% or 0.05');
    f = percent ? Number(digits) / 100 : Number(digits);
    if (!percent && f > 1) bad('is more than 1 (100%)', `write ${digits}% for a percentage`);
  } else {
    return bad('must be a percentage or a number');
  }
  if (!Number.isFinite(f) || f <= 0 || f > 1) bad('must be more than 0% and at most 100%');
  return f;
}

/** `10 nodes`, `1 node`, `5%`. */
export function formatCount(count: SliceCount): string {
  if ('nodes' in count) return count.nodes === 1 ? '1 node' : `${count.nodes} nodes`;
  return `${Number((count.fraction * 100).toPrecision(12))}%`;
}

/** One line for messages and logs: `web: 10 nodes where cores>=4, mem>=8GiB ranked by cpu:desc, keep size`. */
export function describeSliceSpec(spec: SliceSpec): string {
  const parts = [`${spec.name}: ${formatCount(spec.count)}`];
  if (spec.where.predicates.length > 0) parts.push(`where ${formatQuery(spec.where)}`);
  if (spec.rank !== null) parts.push(`ranked by ${formatRank(spec.rank)}`);
  let line = parts.join(' ');
  if (spec.keepSize) line += ', keep size';
  return line;
}
