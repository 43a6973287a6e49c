/**
 * One body schema per protocol message: how it is encoded, how it is decoded, and the semantic
 * checks that both sides apply (on encode so that a node never sends what its peers would refuse,
 * on decode because protobufjs only checks wire types). Every list is bounded by the configured
 * protocol parameter and counted before protobufjs allocates it (checkCounts).
 */
import protobuf from 'protobufjs';
import type { AggregationMessage } from '../../protocols/aggregation/aggregation.js';
import type { AttributeMessage } from '../../protocols/slicing/rank-estimation.js';
import { DESCRIPTOR_REF_BYTES, type WireDescriptorItem, decodeDescriptor, descriptorRef, isDescriptorRef } from './descriptor.js';
import { CodecError } from './errors.js';
import { type CountLimit, bool, bytes, checkCounts, decodeWith, encodeWith, finite, finiteList, list, show, uint, uintList } from './fields.js';
import type { CodecLimits } from './limits.js';
import type { WireSamplingBuffer, WireSlicingGossip, WireSwapReply, WireSwapRequest, WireTManBuffer } from './messages.js';
import { FIELD, wireTypes } from './schema.js';

/** Largest descriptor age (peer sampling views and slicing caches store ages in 16 bits). */
export const MAX_WIRE_AGE = 0xffff;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;

// ---- peer sampling ------------------------------------------------------------------------------

export function checkSampling(b: WireSamplingBuffer, limits: CodecLimits, field: string): void {
  const n = checkDescriptorList(`${field}.descriptors`, b.descriptors, limits.samplingDescriptors, limits);
  const ages = uintList(`${field}.ages`, b.ages, limits.samplingDescriptors, 0, MAX_WIRE_AGE);
  if (ages.length !== n) throw new CodecError(`${field}.ages`, `has ${ages.length} entries for ${n} descriptors`);
}

export function encodeSampling(b: WireSamplingBuffer, limits: CodecLimits, field: string): Uint8Array {
  checkSampling(b, limits, field);
  const items = splitItems(b.descriptors, [b.ages]);
  const out: Record<string, unknown> = { descriptors: items.full, ages: items.paired[0] };
  if (items.refs.length > 0) out.refs = items.refs;
  return encodeWith(wireTypes().descriptorBuffer, out, field);
}

export function decodeSampling(encoded: Uint8Array, limits: CodecLimits, field: string): WireSamplingBuffer {
  const max = limits.samplingDescriptors;
  checkCounts(
    encoded,
    [delimited(FIELD.bufferDescriptors, 'descriptors', max), { id: 2, name: 'ages', encoding: 'varint', max }, delimited(FIELD.bufferRefs, 'refs', 1)],
    field,
  );
  const raw = decodeWith(wireTypes().descriptorBuffer, encoded, field);
  const b: WireSamplingBuffer = {
    descriptors: decodeItems(`${field}.descriptors`, raw.descriptors, raw.refs, max, limits),
    ages: numbers(`${field}.ages`, raw.ages),
  };
  checkSampling(b, limits, field);
  return b;
}

// ---- aggregation ----------------------------------------------------------------------------------

export function checkAggregation(m: AggregationMessage, limits: CodecLimits, field: string): void {
  uint(`${field}.epoch`, m.epoch, -1, INT32_MAX);
  uint(`${field}.step`, m.step, 0, limits.aggregationMaxStep);
  bool(`${field}.participating`, m.participating);
  if (!Number.isNaN(m.estimate) && !(typeof m.estimate === 'number' && Number.isFinite(m.estimate) && m.estimate > 0 && m.estimate <= FLOAT32_MAX)) {
    throw new CodecError(`${field}.estimate`, `must be a positive finite 32-bit float or absent, got ${show(m.estimate)}`);
  }
  const values = float32List(`${field}.values`, m.values, limits.aggregationValues);
  const keys = uintList(`${field}.countKeys`, m.countKeys, limits.aggregationInstances, 1, UINT32_MAX);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i] <= keys[i - 1]) throw new CodecError(`${field}.countKeys[${i}]`, `keys must be strictly ascending, got ${keys[i - 1]} then ${keys[i]}`);
  }
  const counts = float32List(`${field}.countValues`, m.countValues, limits.aggregationInstances);
  if (counts.length !== keys.length) throw new CodecError(`${field}.countValues`, `has ${counts.length} entries for ${keys.length} keys`);
  if (!m.participating && (values.length > 0 || keys.length > 0)) {
    throw new CodecError(field, 'a message that does not take part in the epoch must not carry values or COUNT instances');
  }
}

export function encodeAggregation(m: AggregationMessage, limits: CodecLimits, field: string): Uint8Array {
  checkAggregation(m, limits, field);
  const out: Record<string, unknown> = { values: m.values, countKeys: m.countKeys, countValues: m.countValues };
  if (m.epoch !== 0) out.epoch = m.epoch;
  if (m.step !== 0) out.step = m.step;
  if (m.participating) out.participating = true;
  if (!Number.isNaN(m.estimate)) out.estimate = m.estimate; // absent means "no estimate"
  return encodeWith(wireTypes().aggregation, out, field);
}

export function decodeAggregation(encoded: Uint8Array, limits: CodecLimits, field: string): AggregationMessage {
  checkCounts(
    encoded,
    [
      { id: FIELD.aggregationValues, name: 'values', encoding: 'fixed32', max: limits.aggregationValues },
      { id: FIELD.aggregationCountKeys, name: 'countKeys', encoding: 'fixed32', max: limits.aggregationInstances },
      { id: FIELD.aggregationCountValues, name: 'countValues', encoding: 'fixed32', max: limits.aggregationInstances },
    ],
    field,
  );
  const raw = decodeWith(wireTypes().aggregation, encoded, field);
  const estimate = raw.estimate === 0 ? Number.NaN : (raw.estimate as number);
  const m: AggregationMessage = {
    epoch: raw.epoch as number,
    step: raw.step as number,
    participating: raw.participating as boolean,
    estimate,
    values: numbers(`${field}.values`, raw.values),
    countKeys: numbers(`${field}.countKeys`, raw.countKeys),
    countValues: numbers(`${field}.countValues`, raw.countValues),
  };
  // An explicit NaN on the wire is refused: "no estimate" is spelled by leaving the field out.
  if (Number.isNaN(raw.estimate)) throw new CodecError(`${field}.estimate`, 'must be a positive finite number or absent, got NaN');
  checkAggregation(m, limits, field);
  return m;
}

// ---- T-Man ------------------------------------------------------------------------------------------

export function checkTMan(b: WireTManBuffer, limits: CodecLimits, field: string): void {
  finite(`${field}.senderKey`, b.senderKey);
  uint(`${field}.group`, b.group, INT32_MIN, INT32_MAX);
  const n = checkDescriptorList(`${field}.descriptors`, b.descriptors, limits.tmanDescriptors, limits);
  const keys = finiteList(`${field}.keys`, b.keys, limits.tmanDescriptors);
  if (keys.length !== 0 && keys.length !== n) throw new CodecError(`${field}.keys`, `has ${keys.length} entries for ${n} descriptors (expected ${n} or none)`);
  const ages = uintList(`${field}.ages`, b.ages, limits.tmanDescriptors, 0, MAX_WIRE_AGE);
  if (ages.length !== n) throw new CodecError(`${field}.ages`, `has ${ages.length} entries for ${n} descriptors`);
}

export function encodeTMan(b: WireTManBuffer, limits: CodecLimits, field: string): Uint8Array {
  checkTMan(b, limits, field);
  const items = splitItems(b.descriptors, b.keys.length > 0 ? [b.ages, b.keys] : [b.ages]);
  const out: Record<string, unknown> = { descriptors: items.full, keys: items.paired[1] ?? [], ages: items.paired[0] };
  if (items.refs.length > 0) out.refs = items.refs;
  if (b.senderKey !== 0) out.senderKey = b.senderKey;
  if (b.group !== 0) out.group = b.group;
  return encodeWith(wireTypes().tmanBuffer, out, field);
}

export function decodeTMan(encoded: Uint8Array, limits: CodecLimits, field: string): WireTManBuffer {
  const max = limits.tmanDescriptors;
  checkCounts(
    encoded,
    [
      delimited(FIELD.tmanDescriptors, 'descriptors', max),
      { id: 4, name: 'keys', encoding: 'fixed64', max },
      { id: 5, name: 'ages', encoding: 'varint', max },
      delimited(FIELD.tmanRefs, 'refs', 1),
    ],
    field,
  );
  const raw = decodeWith(wireTypes().tmanBuffer, encoded, field);
  const b: WireTManBuffer = {
    senderKey: raw.senderKey as number,
    group: raw.group as number,
    descriptors: decodeItems(`${field}.descriptors`, raw.descriptors, raw.refs, max, limits),
    keys: numbers(`${field}.keys`, raw.keys),
    ages: numbers(`${field}.ages`, raw.ages),
  };
  checkTMan(b, limits, field);
  return b;
}

// ---- ordered slicing ---------------------------------------------------------------------------------

export function checkGossip(g: WireSlicingGossip | null, limits: CodecLimits, field: string): void {
  if (g === null) return;
  const max = limits.slicingGossip;
  const n = checkDescriptorList(`${field}.descriptors`, g.descriptors, max, limits);
  const attrs = finiteList(`${field}.attrs`, g.attrs, max);
  const rs = list(`${field}.rs`, g.rs, max);
  rs.forEach((r, i) => unitInterval(`${field}.rs[${i}]`, r));
  const ages = uintList(`${field}.ages`, g.ages, max, 0, MAX_WIRE_AGE);
  if (attrs.length !== n || rs.length !== n || ages.length !== n) {
    throw new CodecError(field, `descriptors, attrs, rs and ages must have the same length, got ${n}, ${attrs.length}, ${rs.length}, ${ages.length}`);
  }
}

export function checkSwapRequest(m: WireSwapRequest, limits: CodecLimits, field: string): void {
  finite(`${field}.a`, m.a);
  unitInterval(`${field}.r`, m.r);
  checkGossip(m.gossip, limits, `${field}.gossip`);
}

export function checkSwapReply(m: WireSwapReply, limits: CodecLimits, field: string): void {
  bool(`${field}.swapped`, m.swapped);
  finite(`${field}.a`, m.a);
  unitInterval(`${field}.r`, m.r);
  checkGossip(m.gossip, limits, `${field}.gossip`);
}

export function encodeSwapRequest(m: WireSwapRequest, limits: CodecLimits, field: string): Uint8Array {
  checkSwapRequest(m, limits, field);
  const out: Record<string, unknown> = { r: m.r };
  if (m.a !== 0) out.a = m.a;
  if (m.gossip !== null) out.gossip = gossipToWire(m.gossip);
  return encodeWith(wireTypes().swapRequest, out, field);
}

export function encodeSwapReply(m: WireSwapReply, limits: CodecLimits, field: string): Uint8Array {
  checkSwapReply(m, limits, field);
  const out: Record<string, unknown> = { r: m.r };
  if (m.swapped) out.swapped = true;
  if (m.a !== 0) out.a = m.a;
  if (m.gossip !== null) out.gossip = gossipToWire(m.gossip);
  return encodeWith(wireTypes().swapReply, out, field);
}

export function decodeSwapRequest(encoded: Uint8Array, limits: CodecLimits, field: string): WireSwapRequest {
  const raw = decodeSlicing(encoded, wireTypes().swapRequest, 3, limits, field);
  const m: WireSwapRequest = { a: raw.a as number, r: raw.r as number, gossip: gossipFromWire(raw.gossip, limits, `${field}.gossip`) };
  checkSwapRequest(m, limits, field);
  return m;
}

export function decodeSwapReply(encoded: Uint8Array, limits: CodecLimits, field: string): WireSwapReply {
  const raw = decodeSlicing(encoded, wireTypes().swapReply, 4, limits, field);
  const m: WireSwapReply = {
    swapped: raw.swapped as boolean,
    a: raw.a as number,
    r: raw.r as number,
    gossip: gossipFromWire(raw.gossip, limits, `${field}.gossip`),
  };
  checkSwapReply(m, limits, field);
  return m;
}

/**
 * The gossip is an embedded message, so its lists are not at the top level: count them inside each
 * occurrence of the gossip field before decoding the whole. (A repeated occurrence of a singular
 * message field is merged by protobuf, hence the counts add up across occurrences.)
 */
function decodeSlicing(encoded: Uint8Array, type: protobuf.Type, gossipField: number, limits: CodecLimits, field: string): Record<string, unknown> {
  checkCounts(encoded, [{ id: gossipField, name: 'gossip', encoding: 'delimited', max: 1 }], field);
  const gossipBytes = extractField(encoded, gossipField);
  if (gossipBytes) {
    const max = limits.slicingGossip;
    checkCounts(
      gossipBytes,
      [
        delimited(FIELD.gossipDescriptors, 'descriptors', max),
        { id: 2, name: 'attrs', encoding: 'fixed64', max },
        { id: 3, name: 'rs', encoding: 'fixed64', max },
        { id: 4, name: 'ages', encoding: 'varint', max },
      ],
      `${field}.gossip`,
    );
  }
  return decodeWith(type, encoded, field);
}

function gossipToWire(g: WireSlicingGossip): Record<string, unknown> {
  return { descriptors: encodedOf(g.descriptors), attrs: g.attrs, rs: g.rs, ages: g.ages };
}

function gossipFromWire(raw: unknown, limits: CodecLimits, field: string): WireSlicingGossip | null {
  if (raw === null || raw === undefined) return null;
  const g = raw as Record<string, unknown>;
  return {
    descriptors: decodeDescriptors(`${field}.descriptors`, g.descriptors, limits.slicingGossip, limits),
    attrs: numbers(`${field}.attrs`, g.attrs),
    rs: numbers(`${field}.rs`, g.rs),
    ages: numbers(`${field}.ages`, g.ages),
  };
}

// ---- rank estimation ------------------------------------------------------------------------------

export function encodeAttribute(m: AttributeMessage, _limits: CodecLimits, field: string): Uint8Array {
  const a = finite(`${field}.a`, m.a);
  if (Math.abs(a) > FLOAT32_MAX) throw new CodecError(`${field}.a`, `${a} does not fit a 32-bit float`);
  return encodeWith(wireTypes().attribute, m.a !== 0 ? { a: m.a } : {}, field);
}

export function decodeAttribute(encoded: Uint8Array, _limits: CodecLimits, field: string): AttributeMessage {
  const raw = decodeWith(wireTypes().attribute, encoded, field);
  return { a: finite(`${field}.a`, raw.a) };
}

// ---- helpers ----------------------------------------------------------------------------------------

function delimited(id: number, name: string, max: number): CountLimit {
  return { id, name, encoding: 'delimited', max };
}

function encodedOf(descriptors: readonly WireDescriptorItem[]): Uint8Array[] {
  return descriptors.map((d) => d.encoded);
}

/**
 * A descriptor list as DescriptorBuffer and TManBuffer carry it: full descriptors one per entry,
 * references packed into one `refs` field; items become full descriptors first, then references,
 * and the lists that pair with the items (`paired`: ages, keys) are reordered the same way.
 */
function splitItems(items: readonly WireDescriptorItem[], paired: readonly (readonly number[])[]): { full: Uint8Array[]; refs: Uint8Array; paired: number[][] } {
  const full: Uint8Array[] = [];
  const fullAt: number[] = [];
  const refAt: number[] = [];
  items.forEach((d, i) => {
    if (isDescriptorRef(d)) refAt.push(i);
    else {
      full.push(d.encoded);
      fullAt.push(i);
    }
  });
  const refs = new Uint8Array(refAt.length * DESCRIPTOR_REF_BYTES);
  refAt.forEach((at, j) => refs.set(items[at].encoded, j * DESCRIPTOR_REF_BYTES));
  const order = [...fullAt, ...refAt];
  return { full, refs, paired: paired.map((list_) => order.map((i) => list_[i])) };
}

/** The items of a descriptor list: decoded full descriptors, then the references of `rawRefs`. */
function decodeItems(field: string, rawDescriptors: unknown, rawRefs: unknown, max: number, limits: CodecLimits): WireDescriptorItem[] {
  const refsField = `${field.replace(/\.descriptors$/, '')}.refs`;
  const refs = bytes(refsField, rawRefs ?? new Uint8Array(0), {});
  if (refs.length % DESCRIPTOR_REF_BYTES !== 0) throw new CodecError(refsField, `${refs.length} bytes is not a whole number of ${DESCRIPTOR_REF_BYTES}-byte references`);
  const full = list(field, rawDescriptors, max);
  const n = refs.length / DESCRIPTOR_REF_BYTES;
  if (full.length + n > max) throw new CodecError(field, `has ${full.length} descriptors and ${n} references, at most ${max} entries allowed`);
  const out = decodeDescriptors(field, full, max, limits);
  for (let i = 0; i < n; i++) out.push(descriptorRef(refs.subarray(i * DESCRIPTOR_REF_BYTES, (i + 1) * DESCRIPTOR_REF_BYTES)));
  return out;
}

/** Largest finite 32-bit float: aggregation values travel as floats. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** A list of finite numbers that fit a 32-bit float (rounding is fine, overflow to infinity is not). */
function float32List(field: string, value: unknown, max: number): number[] {
  const out = finiteList(field, value, max);
  for (let i = 0; i < out.length; i++) {
    if (Math.abs(out[i]) > FLOAT32_MAX) throw new CodecError(`${field}[${i}]`, `${out[i]} does not fit a 32-bit float`);
  }
  return out;
}

function checkDescriptorList(field: string, descriptors: readonly WireDescriptorItem[], max: number, limits: CodecLimits): number {
  const list_ = list(field, descriptors, max);
  for (let i = 0; i < list_.length; i++) {
    const d = list_[i] as WireDescriptorItem;
    if (typeof d !== 'object' || d === null || !(d.encoded instanceof Uint8Array)) throw new CodecError(`${field}[${i}]`, 'must be a descriptor');
    if (d.encoded.length > limits.maxDescriptorBytes) throw new CodecError(`${field}[${i}]`, `descriptor is ${d.encoded.length} bytes, at most ${limits.maxDescriptorBytes} allowed`);
  }
  return list_.length;
}

/** Full descriptors are decoded and checked; items of DESCRIPTOR_REF_BYTES are references. */
function decodeDescriptors(field: string, raw: unknown, max: number, limits: CodecLimits): WireDescriptorItem[] {
  const items = list(field, raw, max);
  const out = new Array<WireDescriptorItem>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = bytes(`${field}[${i}]`, items[i], {});
    out[i] = item.length === DESCRIPTOR_REF_BYTES ? descriptorRef(item) : decodeDescriptor(item, limits, `${field}[${i}]`);
  }
  return out;
}

/** A decoded repeated number field as a plain array (absent: empty). */
function numbers(field: string, raw: unknown): number[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new CodecError(field, `must be a list, got ${show(raw)}`);
  return raw as number[];
}

function unitInterval(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new CodecError(field, `must be in (0, 1], got ${show(value)}`);
  return value;
}

/** The bytes of the last occurrence of length-delimited field `id` at the top level, or null. */
function extractField(encoded: Uint8Array, id: number): Uint8Array | null {
  // checkCounts already walked this message, so the reader cannot fail here.
  const reader = protobuf.Reader.create(encoded);
  let found: Uint8Array | null = null;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === id && (tag & 7) === 2) found = reader.bytes();
    else reader.skipType(tag & 7);
  }
  return found;
}
