/**
 * The values of slice query predicates: plain numbers, byte sizes, durations and fractions, typed
 * with units (`8GiB`, `100GB`, `2h`, `90%`) and kept in base units (bytes, milliseconds, 0..1).
 *
 * Every stored value obeys the invariants `checkValue` enforces (non-negative, finite, sizes and
 * durations whole), whether it was typed or received from a peer, and `formatValue` writes a text
 * that parses back to exactly the same number, so canonical queries survive a round trip.
 */
import { showText } from './query-errors.js';

export type ValueKind = 'number' | 'size' | 'duration' | 'fraction';

export type ParsedValue =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly problem: string; readonly hint?: string };

/** Plain numbers above this are typos, not machines (and stay clear of exponent formatting). */
export const MAX_PLAIN_NUMBER = 1e15;

const NUMBER = /^(?:\d+(?:\.\d+)?|\.\d+)(?:e[+-]?\d+)?$/i;
const SIZE = /^(\d*)(?:\.(\d+))?\s*([a-z]*)$/i;
const DURATION_PART = /(\d+(?:\.\d+)?|\.\d+)\s*(ms|min|s|m|h|d|w)/iy;

const SIZE_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['kb', 1e3],
  ['mb', 1e6],
  ['gb', 1e9],
  ['tb', 1e12],
  ['kib', 1024],
  ['mib', 1024 ** 2],
  ['gib', 1024 ** 3],
  ['tib', 1024 ** 4],
]);
/** Largest first: the canonical form uses the largest unit that divides the value exactly. */
const SIZE_FORMAT_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['TiB', 1024 ** 4],
  ['TB', 1e12],
  ['GiB', 1024 ** 3],
  ['GB', 1e9],
  ['MiB', 1024 ** 2],
  ['MB', 1e6],
  ['KiB', 1024],
  ['KB', 1e3],
];
const BINARY_UNITS = SIZE_FORMAT_UNITS.filter(([name]) => name.endsWith('iB'));

const DURATION_UNITS: ReadonlyMap<string, number> = new Map([
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['min', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
  ['w', 604_800_000],
]);
const DURATION_FORMAT_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['w', 604_800_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

const SIZE_HINT = 'a size such as 8GiB or 100GB: B, KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB (powers of 1024)';
const DURATION_HINT = 'a duration such as 90s, 30m, 2h or 3d: ms, s, m, h, d, w';
const FRACTION_HINT = 'a fraction from 0 to 1, such as 0.9 or 90%';
const NUMBER_HINT = 'a plain number such as 4 or 1200';

/** What a value of this kind looks like, for messages and docs. */
export function expectedValue(kind: ValueKind): string {
  switch (kind) {
    case 'number':
      return NUMBER_HINT;
    case 'size':
      return SIZE_HINT;
    case 'duration':
      return DURATION_HINT;
    case 'fraction':
      return FRACTION_HINT;
  }
}

/** Parses typed text (no surrounding spaces) into base units. */
export function parseValue(kind: ValueKind, text: string): ParsedValue {
  switch (kind) {
    case 'number':
      return parseNumber(text);
    case 'size':
      return parseSize(text);
    case 'duration':
      return parseDuration(text);
    case 'fraction':
      return parseFraction(text);
  }
}

/** Whether `word` is a unit of this kind, so `8 GiB` can be read as `8GiB`. */
export function isUnitWord(kind: ValueKind, word: string): boolean {
  const w = word.toLowerCase();
  if (kind === 'size') return w !== '' && SIZE_UNITS.has(w);
  if (kind === 'duration') return DURATION_UNITS.has(w);
  if (kind === 'fraction') return w === '%';
  return false;
}

/** Checks a value in base units against the kind's invariants; returns it normalized (no -0). */
export function checkValue(kind: ValueKind, value: number): ParsedValue {
  if (typeof value !== 'number' || !Number.isFinite(value)) return { ok: false, problem: `${showText(value)} is not a finite number` };
  if (value < 0) return { ok: false, problem: `${value} is negative` };
  const v = value === 0 ? 0 : value;
  switch (kind) {
    case 'number':
      return v > MAX_PLAIN_NUMBER ? { ok: false, problem: `${v} is too large (at most ${MAX_PLAIN_NUMBER})` } : { ok: true, value: v };
    case 'size':
    case 'duration': {
      const unit = kind === 'size' ? 'bytes' : 'milliseconds';
      if (!Number.isInteger(v)) return { ok: false, problem: `${v} is not a whole number of ${unit}` };
      if (v > Number.MAX_SAFE_INTEGER) return { ok: false, problem: `${v} ${unit} is too large` };
      return { ok: true, value: v };
    }
    case 'fraction':
      return v > 1 ? { ok: false, problem: `${v} is more than 1`, hint: FRACTION_HINT } : { ok: true, value: v };
  }
}

/** The canonical text of a checked value: parses back to exactly `value`. */
export function formatValue(kind: ValueKind, value: number): string {
  switch (kind) {
    case 'number':
    case 'fraction':
      return String(value);
    case 'size':
      return value === 0 ? '0B' : withLargestExactUnit(value, SIZE_FORMAT_UNITS, 'B');
    case 'duration':
      return value === 0 ? '0s' : withLargestExactUnit(value, DURATION_FORMAT_UNITS, 'ms');
  }
}

/** A rounded, human reading of a value (what a node has, in explanations): 7.63GiB, 3.2h, 97.3%. */
export function describeValue(kind: ValueKind, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  switch (kind) {
    case 'number':
      return String(round(value, 6));
    case 'fraction':
      return `${round(value * 100, 3)}%`;
    case 'size': {
      const unit = BINARY_UNITS.find(([, size]) => value >= size);
      return unit ? `${round(value / unit[1], 3)}${unit[0]}` : `${round(value, 3)}B`;
    }
    case 'duration': {
      const unit = DURATION_FORMAT_UNITS.find(([, size]) => value >= size);
      return unit ? `${round(value / unit[1], 3)}${unit[0]}` : `${round(value, 3)}ms`;
    }
  }
}

function round(value: number, digits: number): number {
  return Number(value.toPrecision(digits));
}

function withLargestExactUnit(value: number, units: ReadonlyArray<readonly [string, number]>, base: string): string {
  const unit = units.find(([, size]) => value % size === 0);
  return unit ? `${value / unit[1]}${unit[0]}` : `${value}${base}`;
}

function parseNumber(text: string): ParsedValue {
  if (!NUMBER.test(text)) return { ok: false, problem: `${showText(text)} is not a number`, hint: NUMBER_HINT };
  const n = Number(text);
  if (!(n <= MAX_PLAIN_NUMBER)) return { ok: false, problem: `${showText(text)} is too large`, hint: `at most ${MAX_PLAIN_NUMBER}` };
  return checkValue('number', n);
}

/** Sizes are computed in exact decimal arithmetic, so 1.1KB is 1100 bytes, not 1100.0000000000002. */
function parseSize(text: string): ParsedValue {
  const m = SIZE.exec(text);
  const unit = m ? SIZE_UNITS.get(m[3].toLowerCase()) : undefined;
  if (!m || (m[1] === '' && m[2] === undefined) || unit === undefined) {
    return { ok: false, problem: `${showText(text)} is not a size`, hint: SIZE_HINT };
  }
  const fraction = m[2] ?? '';
  const scaled = BigInt(`${m[1]}${fraction}`) * BigInt(unit);
  const divisor = 10n ** BigInt(fraction.length);
  if (scaled % divisor !== 0n) return { ok: false, problem: `${showText(text)} is not a whole number of bytes` };
  const bytes = scaled / divisor;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, problem: `${showText(text)} is too large` };
  return { ok: true, value: Number(bytes) };
}

/** "90s", "2h", "1h30m", "1.5d"; a bare number only when it is zero (a bare "90" is ambiguous). */
function parseDuration(text: string): ParsedValue {
  if (NUMBER.test(text)) {
    if (Number(text) === 0) return { ok: true, value: 0 };
    return { ok: false, problem: `${showText(text)} needs a unit`, hint: DURATION_HINT };
  }
  let ms = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const m = DURATION_PART.exec(text);
    if (!m) return { ok: false, problem: `${showText(text)} is not a duration`, hint: DURATION_HINT };
    ms += Number(m[1]) * (DURATION_UNITS.get(m[2].toLowerCase()) ?? Number.NaN);
  }
  if (!(ms <= Number.MAX_SAFE_INTEGER)) return { ok: false, problem: `${showText(text)} is too large` };
  // Sub-millisecond parts (0.0001s) are meaningless for uptime: whole milliseconds.
  return checkValue('duration', Math.round(ms));
}

function parseFraction(text: string): ParsedValue {
  const percent = text.endsWith('%');
  const digits = (percent ? text.slice(0, -1) : text).trimEnd();
  if (!NUMBER.test(digits)) return { ok: false, problem: `${showText(text)} is not a fraction`, hint: FRACTION_HINT };
  const n = Number(digits);
  if (percent && n > 100) return { ok: false, problem: `${showText(text)} is more than 100%`, hint: FRACTION_HINT };
  if (!percent && n > 1) return { ok: false, problem: `${showText(text)} is more than 1`, hint: `${FRACTION_HINT}; write ${digits}% for a percentage` };
  return checkValue('fraction', percent ? n / 100 : n);
}
