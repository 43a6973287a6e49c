import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { CodecError } from '../../src/network/codec/errors.js';
import { WIRE_VERSION, WireCodec } from '../../src/network/codec/codec.js';
import { DESCRIPTOR_REF_BYTES, type WireDescriptor, decodeDescriptor, descriptorDigest, descriptorRef, isDescriptorRef } from '../../src/network/codec/descriptor.js';
import { defaultCodecLimits, limitsForProtocols } from '../../src/network/codec/limits.js';
import type { WireMessage } from '../../src/network/codec/messages.js';
import { wireTypes } from '../../src/network/codec/schema.js';
import { generateIdentity } from '../../src/node/identity.js';
import { identitySigner, signDescriptor } from '../../src/node/signed-descriptor.js';
import { newscast } from '../../src/protocols/peer-sampling/config.js';

const NOW = 1_760_000_000_000;

function descriptors(n: number, host = (i: number) => `10.0.${i >> 8}.${i & 255}`): WireDescriptor[] {
  return Array.from({ length: n }, (_, i) =>
    signDescriptor(identitySigner(generateIdentity()), { addresses: [{ host: host(i), port: 7000 + i }], issuedAt: NOW + i, sequence: NOW + i }),
  );
}

const D = descriptors(20);

/** One message of every type, as the protocols produce them. */
function samples(): WireMessage[] {
  const gossip = { descriptors: D.slice(0, 3), attrs: [1.5, -2, 1e300], rs: [0.25, 1, 1e-9], ages: [0, 7, 65535] };
  return [
    { protocol: 'sampling', kind: 'request', body: { descriptors: D.slice(0, 15), ages: Array.from({ length: 15 }, (_, i) => i * 3) } },
    { protocol: 'sampling', kind: 'response', body: { descriptors: [], ages: [] } },
    {
      protocol: 'aggregation',
      kind: 'request',
      body: { epoch: 12, step: 7, participating: true, estimate: 10234.5, values: [0.5, -3.25, 2 ** -30, 42], countKeys: [17, 9000, 4294967295], countValues: [0.125, 0, 1] },
    },
    { protocol: 'aggregation', kind: 'response', body: { epoch: -1, step: 0, participating: false, estimate: Number.NaN, values: [], countKeys: [], countValues: [] } },
    { protocol: 'tman', kind: 'request', body: { senderKey: 4294967295, group: 3, descriptors: D.slice(0, 10), keys: [], ages: Array.from({ length: 10 }, (_, i) => i) } },
    { protocol: 'tman', kind: 'response', body: { senderKey: -0.5, group: -7, descriptors: D.slice(5, 7), keys: [1.25, -1e10], ages: [0, 65535] } },
    { protocol: 'slicing', kind: 'request', body: { a: 3.5, r: 0.75, gossip: null } },
    { protocol: 'slicing', kind: 'request', body: { a: -1, r: 1, gossip } },
    { protocol: 'slicing', kind: 'response', body: { swapped: true, a: 0, r: 0.5, gossip: { descriptors: [], attrs: [], rs: [], ages: [] } } },
    { protocol: 'slicing', kind: 'response', body: { swapped: false, a: 2, r: 0.125, gossip } },
    { protocol: 'ranking', kind: 'request', body: { a: 123.5 } },
    { protocol: 'ranking', kind: 'response', body: { a: 0 } },
  ];
}

/** Plain data for comparison: bytes as hex (decoded ones are Buffer views); `minor` (set by decode) and `nodeId` (set by signing) dropped. */
function comparable(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(comparable);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'minor' && k !== 'nodeId').map(([k, v]) => [k, comparable(v)]));
  }
  return value;
}

const codec = new WireCodec();

test('every message type survives an encode/decode round trip', () => {
  for (const m of samples()) {
    const decoded = codec.decode(codec.encode(m));
    assert.equal(decoded.minor, WIRE_VERSION.minor);
    assert.deepEqual(comparable(decoded), comparable(m), `${m.protocol}.${m.kind}`);
  }
});

test('decoded descriptors keep their exact signed bytes', () => {
  const m = samples()[0];
  const decoded = codec.decode(codec.encode(m));
  assert.equal(decoded.protocol, 'sampling');
  if (decoded.protocol !== 'sampling' || m.protocol !== 'sampling') return;
  decoded.body.descriptors.forEach((d, i) => {
    const sent = m.body.descriptors[i];
    assert.ok(!isDescriptorRef(d) && !isDescriptorRef(sent));
    assert.deepEqual(Buffer.from(d.encoded), Buffer.from(sent.encoded));
    assert.deepEqual(Buffer.from(d.body), Buffer.from(sent.body));
    assert.deepEqual(d.addresses, sent.addresses);
  });
});

test('descriptor references travel as 8-byte items next to full descriptors', () => {
  const ref = descriptorRef(descriptorDigest(D[1].encoded));
  const m: WireMessage = { protocol: 'sampling', kind: 'request', body: { descriptors: [D[0], ref], ages: [0, 3] } };
  const encoded = codec.encode(m);
  const decoded = codec.decode(encoded);
  assert.equal(decoded.protocol, 'sampling');
  if (decoded.protocol !== 'sampling') return;
  const [full, back] = decoded.body.descriptors;
  assert.ok(!isDescriptorRef(full) && isDescriptorRef(back));
  assert.equal(back.ref.length, DESCRIPTOR_REF_BYTES);
  assert.deepEqual(Buffer.from(back.ref), Buffer.from(ref.ref));
  // The reference must not be a view into the message buffer (it would keep it alive).
  assert.notEqual(back.ref.buffer, encoded.buffer);
  // A digest is a function of the exact signed bytes.
  assert.deepEqual(Buffer.from(descriptorDigest(D[1].encoded)), Buffer.from(descriptorDigest(new Uint8Array(D[1].encoded))));
  assert.notDeepEqual(Buffer.from(descriptorDigest(D[0].encoded)), Buffer.from(descriptorDigest(D[1].encoded)));
});

test('references are packed 8 bytes apiece; items come back full descriptors first, with their ages and keys', () => {
  const ref = (i: number) => descriptorRef(descriptorDigest(D[i].encoded));
  const m: WireMessage = { protocol: 'tman', kind: 'request', body: { senderKey: 1, group: 2, descriptors: [ref(1), D[0], ref(2)], keys: [10, 20, 30], ages: [1, 2, 3] } };
  const decoded = codec.decode(codec.encode(m));
  assert.equal(decoded.protocol, 'tman');
  if (decoded.protocol !== 'tman') return;
  assert.deepEqual(decoded.body.descriptors.map((d) => (isDescriptorRef(d) ? Buffer.from(d.ref).toString('hex') : 'full')), ['full', Buffer.from(ref(1).ref).toString('hex'), Buffer.from(ref(2).ref).toString('hex')]);
  assert.deepEqual(decoded.body.keys, [20, 10, 30]);
  assert.deepEqual(decoded.body.ages, [2, 1, 3]);
  // Ten references and their ages: 8 bytes each plus one age byte, and a few bytes of tags.
  const refs10 = codec.encodeBody({ protocol: 'sampling', kind: 'request', body: { descriptors: Array.from({ length: 10 }, (_, i) => ref(i)), ages: new Array(10).fill(3) } });
  assert.ok(refs10.length <= 10 * 9 + 4, `${refs10.length} bytes`);
  // Too many items altogether, whether full or references.
  const few = new WireCodec(limitsForProtocols({ sampling: newscast(8) })); // 4 at most
  const refs4 = new Uint8Array(32);
  [1, 2, 3, 4].forEach((i, j) => refs4.set(ref(i).ref, j * 8));
  const five = wireTypes().descriptorBuffer.encode({ descriptors: [D[0].encoded], refs: refs4, ages: [0, 0, 0, 0] }).finish();
  assert.throws(() => few.decodeBody('sampling', 'request', five), (e: unknown) => e instanceof CodecError && e.field === 'sampling.request.descriptors' && /1 descriptors and 4 references, at most 4/.test(e.message));
});

test('aggregation values travel as 32-bit floats: relative error below 2^-24, overflow refused', () => {
  const values = [1 / 3, 123456789.123, 8.5e9 + 0.7, 1e-7, -2.5];
  const body = { epoch: 1, step: 2, participating: true, estimate: 99.7, values, countKeys: [3], countValues: [1 / 997] };
  const back = codec.decodeBody('aggregation', 'request', codec.encodeBody({ protocol: 'aggregation', kind: 'request', body }));
  assert.equal(back.protocol, 'aggregation');
  if (back.protocol !== 'aggregation') return;
  [...values, body.estimate, ...body.countValues].forEach((v, i) => {
    const got = [...back.body.values, back.body.estimate, ...back.body.countValues][i];
    assert.ok(Math.abs(got - v) <= Math.abs(v) * 2 ** -24, `${v} came back as ${got}`);
  });
  const encodeValues = (v: number[]) => codec.encodeBody({ protocol: 'aggregation', kind: 'request', body: { ...body, values: v } });
  assert.throws(() => encodeValues([1e39]), (e: unknown) => e instanceof CodecError && e.field === 'aggregation.request.values[0]' && /32-bit float/.test(e.message));
  assert.throws(() => codec.encodeBody({ protocol: 'aggregation', kind: 'request', body: { ...body, estimate: 1e40 } }), (e: unknown) => e instanceof CodecError && e.field === 'aggregation.request.estimate');
  // Five values and one COUNT instance: the size a daemon's aggregation message has.
  assert.ok(encodeValues([1, 2, 3, 4, 5]).length <= 50, `${encodeValues([1, 2, 3, 4, 5]).length} bytes`);
});

test('encoded sizes are compact (reported as diagnostics)', (t) => {
  const one = D[0].encoded.length;
  const sizes = Object.fromEntries(samples().map((m, i) => [`${i}:${m.protocol}.${m.kind}`, codec.encode(m).length]));
  const newscast15 = codec.encode(samples()[0]).length;
  t.diagnostic(`descriptor (IPv4, one address): ${one} bytes`);
  t.diagnostic(`Newscast buffer of 15 descriptors: ${newscast15} bytes (${(newscast15 / 15).toFixed(1)} per entry)`);
  t.diagnostic(`per message: ${JSON.stringify(sizes)}`);
  // 32-byte key + 64-byte signature + address + two timestamps: a descriptor must stay close to that.
  assert.ok(one <= 135, `descriptor is ${one} bytes`);
  assert.ok(newscast15 <= 15 * (one + 3) + 40, `Newscast buffer is ${newscast15} bytes`);
});

test('an unknown major version is refused, any minor version accepted', () => {
  const t = wireTypes();
  const body = t.attribute.encode({ a: 1 }).finish();
  const envelope = (major: number, minor: number) => t.envelope.encode({ major, minor, protocol: 5, kind: 1, body }).finish();
  assert.deepEqual(codec.decode(envelope(2, 9)), { protocol: 'ranking', kind: 'request', minor: 9, body: { a: 1 } });
  assert.throws(() => codec.decode(envelope(1, 0)), (e: unknown) => e instanceof CodecError && e.field === 'envelope.major' && /unsupported major version 1/.test(e.message));
  assert.throws(() => codec.decode(envelope(3, 0)), (e: unknown) => e instanceof CodecError && e.field === 'envelope.major' && /unsupported major version 3/.test(e.message));
  assert.throws(() => codec.decode(envelope(0, 0)), (e: unknown) => e instanceof CodecError && e.field === 'envelope.major');
});

test('unknown fields in a known version are skipped (forward compatibility)', () => {
  const t = wireTypes();
  // A newer minor version's Attribute with an extra field 9 (a string), and an envelope field 15.
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 5).float(2.5);
  w.uint32((9 << 3) | 2).string('future');
  const body = w.finish();
  const env = protobuf.Writer.create();
  t.envelope.encode({ major: WIRE_VERSION.major, minor: 4, protocol: 5, kind: 2, body }, env);
  env.uint32((15 << 3) | 0).uint32(77);
  assert.deepEqual(codec.decode(env.finish()), { protocol: 'ranking', kind: 'response', minor: 4, body: { a: 2.5 } });
});

test('unknown protocols and kinds are refused by name', () => {
  const t = wireTypes();
  const env = (protocol: number, kind: number) => t.envelope.encode({ major: WIRE_VERSION.major, protocol, kind, body: new Uint8Array(0) }).finish();
  assert.throws(() => codec.decode(env(9, 1)), (e: unknown) => e instanceof CodecError && e.field === 'envelope.protocol');
  assert.throws(() => codec.decode(env(0, 1)), (e: unknown) => e instanceof CodecError && e.field === 'envelope.protocol');
  assert.throws(() => codec.decode(env(5, 3)), (e: unknown) => e instanceof CodecError && e.field === 'envelope.kind');
});

test('semantic checks name the offending field', () => {
  const t = wireTypes();
  const frame = (protocol: number, type: protobuf.Type, body: Record<string, unknown>, kind = 1) =>
    t.envelope.encode({ major: WIRE_VERSION.major, protocol, kind, body: type.encode(body).finish() }).finish();
  const cases: [Uint8Array, string][] = [
    [frame(2, t.aggregation, { epoch: -2 }), 'aggregation.request.epoch'],
    [frame(2, t.aggregation, { participating: true, values: [1, Number.NaN] }), 'aggregation.request.values[1]'],
    [frame(2, t.aggregation, { participating: true, values: [Infinity] }), 'aggregation.request.values[0]'],
    [frame(2, t.aggregation, { estimate: Number.NaN }), 'aggregation.request.estimate'],
    [frame(2, t.aggregation, { estimate: -5 }), 'aggregation.request.estimate'],
    [frame(2, t.aggregation, { participating: true, countKeys: [5, 5], countValues: [1, 1] }), 'aggregation.request.countKeys[1]'],
    [frame(2, t.aggregation, { participating: true, countKeys: [0], countValues: [1] }), 'aggregation.request.countKeys[0]'],
    [frame(2, t.aggregation, { participating: true, countKeys: [3], countValues: [] }), 'aggregation.request.countValues'],
    [frame(2, t.aggregation, { participating: false, values: [1] }), 'aggregation.request'],
    [frame(2, t.aggregation, { step: 2_000_000 }), 'aggregation.request.step'],
    [frame(4, t.swapRequest, { a: 1, r: 0 }), 'slicing.request.r'],
    [frame(4, t.swapRequest, { a: 1, r: 1.5 }), 'slicing.request.r'],
    [frame(4, t.swapReply, { a: Number.NaN, r: 0.5 }, 2), 'slicing.response.a'],
    [frame(4, t.swapRequest, { a: 1, r: 0.5, gossip: { rs: [0.5] } }), 'slicing.request.gossip'],
    [frame(5, t.attribute, { a: Number.NEGATIVE_INFINITY }), 'ranking.request.a'],
    [frame(1, t.descriptorBuffer, { descriptors: [D[0].encoded], ages: [] }), 'sampling.request.ages'],
    [frame(1, t.descriptorBuffer, { descriptors: [D[0].encoded], ages: [70000] }), 'sampling.request.ages[0]'],
    [frame(1, t.descriptorBuffer, { descriptors: [new Uint8Array([1, 2, 3])], ages: [0] }), 'sampling.request.descriptors[0]'],
    [frame(3, t.tmanBuffer, { senderKey: 1, descriptors: [D[0].encoded], keys: [1, 2], ages: [0] }), 'tman.request.keys'],
    [frame(3, t.tmanBuffer, { senderKey: Number.NaN }), 'tman.request.senderKey'],
    [frame(1, t.descriptorBuffer, { refs: new Uint8Array(12), ages: [0] }), 'sampling.request.refs'],
    [frame(1, t.descriptorBuffer, { refs: new Uint8Array(16), ages: [0] }), 'sampling.request.ages'],
    [frame(3, t.tmanBuffer, { refs: new Uint8Array(7), ages: [] }), 'tman.request.refs'],
  ];
  for (const [bytes, field] of cases) {
    assert.throws(
      () => codec.decode(bytes),
      (e: unknown) => e instanceof CodecError && e.field.startsWith(field),
      `expected a CodecError at ${field}`,
    );
  }
});

test('descriptor fields are checked: key and signature lengths, addresses, integers', () => {
  const t = wireTypes();
  const good = D[0];
  const reencode = (body: Record<string, unknown>, signature: Uint8Array = good.signature) =>
    t.signedDescriptor.encode({ body: t.descriptorBody.encode(body).finish(), signature }).finish();
  const base = { publicKey: good.publicKey, addresses: [{ ip: new Uint8Array([10, 0, 0, 1]), port: 7000 }], issuedAt: NOW, sequence: 1 };
  const cases: [Uint8Array, string][] = [
    [reencode({ ...base, publicKey: good.publicKey.subarray(0, 31) }), 'd.publicKey'],
    [reencode(base, good.signature.subarray(0, 63)), 'd.signature'],
    [reencode({ ...base, addresses: [] }), 'd.addresses'],
    [reencode({ ...base, addresses: Array.from({ length: 5 }, () => base.addresses[0]) }), 'd.addresses'],
    [reencode({ ...base, addresses: [{ ip: new Uint8Array([0, 0, 0, 0]), port: 1 }] }), 'd.addresses[0]'],
    [reencode({ ...base, addresses: [{ ip: new Uint8Array([224, 0, 0, 1]), port: 1 }] }), 'd.addresses[0]'],
    [reencode({ ...base, addresses: [{ ip: new Uint8Array([255, 255, 255, 255]), port: 1 }] }), 'd.addresses[0]'],
    [reencode({ ...base, addresses: [{ ip: new Uint8Array(16), port: 1 }] }), 'd.addresses[0]'],
    [reencode({ ...base, addresses: [{ ip: new Uint8Array([0xff, 2, ...new Array(14).fill(0)]), port: 1 }] }), 'd.addresses[0]'],
    [reencode({ ...base, addresses: [{ ip: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4]), port: 1 }] }), 'd.addresses[0].ip'],
    [reencode({ ...base, addresses: [{ ip: new Uint8Array([1, 2, 3]), port: 1 }] }), 'd.addresses[0].ip'],
    [reencode({ ...base, addresses: [{ ip: new Uint8Array([10, 0, 0, 1]), port: 0 }] }), 'd.addresses[0]'],
    [reencode({ ...base, addresses: [{ ip: new Uint8Array([10, 0, 0, 1]), port: 70000 }] }), 'd.addresses[0]'],
    [reencode({ ...base, addresses: [{ hostname: 'Example.com', port: 1 }] }), 'd.addresses[0]'],
    [reencode({ ...base, addresses: [{ hostname: 'a'.repeat(64) + '.com', port: 1 }] }), 'd.addresses[0]'],
    [reencode({ ...base, addresses: [{ hostname: '1.2.3', port: 1 }] }), 'd.addresses[0]'],
    [reencode({ ...base, addresses: [{ hostname: 'bad_name.org', port: 1 }] }), 'd.addresses[0]'],
    [reencode({ ...base, addresses: [{ port: 1 }] }), 'd.addresses[0]'],
    [reencode({ ...base, issuedAt: new protobuf.util.Long(-1, -1, true) }), 'd.issuedAt'],
  ];
  for (const [bytes, field] of cases) {
    assert.throws(
      () => decodeDescriptor(bytes, defaultCodecLimits, 'd'),
      (e: unknown) => e instanceof CodecError && e.field.startsWith(field),
      `expected a CodecError at ${field} (case ${cases.findIndex((c) => c[0] === bytes)})`,
    );
  }
  // And the valid variants decode: hostnames, IPv6, four addresses.
  const ok = decodeDescriptor(
    reencode({
      ...base,
      addresses: [
        { hostname: 'node-1.example.org', port: 443 },
        { ip: new Uint8Array([0x20, 0x01, 0x48, 0x60, 0x48, 0x60, ...new Array(8).fill(0), 0x88, 0x88]), port: 7000 },
        { ip: new Uint8Array([127, 0, 0, 1]), port: 7001 },
        { ip: new Uint8Array([192, 168, 1, 2]), port: 7002 },
      ],
    }),
    defaultCodecLimits,
    'd',
  );
  assert.deepEqual(ok.addresses.map((a) => a.host), ['node-1.example.org', '2001:4860:4860::8888', '127.0.0.1', '192.168.1.2']);
  // Both members of the host oneof on the wire: protobuf's rule, the last one wins.
  const both = decodeDescriptor(reencode({ ...base, addresses: [{ ip: new Uint8Array([10, 0, 0, 1]), hostname: 'x.org', port: 1 }] }), defaultCodecLimits, 'd');
  assert.equal(both.addresses[0].host, 'x.org');
});

test('the address policy can refuse loopback and private addresses', () => {
  const strict = { ...defaultCodecLimits, addressPolicy: { ...defaultCodecLimits.addressPolicy, allowLoopback: false, allowPrivate: false } };
  const lo = signDescriptor(identitySigner(generateIdentity()), { addresses: [{ host: '127.0.0.1', port: 1 }], issuedAt: NOW, sequence: 1 });
  const lan = signDescriptor(identitySigner(generateIdentity()), { addresses: [{ host: '192.168.0.9', port: 1 }], issuedAt: NOW, sequence: 1 });
  const pub = signDescriptor(identitySigner(generateIdentity()), { addresses: [{ host: '93.184.216.34', port: 1 }], issuedAt: NOW, sequence: 1 });
  assert.throws(() => decodeDescriptor(lo.encoded, strict, 'd'), /loopback/);
  assert.throws(() => decodeDescriptor(lan.encoded, strict, 'd'), /private/);
  assert.equal(decodeDescriptor(pub.encoded, strict, 'd').addresses[0].host, '93.184.216.34');
});

test('oversized lists are refused before protobufjs decodes them', () => {
  const limits = limitsForProtocols({ sampling: newscast(30) }); // 15 descriptors at most
  const small = new WireCodec(limits);
  const t = wireTypes();
  // 16 descriptors: counted and refused by the pre-scan (the message itself is well-formed).
  const body16 = t.descriptorBuffer.encode({ descriptors: D.slice(0, 16).map((d) => d.encoded), ages: new Array(16).fill(0) }).finish();
  const frame = t.envelope.encode({ major: WIRE_VERSION.major, protocol: 1, kind: 1, body: body16 }).finish();
  const decodeSpy = t.descriptorBuffer.decode;
  let decodes = 0;
  t.descriptorBuffer.decode = ((...args: Parameters<typeof decodeSpy>) => {
    decodes++;
    return decodeSpy.apply(t.descriptorBuffer, args);
  }) as typeof decodeSpy;
  try {
    assert.throws(() => small.decode(frame), (e: unknown) => e instanceof CodecError && e.field === 'sampling.request.descriptors' && /more than 15/.test(e.message));
    assert.equal(decodes, 0, 'the body must not be decoded');
    // 20,000 packed ages in 20 KB: refused by counting varint terminators, without allocating them.
    const ages = t.descriptorBuffer.encode({ ages: new Array(20_000).fill(1) }).finish();
    const frame2 = t.envelope.encode({ major: WIRE_VERSION.major, protocol: 1, kind: 1, body: ages }).finish();
    assert.throws(() => small.decode(frame2), (e: unknown) => e instanceof CodecError && e.field === 'sampling.request.ages');
    assert.equal(decodes, 0);
  } finally {
    t.descriptorBuffer.decode = decodeSpy;
  }
  // Addresses inside a descriptor are counted the same way.
  const many = t.signedDescriptor
    .encode({
      body: t.descriptorBody.encode({ publicKey: D[0].publicKey, addresses: new Array(50).fill({ ip: new Uint8Array([10, 0, 0, 1]), port: 1 }) }).finish(),
      signature: D[0].signature,
    })
    .finish();
  assert.throws(() => decodeDescriptor(many, defaultCodecLimits, 'd'), (e: unknown) => e instanceof CodecError && e.field === 'd.addresses');
});

test('messages above the size bound are refused before parsing, and never sent', () => {
  const small = new WireCodec({ maxMessageBytes: 1000 });
  const m = samples()[0]; // ~2 KB
  assert.throws(() => small.encode(m), (e: unknown) => e instanceof CodecError && /at most 1000/.test(e.message));
  const bytes = codec.encode(m);
  assert.throws(() => small.decode(bytes), (e: unknown) => e instanceof CodecError && e.field === 'message');
  // Oversized descriptors too.
  const huge = signDescriptor(identitySigner(generateIdentity()), {
    addresses: Array.from({ length: 4 }, (_, i) => ({ host: `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.node${i}.org`, port: 1 })),
    issuedAt: NOW,
    sequence: 1,
  });
  const tight = new WireCodec({ maxDescriptorBytes: 300 });
  assert.throws(
    () => tight.decode(codec.encode({ protocol: 'sampling', kind: 'request', body: { descriptors: [huge], ages: [0] } })),
    (e: unknown) => e instanceof CodecError && e.field === 'sampling.request.descriptors[0]',
  );
});

test('encode refuses what decode would refuse', () => {
  const bad: WireMessage[] = [
    { protocol: 'aggregation', kind: 'request', body: { epoch: 0, step: 0, participating: true, estimate: 5, values: [Number.NaN], countKeys: [], countValues: [] } },
    { protocol: 'sampling', kind: 'request', body: { descriptors: D.slice(0, 2), ages: [1] } },
    { protocol: 'slicing', kind: 'request', body: { a: 1, r: 2, gossip: null } },
    { protocol: 'ranking', kind: 'request', body: { a: Infinity } },
  ];
  for (const m of bad) assert.throws(() => codec.encode(m), CodecError);
});

test('non-bytes input and garbage give a CodecError', () => {
  assert.throws(() => codec.decode('hello' as unknown as Uint8Array), CodecError);
  assert.throws(() => codec.decode(new Uint8Array([0xff, 0xff, 0xff])), CodecError);
  assert.throws(() => codec.decode(new Uint8Array(0)), (e: unknown) => e instanceof CodecError && e.field === 'envelope.major');
  // Deeply nested groups: protobufjs' recursion limit, reported as a CodecError.
  assert.throws(() => codec.decode(new Uint8Array(5000).fill(0x0b)), CodecError);
});
