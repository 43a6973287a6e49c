/**
 * Checks applied to every field decoded from a peer. protobufjs guarantees wire types only: a
 * decoded `uint64` may be a Long beyond 2^53, a `double` may be NaN, an absent `bytes` field reads
 * as an empty array from the prototype, a repeated field may hold 60,000 entries. Each helper
 * turns one such field into a plain, in-range value or throws a CodecError naming it.
 */
import protobuf from 'protobufjs';
import { CodecError } from './errors.js';

/** Decodes `bytes` as `type`, turning any library failure (truncation, bad tag, depth) into a CodecError. */
export function decodeWith(type: protobuf.Type, bytes: Uint8Array, field: string): Record<string, unknown> {
  try {
    return type.decode(bytes) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new CodecError(field, `malformed ${type.name} (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

/** Encodes a plain object as `type`; a failure here is a bug in our own message, reported as a CodecError. */
export function encodeWith(type: protobuf.Type, value: Record<string, unknown>, field: string): Uint8Array {
  try {
    return type.encode(value).finish();
  } catch (err) {
    throw new CodecError(field, `cannot encode ${type.name} (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

export function uint(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new CodecError(field, `must be an integer in ${min}..${max}, got ${show(value)}`);
  }
  return value;
}

export function finite(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new CodecError(field, `must be a finite number, got ${show(value)}`);
  return value;
}

export function bool(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new CodecError(field, `must be a boolean, got ${show(value)}`);
  return value;
}

/**
 * A protobuf uint64 as a JS number: protobufjs yields a Long (or a number when Long is absent);
 * values beyond Number.MAX_SAFE_INTEGER are refused rather than rounded.
 */
export function uint64(field: string, value: unknown): number {
  if (typeof value === 'number') return uint(field, value, 0, Number.MAX_SAFE_INTEGER);
  if (typeof value === 'object' && value !== null && 'low' in value && 'high' in value) {
    const { low, high } = value as { low: number; high: number };
    const hi = high >>> 0;
    if (hi >= 0x200000) throw new CodecError(field, 'must be at most 2^53 - 1');
    return hi * 0x100000000 + (low >>> 0);
  }
  throw new CodecError(field, `must be an unsigned integer, got ${show(value)}`);
}

/** A `bytes` field; absent reads as empty. `length` exact, or at most `max`. */
export function bytes(field: string, value: unknown, limits: { length?: number; max?: number }): Uint8Array {
  let b: Uint8Array;
  if (value instanceof Uint8Array) b = value;
  else if (Array.isArray(value) && value.length === 0) b = new Uint8Array(0);
  else throw new CodecError(field, `must be bytes, got ${show(value)}`);
  if (limits.length !== undefined && b.length !== limits.length) throw new CodecError(field, `must be ${limits.length} bytes, got ${b.length}`);
  if (limits.max !== undefined && b.length > limits.max) throw new CodecError(field, `must be at most ${limits.max} bytes, got ${b.length}`);
  return b;
}

/** A repeated field (absent reads as empty) of at most `max` entries. */
export function list(field: string, value: unknown, max: number): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new CodecError(field, `must be a list, got ${show(value)}`);
  if (value.length > max) throw new CodecError(field, `has ${value.length} entries, at most ${max} allowed`);
  return value;
}

export function finiteList(field: string, value: unknown, max: number): number[] {
  const raw = list(field, value, max);
  const out = new Array<number>(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = finite(`${field}[${i}]`, raw[i]);
  return out;
}

export function uintList(field: string, value: unknown, max: number, lo: number, hi: number): number[] {
  const raw = list(field, value, max);
  const out = new Array<number>(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = uint(`${field}[${i}]`, raw[i], lo, hi);
  return out;
}

/** How one repeated field is laid out on the wire, to count its entries without decoding them. */
export type ElementEncoding = 'delimited' | 'varint' | 'fixed32' | 'fixed64';

export interface CountLimit {
  readonly id: number;
  readonly name: string;
  readonly encoding: ElementEncoding;
  readonly max: number;
}

/**
 * Counts the entries of repeated fields at the top level of an encoded message, using protobufjs'
 * reader to walk tags and skip values, and throws before anything is decoded if one has more than
 * allowed. protobufjs' decoder pushes entries one by one into arrays, so this is where an oversized
 * array is refused before it is allocated. Packed scalars are counted from their byte length
 * (fixed-size) or their varint terminators; unpacked ones one per occurrence.
 */
export function checkCounts(encoded: Uint8Array, limits: readonly CountLimit[], field: string): void {
  const counts = new Array<number>(limits.length).fill(0);
  const reader = protobuf.Reader.create(encoded);
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const id = tag >>> 3;
      const wireType = tag & 7;
      let i = 0;
      while (i < limits.length && limits[i].id !== id) i++;
      if (i === limits.length) {
        reader.skipType(wireType);
        continue;
      }
      const limit = limits[i];
      if (wireType === 2 && limit.encoding !== 'delimited') {
        const length = reader.uint32();
        if (reader.pos + length > reader.len) throw new RangeError('index out of range');
        counts[i] += packedCount(limit.encoding, reader.buf, reader.pos, length);
        reader.skip(length);
      } else {
        counts[i]++;
        reader.skipType(wireType);
      }
      if (counts[i] > limit.max) throw new CodecError(`${field}.${limit.name}`, `has more than ${limit.max} entries`);
    }
  } catch (err) {
    if (err instanceof CodecError) throw err;
    throw new CodecError(field, `malformed message (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

function packedCount(encoding: ElementEncoding, buf: Uint8Array, start: number, length: number): number {
  if (encoding === 'fixed32') return Math.ceil(length / 4);
  if (encoding === 'fixed64') return Math.ceil(length / 8);
  let n = 0;
  for (let p = start, end = start + length; p < end; p++) if (buf[p] < 0x80) n++;
  return n;
}

export function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return value === null ? 'null' : typeof value;
}
