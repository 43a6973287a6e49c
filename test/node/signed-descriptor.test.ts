import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { decodeDescriptor, encodeSignedDescriptor } from '../../src/network/codec/descriptor.js';
import { defaultCodecLimits } from '../../src/network/codec/limits.js';
import { generateIdentity, nodeIdFromPublicKey, sign } from '../../src/node/identity.js';
import { LocalDescriptor } from '../../src/node/local-descriptor.js';
import { ringKeyOf } from '../../src/node/ring-key.js';
import { DescriptorError, defaultDescriptorPolicy, identitySigner, signDescriptor, verifyDescriptor } from '../../src/node/signed-descriptor.js';

const NOW = 1_760_000_000_000;

test('a signed descriptor verifies, and its node id is derived from its key', () => {
  const identity = generateIdentity();
  const d = signDescriptor(identitySigner(identity), { addresses: [{ host: '10.0.0.1', port: 4000 }], issuedAt: NOW, sequence: 7 });
  assert.equal(d.nodeId, identity.nodeId);
  const v = verifyDescriptor(d, NOW, defaultDescriptorPolicy);
  assert.equal(v.nodeId, identity.nodeId);
  assert.deepEqual(v.addresses, [{ host: '10.0.0.1', port: 4000 }]);
  assert.equal(v.sequence, 7);
  // The verified copy shares no memory with its input.
  assert.notEqual(v.encoded.buffer, d.encoded.buffer);
});

test('the signature covers a context string: a bare signature of the body is refused', () => {
  const identity = generateIdentity();
  const d = signDescriptor(identitySigner(identity), { addresses: [{ host: '10.0.0.1', port: 4000 }], issuedAt: NOW, sequence: 1 });
  const bare = encodeSignedDescriptor(d.body, sign(identity, d.body));
  const forged = decodeDescriptor(bare, defaultCodecLimits, 'd');
  assert.throws(() => verifyDescriptor(forged, NOW), (e: unknown) => e instanceof DescriptorError && e.reason === 'signature');
});

test('verification trusts only the encoded bytes, not the fields of the object passed in', () => {
  const d = signDescriptor(identitySigner(generateIdentity()), { addresses: [{ host: '10.0.0.1', port: 4000 }], issuedAt: NOW, sequence: 1 });
  const lying = { ...d, addresses: [{ host: '6.6.6.6', port: 22 }] };
  assert.deepEqual(verifyDescriptor(lying, NOW).addresses, [{ host: '10.0.0.1', port: 4000 }]);
});

test('clock skew and maximum age bound issuedAt', () => {
  const signer = identitySigner(generateIdentity());
  const at = (issuedAt: number) => signDescriptor(signer, { addresses: [{ host: '10.0.0.1', port: 1 }], issuedAt, sequence: 1 });
  const policy = { ...defaultDescriptorPolicy, maxClockSkewMs: 1000, maxAgeMs: 60_000 };
  assert.equal(verifyDescriptor(at(NOW + 1000), NOW, policy).issuedAt, NOW + 1000);
  assert.throws(() => verifyDescriptor(at(NOW + 1001), NOW, policy), (e: unknown) => e instanceof DescriptorError && e.reason === 'future' && e.field === 'descriptor.issuedAt');
  assert.equal(verifyDescriptor(at(NOW - 60_000), NOW, policy).issuedAt, NOW - 60_000);
  assert.throws(() => verifyDescriptor(at(NOW - 60_001), NOW, policy), (e: unknown) => e instanceof DescriptorError && e.reason === 'expired');
});

test('the local descriptor is re-signed on address change and when it grows old, with increasing sequence', () => {
  const clock = new ManualClock(NOW);
  const identity = generateIdentity();
  const local = new LocalDescriptor(identitySigner(identity), clock, { addresses: [{ host: '10.0.0.1', port: 4000 }], refreshIntervalMs: 60_000 });
  const first = local.current();
  assert.equal(local.nodeId, identity.nodeId);
  assert.equal(first.sequence, NOW, 'the first sequence is the clock, so a restarted node outranks its earlier descriptors');
  clock.advance(59_999);
  assert.equal(local.current(), first, 'not re-signed before the refresh interval');
  clock.advance(1);
  const refreshed = local.current();
  assert.ok(refreshed.sequence > first.sequence && refreshed.issuedAt === NOW + 60_000);
  const moved = local.setAddresses([{ host: '10.0.0.2', port: 4001 }]);
  assert.ok(moved.sequence > refreshed.sequence);
  assert.deepEqual(moved.addresses, [{ host: '10.0.0.2', port: 4001 }]);
  assert.equal(local.setAddresses([{ host: '10.0.0.2', port: 4001 }]), moved, 'same addresses: no re-signing');
  // A descriptor of ours from an earlier life, with a higher sequence: the next one outranks it.
  const superseded = local.supersede(moved.sequence + 1000);
  assert.ok(superseded.sequence > moved.sequence + 1000);
  // Sequences keep increasing even when the clock stands still or goes back.
  clock.set(NOW);
  const back = local.current();
  assert.ok(back.sequence > superseded.sequence && back.issuedAt === NOW);
  for (const d of [first, refreshed, moved, superseded, back]) verifyDescriptor(d, NOW + 60_000);
});

test('local addresses are normalized and checked', () => {
  const clock = new ManualClock(NOW);
  const signer = identitySigner(generateIdentity());
  const local = new LocalDescriptor(signer, clock, {
    addresses: [
      { host: 'Node-7.Example.ORG', port: 443 },
      { host: '2001:4860:4860:0:0:0:0:8888', port: 7000 },
    ],
  });
  assert.deepEqual(local.current().addresses, [
    { host: 'node-7.example.org', port: 443 },
    { host: '2001:4860:4860::8888', port: 7000 },
  ]);
  const bad: [string, number][] = [
    ['0.0.0.0', 1],
    ['224.0.0.1', 1],
    ['255.255.255.255', 1],
    ['::', 1],
    ['ff02::1', 1],
    ['10.0.0.1', 0],
    ['10.0.0.1', 65536],
    ['under_score.org', 1],
    ['', 1],
    ['0x7f.1', 1],
  ];
  for (const [host, port] of bad) assert.throws(() => new LocalDescriptor(signer, clock, { addresses: [{ host, port }] }), RangeError, `${host}:${port}`);
  assert.throws(() => new LocalDescriptor(signer, clock, { addresses: [] }), /1\.\.4 addresses/);
  assert.throws(() => new LocalDescriptor(signer, clock, { addresses: Array.from({ length: 5 }, (_, i) => ({ host: '10.0.0.1', port: i + 1 })) }), /1\.\.4 addresses/);
});

test('ring keys are 32-bit, derived from the node id, and spread over the ring', () => {
  const keys = Array.from({ length: 200 }, () => ringKeyOf(nodeIdFromPublicKey(generateIdentity().publicKey)));
  for (const k of keys) assert.ok(Number.isInteger(k) && k >= 0 && k <= 0xffffffff);
  const id = generateIdentity().nodeId;
  assert.equal(ringKeyOf(id), ringKeyOf(id));
  // Uniform keys: about half of them in each half of the ring.
  const low = keys.filter((k) => k < 0x80000000).length;
  assert.ok(low > 60 && low < 140, `${low} of 200 keys in the lower half`);
});
