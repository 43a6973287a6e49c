/**
 * Evaluating a slice query against one node's attributes: does the node qualify, and if not, why
 * (so a requester can say "found 7 of 10 nodes matching cores>=16" and which predicates ruled the
 * others out).
 *
 * Attributes may come from peers, so a non-finite number never satisfies a numeric predicate (not
 * even `!=`), and labels are looked up as own properties only (a label query for "constructor"
 * must not find Object.prototype's).
 */
import type { NodeAttributes } from '../node/attributes.js';
import { type NumericAttribute, numericAttribute } from './query-attributes.js';
import { type Comparison, formatPredicate, type Predicate, type Query } from './query.js';
import { describeValue } from './query-units.js';

export interface PredicateFailure {
  readonly predicate: Predicate;
  /** The node's value: a number in base units, a label value, or null when the node has no such label. */
  readonly actual: number | string | null;
  /** For people: `cores>=16 (node has 8)`, `label.zone=lab2 (node has no zone label)`. */
  readonly text: string;
}

export interface Explanation {
  readonly matches: boolean;
  /** The predicates that do not hold, in query order; empty when the node matches. */
  readonly failed: readonly PredicateFailure[];
}

/** Whether the node satisfies every predicate. */
export function matches(query: Query, attributes: NodeAttributes): boolean {
  return query.predicates.every((predicate) => holds(predicate, attributes));
}

/** Which predicates the node fails, with its values. */
export function explain(query: Query, attributes: NodeAttributes): Explanation {
  const failed = query.predicates.filter((predicate) => !holds(predicate, attributes)).map((predicate) => failure(predicate, attributes));
  return { matches: failed.length === 0, failed };
}

export function holds(predicate: Predicate, attributes: NodeAttributes): boolean {
  if (predicate.kind === 'label') {
    const actual = labelValue(attributes, predicate.key);
    return predicate.op === '=' ? actual === predicate.value : actual !== predicate.value;
  }
  const actual = attributeValue(predicate.attribute, attributes);
  return Number.isFinite(actual) && compare(actual, predicate.op, predicate.value);
}

/** The node's value of a numeric attribute, in base units. */
export function attributeValue(attribute: NumericAttribute, attributes: NodeAttributes): number {
  return numericAttribute(attribute).read(attributes);
}

/** A missing label is null: `label.zone!=lab2` holds for a node with no zone label. */
export function labelValue(attributes: NodeAttributes, key: string): string | null {
  const labels = attributes.labels;
  if (!Object.hasOwn(labels, key)) return null;
  const value = labels[key];
  return typeof value === 'string' ? value : null;
}

function compare(actual: number, op: Comparison, expected: number): boolean {
  switch (op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
  }
}

function failure(predicate: Predicate, attributes: NodeAttributes): PredicateFailure {
  const shown = formatPredicate(predicate);
  if (predicate.kind === 'label') {
    const actual = labelValue(attributes, predicate.key);
    const has = actual === null ? `node has no ${predicate.key} label` : `node has ${actual}`;
    return { predicate, actual, text: `${shown} (${has})` };
  }
  const actual = attributeValue(predicate.attribute, attributes);
  const has = Number.isFinite(actual) ? `node has ${describeValue(numericAttribute(predicate.attribute).kind, actual)}` : 'node does not report it';
  return { predicate, actual, text: `${shown} (${has})` };
}
