import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultAddressPolicy } from '../../../src/network/codec/address.js';
import {
  ANNOUNCEMENT_BASE_BYTES,
  MAX_DATAGRAM_BYTES,
  cloudTagHash,
  decodeAnnouncement,
  encodeAnnouncement,
} from '../../../src/node/discovery/announcement.js';
import { candidateAddress } from '../../../src/node/discovery/lan-discovery.js';
import { generateIdentity } from '../../../src/node/identity.js';

const nodeId = generateIdentity().nodeId;
const tag = cloudTagHash('lab');

test('announcements round-trip without a host, with an IPv4 host and with an IPv6 host', () => {
  for (const host of [undefined, '10.1.2.3', '2001:db8::7']) {
    const bytes = encodeAnnouncement(host === undefined ? { cloudTagHash: tag, nodeId, port: 7946 } : { cloudTagHash: tag, nodeId, port: 7946, host });
    assert.equal(bytes.length, ANNOUNCEMENT_BASE_BYTES + (host === undefined ? 0 : host.includes(':') ? 16 : 4));
    const decoded = decodeAnnouncement(bytes);
    assert.ok(decoded.ok, JSON.stringify(decoded));
    assert.equal(decoded.announcement.nodeId, nodeId);
    assert.equal(decoded.announcement.port, 7946);
    assert.equal(decoded.announcement.host, host);
    assert.deepEqual([...decoded.announcement.cloudTagHash], [...tag]);
  }
  // Non-canonical IPv6 input comes back canonical (RFC 5952), as the address policy expects.
  const decoded = decodeAnnouncement(encodeAnnouncement({ cloudTagHash: tag, nodeId, port: 1, host: '2001:DB8:0:0:0:0:0:7' }));
  assert.ok(decoded.ok);
  assert.equal(decoded.announcement.host, '2001:db8::7');
});

test('the cloud tag hash is 8 bytes and differs between tags', () => {
  assert.equal(cloudTagHash('').length, 8);
  assert.notDeepEqual([...cloudTagHash('a')], [...cloudTagHash('b')]);
  assert.deepEqual([...cloudTagHash('a')], [...cloudTagHash('a')]);
});

test('encoding refuses what it cannot represent, naming the field', () => {
  assert.throws(() => encodeAnnouncement({ cloudTagHash: tag, nodeId: 'nope', port: 1 }), /nodeId/);
  assert.throws(() => encodeAnnouncement({ cloudTagHash: tag, nodeId, port: 0 }), /port/);
  assert.throws(() => encodeAnnouncement({ cloudTagHash: tag, nodeId, port: 65536 }), /port/);
  assert.throws(() => encodeAnnouncement({ cloudTagHash: new Uint8Array(3), nodeId, port: 1 }), /cloudTagHash/);
  assert.throws(() => encodeAnnouncement({ cloudTagHash: tag, nodeId, port: 1, host: 'node1.lan' }), /host/);
});

test('decoding classifies every kind of bad datagram and never throws', () => {
  const good = encodeAnnouncement({ cloudTagHash: tag, nodeId, port: 7946 });
  const withV4 = encodeAnnouncement({ cloudTagHash: tag, nodeId, port: 7946, host: '10.0.0.1' });
  const mutate = (base: Buffer, f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(base);
    f(b);
    return b;
  };
  const cases: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), 'badMagic'],
    ['short garbage', Buffer.from('PC'), 'badMagic'],
    ['text', Buffer.from('hello, is anybody there?'), 'badMagic'],
    ['oversized even with the right magic', Buffer.concat([good, Buffer.alloc(MAX_DATAGRAM_BYTES)]), 'oversized'],
    ['magic only', Buffer.from('PCLD'), 'malformed'],
    ['version 2', mutate(good, (b) => (b[4] = 2)), 'badVersion'],
    ['version 0', mutate(good, (b) => (b[4] = 0)), 'badVersion'],
    ['truncated', good.subarray(0, good.length - 1), 'malformed'],
    ['a trailing byte', Buffer.concat([good, Buffer.from([0])]), 'malformed'],
    ['reserved flag bit', mutate(good, (b) => (b[5] = 0x80)), 'malformed'],
    ['host kind 3', mutate(good, (b) => (b[5] = 3)), 'malformed'],
    ['host kind says IPv4 but no host bytes', mutate(good, (b) => (b[5] = 1)), 'malformed'],
    ['host kind says none but host bytes follow', mutate(withV4, (b) => (b[5] = 0)), 'malformed'],
    ['host kind says IPv6 but 4 bytes follow', mutate(withV4, (b) => (b[5] = 2)), 'malformed'],
    ['node id with a capital letter', mutate(good, (b) => (b[14 + 5] = 0x41)), 'malformed'],
    ['node id with a NUL', mutate(good, (b) => (b[14 + 33] = 0)), 'malformed'],
    ['port 0', mutate(good, (b) => b.writeUInt16BE(0, 48)), 'malformed'],
  ];
  for (const [name, bytes, reason] of cases) {
    const result = decodeAnnouncement(bytes);
    assert.equal(result.ok, false, name);
    if (!result.ok) {
      assert.equal(result.reason, reason, name);
      assert.ok(result.detail.length > 0, name);
    }
  }
  // Random bytes behind the right magic and version: always a failure, never an exception.
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.concat([Buffer.from('PCLD'), Buffer.from([1]), Buffer.from(Array.from({ length: i % 80 }, () => Math.floor(Math.random() * 256)))]);
    const result = decodeAnnouncement(bytes);
    if (result.ok) assert.equal(result.announcement.nodeId.length, 34);
  }
});

test('candidate addresses: the source unless a host is named; both checked; loopback only from loopback', () => {
  const policy = defaultAddressPolicy;
  assert.deepEqual(candidateAddress({ port: 7946 }, '192.168.1.20', policy), { host: '192.168.1.20' });
  assert.deepEqual(candidateAddress({ port: 7946, host: '10.0.0.5' }, '192.168.1.20', policy), { host: '10.0.0.5' });
  assert.deepEqual(candidateAddress({ port: 7946, host: '127.0.0.1' }, '127.0.0.1', policy), { host: '127.0.0.1' });
  const bad: [string | undefined, string, RegExp][] = [
    ['127.0.0.1', '192.168.1.20', /loopback address 127\.0\.0\.1 announced from another machine/],
    ['0.0.0.0', '192.168.1.20', /announced address 0\.0\.0\.0.*unspecified/],
    ['239.1.2.3', '192.168.1.20', /multicast/],
    ['255.255.255.255', '192.168.1.20', /broadcast/],
    ['::ffff:a00:1', '192.168.1.20', /IPv4-mapped/],
    ['169.254.3.4', '192.168.1.20', /link-local/],
    [undefined, '169.254.3.4', /source address 169\.254\.3\.4.*link-local/],
  ];
  for (const [host, source, pattern] of bad) {
    const result = candidateAddress(host === undefined ? { port: 7946 } : { port: 7946, host }, source, policy);
    assert.ok('problem' in result, `${host} from ${source}`);
    assert.match(result.problem, pattern);
  }
  const strict = { ...policy, allowPrivate: false };
  assert.ok('problem' in candidateAddress({ port: 7946 }, '192.168.1.20', strict));
});
