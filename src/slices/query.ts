/**
 * The slice query language: what follows `--where`. A query is a conjunction of predicates
 * separated by "," or "and":
 *
 *     cores>=4, mem>=8GiB and label.zone=lab2
 *
 * Each predicate is ATTRIBUTE OPERATOR VALUE with the operators = != < <= > >= (labels: = and !=
 * only). Attributes and value syntax are in query-attributes.ts and query-units.ts; the user-facing
 * description is QUERY.md. The language is tiny, so it is parsed by hand with a few sticky regular
 * expressions: that gives exact columns and messages naming the problem, which a generated parser
 * would not do better. An empty text is the empty query, which every node matches.
 */
import { LABEL_VALUE_PATTERN } from '../node/config-values.js';
import { KNOWN_ATTRIBUTES_HINT, LABEL_PREFIX, type NumericAttribute, numericAttribute, resolveAttribute } from './query-attributes.js';
import { QueryError, showText } from './query-errors.js';
import { expectedValue, formatValue, isUnitWord, parseValue } from './query-units.js';

export type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type LabelComparison = '=' | '!=';

export const COMPARISONS: readonly Comparison[] = Object.freeze(['=', '!=', '<', '<=', '>', '>=']);
export const LABEL_COMPARISONS: readonly LabelComparison[] = Object.freeze(['=', '!=']);

export interface NumericPredicate {
  readonly kind: 'numeric';
  readonly attribute: NumericAttribute;
  readonly op: Comparison;
  /** In the attribute's base unit: bytes, milliseconds, a 0..1 fraction, or a plain number. */
  readonly value: number;
}

export interface LabelPredicate {
  readonly kind: 'label';
  /** Without the "label." prefix. */
  readonly key: string;
  readonly op: LabelComparison;
  readonly value: string;
}

export type Predicate = NumericPredicate | LabelPredicate;

export interface Query {
  /** All must hold. Empty: every node matches. */
  readonly predicates: readonly Predicate[];
}

/** More predicates than this is not a real request; the cap bounds the work a peer can ask for. */
export const MAX_PREDICATES = 16;
export const MAX_QUERY_LENGTH = 4096;

export const EMPTY_QUERY: Query = Object.freeze({ predicates: Object.freeze([]) });

export const LABEL_VALUE_HINT = '1..128 letters, digits or . _ : / + -';

/** Why a label value could never be a node's label value (see config-values.ts), or null. */
export function labelValueProblem(value: string): string | null {
  return LABEL_VALUE_PATTERN.test(value) ? null : `label value ${showText(value)} is not valid`;
}

/** Parses a `--where` expression. Throws QueryError (field "where") with the column of the problem. */
export function parseQuery(text: string): Query {
  if (typeof text !== 'string') throw new QueryError({ field: 'where', problem: `the query must be text, got ${showText(text)}` });
  if (text.length > MAX_QUERY_LENGTH) {
    throw new QueryError({ field: 'where', problem: `the query is ${text.length} characters long, at most ${MAX_QUERY_LENGTH} allowed` });
  }
  return new QueryParser(text).parse();
}

/** The canonical text: `cores>=4, mem>=8GiB, label.zone=lab2`; "" for the empty query. Parses back to an equal query. */
export function formatQuery(query: Query): string {
  return query.predicates.map(formatPredicate).join(', ');
}

export function formatPredicate(predicate: Predicate): string {
  if (predicate.kind === 'label') return `${LABEL_PREFIX}${predicate.key}${predicate.op}${predicate.value}`;
  const info = numericAttribute(predicate.attribute);
  return `${info.name}${predicate.op}${formatValue(info.kind, predicate.value)}`;
}

// Sticky (y) expressions match exactly at `lastIndex`: the parser sets it to its position.
const SPACES = /\s+/y;
const ATTRIBUTE_WORD = /[^\s=!<>,]+/y;
const OPERATOR = /==|!=|>=|<=|=|<|>/y;
const QUOTED = /"([^"]*)"|'([^']*)'/y;
const VALUE_WORD = /[^\s,]+/y;
const UNIT_WORD = /[A-Za-z%]+(?=[\s,]|$)/y;
const AND = /and(?=\s|$)/iy;
const PLAIN_NUMBER = /^(?:\d+(?:\.\d+)?|\.\d+)$/;
const OPERATORS_HINT = 'operators: =, !=, <, <=, >, >=';

class QueryParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): Query {
    this.skipSpaces();
    if (this.atEnd()) return EMPTY_QUERY;
    const predicates: Predicate[] = [];
    for (;;) {
      const start = this.pos;
      if (predicates.length === MAX_PREDICATES) this.fail(`more than ${MAX_PREDICATES} predicates`, start);
      predicates.push(this.predicate());
      this.skipSpaces();
      if (this.atEnd()) break;
      const separator = this.take(',') ?? this.take(AND);
      if (separator === null) this.fail(`expected "," or "and" before ${this.showNext()}`, this.pos);
      this.skipSpaces();
      if (this.atEnd()) this.fail(`expected a predicate after ${showText(separator)}`, this.pos, 'e.g. cores>=4');
    }
    return Object.freeze({ predicates: Object.freeze(predicates) });
  }

  private predicate(): Predicate {
    const nameAt = this.pos;
    const name = this.take(ATTRIBUTE_WORD);
    if (name === null) this.fail(`expected an attribute, got ${this.showNext()}`, nameAt, KNOWN_ATTRIBUTES_HINT);
    const ref = resolveAttribute(name);
    if (ref.kind === 'unknown') this.fail(ref.problem, nameAt, ref.hint);
    const shownName = ref.kind === 'label' ? `${LABEL_PREFIX}${ref.key}` : ref.info.name;

    this.skipSpaces();
    const opAt = this.pos;
    const rawOp = this.take(OPERATOR);
    if (rawOp === null) this.fail(`expected an operator after ${showText(name)}, got ${this.showNext()}`, opAt, OPERATORS_HINT);
    const follower = this.text[this.pos];
    if (rawOp === '=' && (follower === '>' || follower === '<')) {
      this.fail(`"=${follower}" is not an operator`, opAt, `did you mean ${follower}=?`);
    }
    const op: Comparison = rawOp === '==' ? '=' : (rawOp as Comparison);

    if (ref.kind === 'label') {
      if (op !== '=' && op !== '!=') this.fail(`${shownName} only supports = and !=`, opAt, 'labels are text');
      this.skipSpaces();
      const valueAt = this.pos;
      const value = this.value(`${name}${rawOp}`);
      const problem = labelValueProblem(value);
      if (problem !== null) this.fail(problem, valueAt, LABEL_VALUE_HINT);
      return Object.freeze({ kind: 'label', key: ref.key, op, value });
    }

    const { kind } = ref.info;
    this.skipSpaces();
    const valueAt = this.pos;
    let text = this.value(`${name}${rawOp}`);
    // "8 GiB": a unit written apart from its number belongs to it.
    if (PLAIN_NUMBER.test(text)) {
      const before = this.pos;
      this.skipSpaces();
      const unit = this.take(UNIT_WORD);
      if (unit !== null && isUnitWord(kind, unit)) text += unit;
      else this.pos = before;
    }
    const parsed = parseValue(kind, text);
    if (!parsed.ok) this.fail(parsed.problem, valueAt, parsed.hint ?? `${shownName} takes ${expectedValue(kind)}`);
    return Object.freeze({ kind: 'numeric', attribute: ref.info.name, op, value: parsed.value });
  }

  /** A value: a quoted string (quotes removed) or a run of characters up to a space or ",". */
  private value(after: string): string {
    const at = this.pos;
    const quote = this.text[at];
    if (quote === '"' || quote === "'") {
      QUOTED.lastIndex = at;
      const m = QUOTED.exec(this.text);
      if (!m) this.fail(`unterminated ${quote === '"' ? 'double' : 'single'} quote`, at);
      this.pos = QUOTED.lastIndex;
      return m[1] ?? m[2];
    }
    const word = this.take(VALUE_WORD);
    if (word === null) this.fail(`expected a value after ${showText(after)}, got ${this.showNext()}`, at);
    return word;
  }

  private take(pattern: RegExp | string): string | null {
    if (typeof pattern === 'string') {
      if (!this.text.startsWith(pattern, this.pos)) return null;
      this.pos += pattern.length;
      return pattern;
    }
    pattern.lastIndex = this.pos;
    const m = pattern.exec(this.text);
    if (!m) return null;
    this.pos = pattern.lastIndex;
    return m[0];
  }

  private skipSpaces(): void {
    this.take(SPACES);
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private showNext(): string {
    if (this.atEnd()) return 'the end';
    VALUE_WORD.lastIndex = this.pos;
    const m = VALUE_WORD.exec(this.text);
    return showText(m ? m[0] : this.text[this.pos]);
  }

  private fail(problem: string, at: number, hint?: string): never {
    throw new QueryError({ field: 'where', problem, column: at + 1, input: this.text, hint });
  }
}
