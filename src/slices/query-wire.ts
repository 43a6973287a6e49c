/**
 * The wire form of a slice query: a JSON-safe list of `{attr, op, value}` with canonical attribute
 * names and values in base units (bytes, milliseconds, 0..1). Queries arrive from peers, so
 * `queryFromWire` trusts nothing: the shape is checked by a zod schema (types, lengths, at most
 * MAX_PREDICATES entries, no unknown keys) and every predicate by the same rules the parser
 * applies. Whatever is wrong, the only error is a QueryError with field "wire".
 */
import * as z from '../core/zod.js';
import { type NumericAttribute, LABEL_PREFIX, resolveCanonicalAttribute } from './query-attributes.js';
import { QueryError, showText } from './query-errors.js';
import { checkValue } from './query-units.js';
import { COMPARISONS, type Comparison, LABEL_VALUE_HINT, labelValueProblem, MAX_PREDICATES, type Predicate, type Query } from './query.js';

export interface WirePredicate {
  /** `cores`, `availability.day`, `label.zone`. */
  readonly attr: string;
  readonly op: Comparison;
  /** A number for numeric attributes, a string for labels. */
  readonly value: number | string;
}

export type WireQuery = readonly WirePredicate[];

/** "label." + a 63-character key. */
export const MAX_WIRE_ATTRIBUTE_LENGTH = LABEL_PREFIX.length + 63;
export const MAX_WIRE_LABEL_VALUE_LENGTH = 128;

export const wirePredicateSchema = z.strictObject({
  attr: z.string().check(z.maxLength(MAX_WIRE_ATTRIBUTE_LENGTH)),
  op: z.string().check(z.maxLength(2)),
  // Typed by predicateFromWire, which knows whether the attribute wants a number or a string (and
  // says so better than a union would); optional only so a missing value reaches that check.
  value: z.optional(z.unknown()),
});

export const wireQuerySchema = z.array(wirePredicateSchema).check(z.maxLength(MAX_PREDICATES));

export function queryToWire(query: Query): WirePredicate[] {
  return query.predicates.map((p) =>
    p.kind === 'label' ? { attr: `${LABEL_PREFIX}${p.key}`, op: p.op, value: p.value } : { attr: p.attribute, op: p.op, value: p.value },
  );
}

export function queryFromWire(data: unknown): Query {
  const parsed = wireQuerySchema.safeParse(data);
  if (!parsed.success) throw wireError(zodProblem(parsed.error, 'where'));
  return queryFromChecked(parsed.data, 'where');
}

/** Validates the predicates of an already shape-checked wire query. `path` prefixes messages. */
export function queryFromChecked(predicates: ReadonlyArray<z.infer<typeof wirePredicateSchema>>, path: string): Query {
  return Object.freeze({ predicates: Object.freeze(predicates.map((p, i) => predicateFromWire(p, `${path}[${i}]`))) });
}

function predicateFromWire(p: z.infer<typeof wirePredicateSchema>, path: string): Predicate {
  const ref = resolveCanonicalAttribute(p.attr);
  if (ref.kind === 'unknown') throw wireError(`${path}.attr: ${ref.problem}`);
  if (!(COMPARISONS as readonly string[]).includes(p.op)) throw wireError(`${path}.op: ${showText(p.op)} is not an operator`);
  const op = p.op as Comparison;
  if (ref.kind === 'label') {
    if (op !== '=' && op !== '!=') throw wireError(`${path}.op: labels only support = and !=, got ${showText(op)}`);
    if (typeof p.value !== 'string') throw wireError(`${path}.value: a label value must be a string, got ${showText(p.value)}`);
    if (p.value.length > MAX_WIRE_LABEL_VALUE_LENGTH) throw wireError(`${path}.value: ${p.value.length} characters, at most ${MAX_WIRE_LABEL_VALUE_LENGTH}`);
    const problem = labelValueProblem(p.value);
    if (problem !== null) throw wireError(`${path}.value: ${problem} (${LABEL_VALUE_HINT})`);
    return Object.freeze({ kind: 'label', key: ref.key, op, value: p.value });
  }
  if (typeof p.value !== 'number') throw wireError(`${path}.value: ${ref.info.name} takes a number, got ${showText(p.value)}`);
  const checked = checkValue(ref.info.kind, p.value);
  if (!checked.ok) throw wireError(`${path}.value: ${checked.problem}`);
  return Object.freeze({ kind: 'numeric', attribute: ref.info.name satisfies NumericAttribute, op, value: checked.value });
}

export function wireError(problem: string): QueryError {
  return new QueryError({ field: 'wire', problem: `malformed slice request: ${problem}` });
}

/** The first issue of a zod failure as `path: message`, e.g. `where[2].value: Invalid input: expected number`. */
export function zodProblem(error: z.core.$ZodError, root?: string): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const path = issue.path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc === '' ? String(key) : `${acc}.${String(key)}`), root ?? '');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}
