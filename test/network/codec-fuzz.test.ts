/**
 * Fuzzing the decoder with seeded (reproducible) random input: pure garbage, garbage inside a valid
 * envelope (so that every body decoder sees it), and single-byte mutations and truncations of valid
 * messages. Every outcome must be a CodecError or a message that passes an independent check of
 * every field, and re-encodes to the same message. The same inputs then go through the peer
 * directory, which may only add DescriptorErrors (forged descriptors) to the possible outcomes.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { SeededRandom } from '../../src/core/random.js';
import { WIRE_VERSION, WireCodec } from '../../src/network/codec/codec.js';
import { DESCRIPTOR_REF_BYTES, type WireDescriptor, type WireDescriptorItem, isDescriptorRef } from '../../src/network/codec/descriptor.js';
import { CodecError } from '../../src/network/codec/errors.js';
import { type CodecLimits, limitsForProtocols } from '../../src/network/codec/limits.js';
import type { WireMessage, WireSlicingGossip } from '../../src/network/codec/messages.js';
import { wireTypes } from '../../src/network/codec/schema.js';
import { type NodeIdentity, identityFromPrivateKey } from '../../src/node/identity.js';
import { LocalDescriptor } from '../../src/node/local-descriptor.js';
import { PeerDirectory } from '../../src/node/peer-directory.js';
import { ringKeyOf } from '../../src/node/ring-key.js';
import { identitySigner } from '../../src/node/signed-descriptor.js';
import type { ProtocolMessage } from '../../src/node/wire-translation.js';
import { newscast } from '../../src/protocols/peer-sampling/config.js';

const NOW = 1_760_000_000_000;
const clock = new ManualClock(NOW);
const limits = limitsForProtocols({ sampling: newscast(30) }, { tmanDescriptors: 20, slicingGossip: 5, aggregationValues: 8, aggregationInstances: 8 });
const codec = new WireCodec(limits);

/**
 * Ed25519 keys from fixed seeds (PKCS#8 wrapping of a 32-byte seed): with deterministic signatures
 * and a fixed clock every message, and so every mutation and its outcome, is the same on each run.
 */
function seededIdentity(seed: number): NodeIdentity {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]);
  return identityFromPrivateKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
}

const nodes = Array.from({ length: 16 }, (_, i) => new LocalDescriptor(identitySigner(seededIdentity(i + 1)), clock, { addresses: [{ host: `10.1.0.${i + 1}`, port: 9000 + i }] }));
const descriptors: WireDescriptor[] = nodes.map((n) => n.current());

const senderKey = ringKeyOf(nodes[0].nodeId);

function valid(): Uint8Array[] {
  const gossip: WireSlicingGossip = { descriptors: descriptors.slice(0, 3), attrs: [1, 2.5, -3], rs: [0.5, 0.25, 1], ages: [0, 1, 2] };
  const messages: WireMessage[] = [
    { protocol: 'sampling', kind: 'request', body: { descriptors: descriptors.slice(0, 15), ages: descriptors.slice(0, 15).map((_, i) => i) } },
    { protocol: 'sampling', kind: 'response', body: { descriptors: descriptors.slice(3, 5), ages: [4, 300] } },
    { protocol: 'aggregation', kind: 'request', body: { epoch: 3, step: 5, participating: true, estimate: 1000, values: [1.5, 2, -7, 0.25], countKeys: [5, 77, 1234567], countValues: [0.5, 0.25, 0.0009765625] } },
    { protocol: 'aggregation', kind: 'response', body: { epoch: 3, step: 6, participating: false, estimate: Number.NaN, values: [], countKeys: [], countValues: [] } },
    // From descriptors[0]'s node (the sender in probe()), whose ring key the directory checks.
    { protocol: 'tman', kind: 'request', body: { senderKey: senderKey, group: 2, descriptors: descriptors.slice(0, 6), keys: [], ages: [0, 1, 2, 3, 4, 5] } },
    { protocol: 'tman', kind: 'response', body: { senderKey: senderKey, group: 0, descriptors: descriptors.slice(6, 8), keys: [], ages: [9, 10] } },
    // Keys carried with the descriptors (a directory in node-id mode refuses this one).
    { protocol: 'tman', kind: 'response', body: { senderKey: 1.5, group: 0, descriptors: descriptors.slice(6, 8), keys: [3.5, -2], ages: [9, 10] } },
    { protocol: 'slicing', kind: 'request', body: { a: 12.5, r: 0.3, gossip } },
    { protocol: 'slicing', kind: 'response', body: { swapped: true, a: 4, r: 0.9, gossip: null } },
    { protocol: 'ranking', kind: 'request', body: { a: 77.25 } },
  ];
  return messages.map((m) => codec.encode(m));
}

// ---- an independent check of a decoded message (does not reuse the codec's validators) -----------

const isInt = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const isFinite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const inUnit = (v: unknown): boolean => typeof v === 'number' && v > 0 && v <= 1;

function checkDescriptor(d: WireDescriptorItem): void {
  if (isDescriptorRef(d)) {
    assert.ok(d.ref.length === DESCRIPTOR_REF_BYTES && d.encoded === d.ref);
    return;
  }
  assert.ok(d.publicKey instanceof Uint8Array && d.publicKey.length === 32);
  assert.ok(d.signature instanceof Uint8Array && d.signature.length === 64);
  assert.ok(d.body instanceof Uint8Array && d.encoded instanceof Uint8Array && d.encoded.length <= limits.maxDescriptorBytes);
  assert.ok(d.addresses.length >= 1 && d.addresses.length <= 4);
  for (const a of d.addresses) {
    assert.ok(typeof a.host === 'string' && a.host.length > 0 && a.host.length <= 253 && /^[0-9a-z.:-]+$/.test(a.host), `host ${a.host}`);
    assert.ok(isInt(a.port, 1, 65535));
  }
  assert.ok(isInt(d.issuedAt, 0, Number.MAX_SAFE_INTEGER) && isInt(d.sequence, 0, Number.MAX_SAFE_INTEGER));
}

function checkList(descriptors: readonly WireDescriptorItem[], max: number): number {
  assert.ok(Array.isArray(descriptors) && descriptors.length <= max);
  descriptors.forEach(checkDescriptor);
  return descriptors.length;
}

function checkGossip(g: WireSlicingGossip | null, l: CodecLimits): void {
  if (g === null) return;
  const n = checkList(g.descriptors, l.slicingGossip);
  assert.ok(g.attrs.length === n && g.rs.length === n && g.ages.length === n);
  assert.ok(g.attrs.every(isFinite) && g.rs.every(inUnit) && g.ages.every((a) => isInt(a, 0, 65535)));
}

function checkMessage(m: WireMessage, l: CodecLimits): void {
  switch (m.protocol) {
    case 'sampling': {
      const n = checkList(m.body.descriptors, l.samplingDescriptors);
      assert.ok(m.body.ages.length === n && m.body.ages.every((a) => isInt(a, 0, 65535)));
      return;
    }
    case 'aggregation': {
      const b = m.body;
      assert.ok(isInt(b.epoch, -1, 0x7fffffff) && isInt(b.step, 0, l.aggregationMaxStep) && typeof b.participating === 'boolean');
      assert.ok(Number.isNaN(b.estimate) || (isFinite(b.estimate) && b.estimate > 0));
      assert.ok(b.values.length <= l.aggregationValues && b.values.every(isFinite));
      assert.ok(b.countKeys.length <= l.aggregationInstances && b.countKeys.length === b.countValues.length);
      assert.ok(b.countKeys.every((k, i) => isInt(k, 1, 0xffffffff) && (i === 0 || k > b.countKeys[i - 1])) && b.countValues.every(isFinite));
      if (!b.participating) assert.ok(b.values.length === 0 && b.countKeys.length === 0);
      return;
    }
    case 'tman': {
      const b = m.body;
      const n = checkList(b.descriptors, l.tmanDescriptors);
      assert.ok(isFinite(b.senderKey) && isInt(b.group, -0x80000000, 0x7fffffff));
      assert.ok((b.keys.length === 0 || b.keys.length === n) && b.keys.every(isFinite));
      assert.ok(b.ages.length === n && b.ages.every((a) => isInt(a, 0, 65535)));
      return;
    }
    case 'slicing':
      assert.ok(isFinite(m.body.a) && inUnit(m.body.r));
      if (m.kind === 'response') assert.ok(typeof m.body.swapped === 'boolean');
      checkGossip(m.body.gossip, l);
      return;
    case 'ranking':
      assert.ok(isFinite(m.body.a));
      return;
  }
}

function checkProtocolMessage(m: ProtocolMessage, directory: PeerDirectory): void {
  const handles = m.protocol === 'sampling' || m.protocol === 'tman' ? m.body.ids : m.protocol === 'slicing' ? (m.body.gossip?.ids ?? []) : [];
  for (const h of handles) assert.ok(directory.has(h), `handle ${h} must be interned`);
}

/** Decodes, classifies and checks one input; returns whether it was accepted. */
function probe(bytes: Uint8Array, directory: PeerDirectory, from: number, seen: Map<string, number>): boolean {
  let m: WireMessage;
  try {
    m = codec.decode(bytes);
  } catch (err) {
    assert.ok(err instanceof CodecError, `decode threw ${String(err)}`);
    seen.set('codec error', (seen.get('codec error') ?? 0) + 1);
    return false;
  }
  checkMessage(m, limits);
  // A decoded message re-encodes to one that decodes the same (nothing was lost or invented).
  const { minor: _minor, ...content } = m;
  const { minor: _again, ...reencoded } = codec.decode(codec.encode(m));
  assert.deepEqual(plain(reencoded), plain(content));
  try {
    checkProtocolMessage(directory.fromWire(m, from), directory);
    seen.set('accepted', (seen.get('accepted') ?? 0) + 1);
    return true;
  } catch (err) {
    assert.ok(err instanceof CodecError, `fromWire threw ${String(err)}`);
    const key = `rejected by directory: ${err.name}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    return false;
  }
}

function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

function setup() {
  const self = new LocalDescriptor(identitySigner(seededIdentity(200)), clock, { addresses: [{ host: '10.9.9.9', port: 1 }] });
  const directory = new PeerDirectory(self, clock, { capacity: 64, limits });
  const from = directory.intern(descriptors[0]);
  return { directory, from };
}

function randomBytes(rng: SeededRandom, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

test('20,000 random byte strings: only CodecErrors or fully valid messages', (t) => {
  const rng = new SeededRandom('codec-fuzz-random');
  const { directory, from } = setup();
  const envelope = wireTypes().envelope;
  const seen = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    // Lengths skewed towards short strings, where structure is likeliest to parse.
    const n = rng.next() < 0.5 ? rng.int(16) : rng.int(600);
    let bytes = randomBytes(rng, n);
    // Half of them inside a valid envelope, so that the body decoders get the garbage.
    if (i % 2 === 1) bytes = envelope.encode({ major: WIRE_VERSION.major, minor: rng.int(3), protocol: 1 + rng.int(5), kind: 1 + rng.int(2), body: bytes }).finish();
    probe(bytes, directory, from, seen);
  }
  t.diagnostic(JSON.stringify(Object.fromEntries(seen)));
  assert.ok((seen.get('codec error') ?? 0) > 10_000);
});

test('20,000 single-byte mutations and truncations of valid messages: only CodecErrors or valid messages', (t) => {
  const rng = new SeededRandom('codec-fuzz-mutations');
  const { directory, from } = setup();
  const originals = valid();
  const seen = new Map<string, number>();
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const original = originals[rng.int(originals.length)];
    let bytes: Uint8Array;
    const op = rng.int(4);
    if (op === 0) {
      bytes = original.subarray(0, rng.int(original.length)); // truncation
    } else if (op === 1) {
      bytes = new Uint8Array(original); // a copy (Buffer#slice would be a view)
      bytes[rng.int(bytes.length)] = rng.int(256); // byte replaced
    } else if (op === 2) {
      bytes = new Uint8Array(original); // a copy (Buffer#slice would be a view)
      bytes[rng.int(bytes.length)] ^= 1 << rng.int(8); // bit flip
    } else {
      const at = rng.int(original.length + 1); // byte inserted
      bytes = new Uint8Array(original.length + 1);
      bytes.set(original.subarray(0, at), 0);
      bytes[at] = rng.int(256);
      bytes.set(original.subarray(at), at + 1);
    }
    if (probe(bytes, directory, from, seen)) accepted++;
  }
  t.diagnostic(JSON.stringify(Object.fromEntries(seen)));
  // Both outcomes must actually occur, or the fuzzing would not exercise both paths.
  assert.ok(accepted > 100, `only ${accepted} mutated messages were accepted`);
  assert.ok((seen.get('codec error') ?? 0) > 1000);
  assert.ok((seen.get('rejected by directory: DescriptorError') ?? 0) > 100, 'mutated descriptors must be caught by signature checks');
});
