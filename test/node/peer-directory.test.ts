import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { NO_PEER, type PeerHandle } from '../../src/core/handles.js';
import { SeededRandom } from '../../src/core/random.js';
import { WireCodec } from '../../src/network/codec/codec.js';
import { type WireDescriptor, decodeDescriptor, encodeSignedDescriptor } from '../../src/network/codec/descriptor.js';
import { CodecError } from '../../src/network/codec/errors.js';
import { defaultCodecLimits } from '../../src/network/codec/limits.js';
import type { WireMessage } from '../../src/network/codec/messages.js';
import { wireTypes } from '../../src/network/codec/schema.js';
import { type NodeIdentity, generateIdentity } from '../../src/node/identity.js';
import { LocalDescriptor } from '../../src/node/local-descriptor.js';
import { LOCAL_HANDLE, PeerDirectory, type PeerDirectoryOptions } from '../../src/node/peer-directory.js';
import { PeerMessageCodec } from '../../src/node/peer-message-codec.js';
import { ringKeyOf } from '../../src/node/ring-key.js';
import { DescriptorError, type NodeDescriptor, identitySigner, signDescriptor, signedBytes } from '../../src/node/signed-descriptor.js';
import { type ProtocolMessage, handlesIn } from '../../src/node/wire-translation.js';
import { newscast } from '../../src/protocols/peer-sampling/config.js';
import { PeerSampling } from '../../src/protocols/peer-sampling/peer-sampling.js';
import { TMan } from '../../src/protocols/tman/tman.js';

const NOW = 1_760_000_000_000;

interface Node {
  identity: NodeIdentity;
  local: LocalDescriptor;
}

function node(clock: ManualClock, i = 0): Node {
  const identity = generateIdentity();
  return { identity, local: new LocalDescriptor(identitySigner(identity), clock, { addresses: [{ host: `10.0.${i >> 8}.${i & 255}`, port: 4000 + i }] }) };
}

function world(peers: number, options: PeerDirectoryOptions = {}) {
  const clock = new ManualClock(NOW);
  const self = node(clock, 0);
  const others = Array.from({ length: peers }, (_, i) => node(clock, i + 1));
  const directory = new PeerDirectory(self.local, clock, options);
  return { clock, self, others, directory };
}

/** A descriptor signed by `signer` over arbitrary body fields (for forgeries). */
function signBody(signer: NodeIdentity, body: Record<string, unknown>): WireDescriptor {
  const t = wireTypes();
  const bodyBytes = t.descriptorBody.encode(body).finish();
  const signature = identitySigner(signer).sign(signedBytes(bodyBytes));
  return decodeDescriptor(encodeSignedDescriptor(bodyBytes, signature), defaultCodecLimits, 'd');
}

function rejectedFor(reason: string) {
  return (e: unknown) => e instanceof DescriptorError && e.reason === reason;
}

test('interning: the local node is handle 0, peers get small handles, one per node id', () => {
  const { self, others, directory } = world(3);
  assert.equal(directory.handleOf(self.identity.nodeId), LOCAL_HANDLE);
  assert.equal(directory.descriptorOf(0).nodeId, self.identity.nodeId);
  const handles = others.map((o) => directory.intern(o.local.current()));
  assert.deepEqual(handles, [1, 2, 3]);
  assert.equal(directory.size, 3);
  others.forEach((o, i) => {
    assert.equal(directory.intern(o.local.current()), handles[i], 'same node, same handle');
    assert.equal(directory.handleOf(o.identity.nodeId), handles[i]);
    assert.equal(directory.nodeIdOf(handles[i]), o.identity.nodeId);
    assert.equal(directory.keyOf(handles[i]), ringKeyOf(o.identity.nodeId));
    assert.equal(directory.profileOf(handles[i]).descriptor.addresses[0].port, 4001 + i);
  });
  assert.equal(directory.keyOf(0), ringKeyOf(self.identity.nodeId));
  assert.equal(directory.handleOf('pcaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), NO_PEER);
  assert.throws(() => directory.descriptorOf(42), RangeError);
  // Identical bytes seen again cost no signature verification.
  assert.equal(directory.stats.verifications, 3);
});

test('forged descriptors are refused: wrong signature, id not matching key, swapped key, tampered address, future issuedAt', () => {
  const { clock, others, directory } = world(2);
  const [victim, attacker] = others;
  const real = victim.local.current();
  const t = wireTypes();
  const realBody = t.descriptorBody.decode(real.body) as unknown as Record<string, unknown>;

  // 1. Wrong signature: the victim's body with random signature bytes.
  const randomSig = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 255);
  const wrongSig = decodeDescriptor(encodeSignedDescriptor(real.body, randomSig), defaultCodecLimits, 'd');
  assert.throws(() => directory.intern(wrongSig), rejectedFor('signature'));

  // 2. Id not matching key: the attacker's own valid descriptor presented under the victim's id.
  const claimed: NodeDescriptor = { ...attacker.local.current(), nodeId: victim.identity.nodeId };
  assert.throws(() => directory.intern(claimed), rejectedFor('node-id'));

  // 3. Key swapped: the victim's key in a body with the attacker's address, signed by the attacker
  //    (advertising the victim's id at the attacker's address).
  const hijack = signBody(attacker.identity, { ...realBody, addresses: [{ ip: new Uint8Array([6, 6, 6, 6]), port: 22 }] });
  assert.throws(() => directory.intern(hijack), rejectedFor('signature'));
  //    ... and the victim's signed body with the attacker's key put in (the signature no longer fits).
  const swapped = t.descriptorBody.encode({ ...realBody, publicKey: attacker.identity.publicKey }).finish();
  assert.throws(() => directory.intern(decodeDescriptor(encodeSignedDescriptor(swapped, real.signature), defaultCodecLimits, 'd')), rejectedFor('signature'));

  // 4. Tampered address: the victim's signature over a body whose port was changed.
  const tampered = t.descriptorBody.encode({ ...realBody, addresses: [{ ip: new Uint8Array([10, 0, 0, 1]), port: 4444 }] }).finish();
  assert.throws(() => directory.intern(decodeDescriptor(encodeSignedDescriptor(tampered, real.signature), defaultCodecLimits, 'd')), rejectedFor('signature'));

  // 5. Issued too far in the future (validly signed by the victim itself).
  const future = signDescriptor(identitySigner(victim.identity), { addresses: real.addresses, issuedAt: clock.now() + 120_000, sequence: real.sequence + 1 });
  assert.throws(() => directory.intern(future), rejectedFor('future'));

  assert.equal(directory.size, 0, 'nothing was interned');
  assert.equal(directory.stats.rejected, 6);
  // The genuine descriptor is still accepted.
  assert.equal(directory.intern(real), 1);
});

test('the highest sequence wins: stale and equal-sequence descriptors are ignored, newer ones replace', () => {
  const { clock, others, directory } = world(1);
  const signer = identitySigner(others[0].identity);
  const at = (sequence: number, port: number) => signDescriptor(signer, { addresses: [{ host: '10.0.0.9', port }], issuedAt: clock.now(), sequence });
  const h = directory.intern(at(5, 5000));
  assert.equal(directory.intern(at(3, 3000)), h, 'a stale descriptor maps to the same peer');
  assert.equal(directory.descriptorOf(h).addresses[0].port, 5000);
  assert.equal(directory.intern(at(5, 5555)), h, 'same sequence, other content: the first one stays');
  assert.equal(directory.descriptorOf(h).addresses[0].port, 5000);
  assert.equal(directory.stats.stale, 2);
  assert.equal(directory.intern(at(6, 6000)), h);
  assert.equal(directory.descriptorOf(h).addresses[0].port, 6000);
  assert.equal(directory.stats.updated, 1);
});

test('expired descriptors are dropped, not interned', () => {
  const { clock, others, directory } = world(2, { maxAgeMs: 3_600_000 });
  const old = others[0].local.current();
  clock.advance(3_600_001);
  assert.equal(directory.intern(old), NO_PEER);
  assert.equal(directory.stats.expired, 1);
  assert.equal(directory.size, 0);
});

test('a message with one forged descriptor is rejected as a whole and changes nothing', () => {
  const { others, directory } = world(15);
  const codec = new WireCodec();
  const good = others.slice(0, 14).map((o) => o.local.current());
  const victim = others[14];
  const forged = signBody(others[0].identity, {
    ...(wireTypes().descriptorBody.decode(victim.local.current().body) as unknown as Record<string, unknown>),
    addresses: [{ ip: new Uint8Array([6, 6, 6, 6]), port: 22 }],
  });
  const sender = directory.intern(good[0]);
  const before = { ...directory.stats, size: directory.size };
  const bytes = codec.encode({ protocol: 'sampling', kind: 'request', body: { descriptors: [...good, forged], ages: new Array(15).fill(0) } });
  assert.throws(
    () => directory.fromWire(codec.decode(bytes), sender),
    (e: unknown) => e instanceof DescriptorError && e.field === 'sampling.request.descriptors[14].signature',
  );
  assert.equal(directory.size, before.size, 'no descriptor of the rejected message was interned');
  assert.equal(directory.stats.admitted, before.admitted);
  assert.equal(directory.handleOf(victim.identity.nodeId), NO_PEER);
});

test('every protocol message translates to the wire and back between two directories', () => {
  const clock = new ManualClock(NOW);
  const a = node(clock, 1);
  const b = node(clock, 2);
  const peers = Array.from({ length: 6 }, (_, i) => node(clock, 10 + i));
  const dirA = new PeerDirectory(a.local, clock);
  const dirB = new PeerDirectory(b.local, clock);
  const codecA = new PeerMessageCodec(new WireCodec(), dirA);
  const codecB = new PeerMessageCodec(new WireCodec(), dirB);
  const hs = peers.map((p) => dirA.intern(p.local.current()));
  const hB = dirA.intern(b.local.current());
  // B learns A from the transport's authenticated node id plus A's own descriptor in the message.
  const keyA = dirA.keyOf(0);
  const messages: ProtocolMessage[] = [
    { protocol: 'sampling', kind: 'request', body: { ids: [0, ...hs, hB], ages: [0, 1, 2, 3, 4, 5, 6, 7] } },
    { protocol: 'aggregation', kind: 'response', body: { epoch: 4, step: 9, participating: true, estimate: 812, values: [2.5], countKeys: [99], countValues: [0.125] } },
    { protocol: 'tman', kind: 'request', body: { senderKey: keyA, group: 3, ids: [0, hs[0], hs[1]], keys: [keyA, dirA.keyOf(hs[0]), dirA.keyOf(hs[1])], ages: [0, 4, 2] } },
    { protocol: 'slicing', kind: 'request', body: { a: 7, r: 0.5, gossip: { ids: [hs[2], hs[3]], attrs: [1, 2], rs: [0.25, 0.75], ages: [3, 1] } } },
    { protocol: 'slicing', kind: 'response', body: { swapped: true, a: 1, r: 0.125, gossip: null } },
    { protocol: 'ranking', kind: 'request', body: { a: 3.25 } },
  ];
  const nodeIdsA = (ids: PeerHandle[]) => ids.map((h) => dirA.nodeIdOf(h));
  const nodeIdsB = (ids: PeerHandle[]) => ids.map((h) => dirB.nodeIdOf(h));
  for (const m of messages) {
    const got = codecB.decode(codecA.encode(m), a.identity.nodeId);
    assert.equal(got.protocol, m.protocol);
    assert.equal(got.kind, m.kind);
    if (m.protocol === 'sampling' && got.protocol === 'sampling') {
      assert.deepEqual(nodeIdsB(got.body.ids), nodeIdsA(m.body.ids));
      assert.equal(got.body.ids.at(-1), 0, "B's own descriptor becomes B's handle 0");
      assert.deepEqual(got.body.ages, m.body.ages);
    } else if (m.protocol === 'tman' && got.protocol === 'tman') {
      assert.deepEqual(nodeIdsB(got.body.ids), nodeIdsA(m.body.ids));
      assert.deepEqual(got.body.keys, m.body.keys, 'keys derive from node ids on both sides');
      assert.deepEqual(got.body.ages, m.body.ages);
      assert.equal(dirB.groupOf(dirB.handleOf(a.identity.nodeId)), 3, "the sender's group is learned");
      assert.equal(dirB.groupOf(0), 0, 'our own group is never taken from a peer');
    } else if (m.protocol === 'slicing' && got.protocol === 'slicing' && m.body.gossip && got.body.gossip) {
      assert.deepEqual(nodeIdsB(got.body.gossip.ids), nodeIdsA(m.body.gossip.ids));
      assert.deepEqual({ ...got.body.gossip, ids: [] }, { ...m.body.gossip, ids: [] });
    } else {
      assert.deepEqual(got, m);
    }
  }
});

test('T-Man: a sender lying about its ring key, or sending keys in node-id mode, is refused', () => {
  const { others, directory } = world(3);
  const codec = new WireCodec();
  const sender = directory.intern(others[0].local.current());
  const d = others.map((o) => o.local.current());
  const honest: WireMessage = { protocol: 'tman', kind: 'request', body: { senderKey: ringKeyOf(others[0].identity.nodeId), group: 0, descriptors: d, keys: [], ages: [0, 1, 2] } };
  assert.deepEqual((directory.fromWire(codec.decode(codec.encode(honest)), sender).body as { keys: number[] }).keys, others.map((o) => ringKeyOf(o.identity.nodeId)));
  const lying: WireMessage = { ...honest, body: { ...honest.body, senderKey: 12345 } } as WireMessage;
  assert.throws(() => directory.fromWire(lying, sender), (e: unknown) => e instanceof CodecError && e.field === 'tman.request.senderKey');
  const keyed: WireMessage = { ...honest, body: { ...honest.body, keys: [1, 2, 3] } } as WireMessage;
  assert.throws(() => directory.fromWire(keyed, sender), (e: unknown) => e instanceof CodecError && e.field === 'tman.request.keys');
  // In carried mode the keys are taken as sent.
  const carried = new PeerDirectory(world(0).self.local, new ManualClock(NOW), { tmanKeys: 'carried' });
  const s2 = carried.intern(d[0]);
  assert.deepEqual((carried.fromWire(keyed, s2).body as { keys: number[] }).keys, [1, 2, 3]);
});

test('eviction forgets unreferenced peers (least recently used first) and never a referenced or pinned one', () => {
  const { clock, others, directory } = world(12, { capacity: 4 });
  const referenced = new Set<PeerHandle>();
  directory.addReferences((visit) => referenced.forEach(visit));
  const h = others.slice(0, 4).map((o) => {
    clock.advance(1000);
    return directory.intern(o.local.current());
  });
  assert.deepEqual(h, [1, 2, 3, 4]);
  referenced.add(h[0]); // in a view
  directory.pin(h[1]); // in flight
  clock.advance(1000);
  directory.intern(others[2].local.current()); // peer 3 used recently: peer 4 is now the least recently used
  const h5 = directory.intern(others[4].local.current());
  assert.notEqual(h5, NO_PEER);
  assert.equal(directory.handleOf(others[3].identity.nodeId), NO_PEER, 'the least recently used unreferenced peer was forgotten');
  assert.equal(h5, h[3], 'its handle is reused only now that no fresh handle is left');
  for (const i of [0, 1, 2]) assert.equal(directory.handleOf(others[i].identity.nodeId), h[i]);
  // Referenced and pinned peers survive any number of newcomers.
  for (let i = 5; i < 12; i++) directory.intern(others[i].local.current());
  assert.equal(directory.handleOf(others[0].identity.nodeId), h[0]);
  assert.equal(directory.handleOf(others[1].identity.nodeId), h[1]);
  assert.ok(directory.size <= 4);
  directory.unpin(h[1]);
  assert.throws(() => directory.unpin(h[1]), RangeError);
});

test('when every held peer is referenced, newcomers are dropped from messages', () => {
  const { others, directory } = world(4, { capacity: 2 });
  const held = new Set<PeerHandle>();
  directory.addReferences((visit) => held.forEach(visit));
  held.add(directory.intern(others[0].local.current()));
  held.add(directory.intern(others[1].local.current()));
  const sender = directory.handleOf(others[0].identity.nodeId);
  const codec = new WireCodec();
  const m = codec.decode(
    codec.encode({ protocol: 'sampling', kind: 'response', body: { descriptors: others.map((o) => o.local.current()), ages: [0, 1, 2, 3] } }),
  );
  const got = directory.fromWire(m, sender);
  assert.equal(got.protocol, 'sampling');
  if (got.protocol === 'sampling') {
    assert.deepEqual(got.body.ids, [...held]);
    assert.deepEqual(got.body.ages, [0, 1]);
  }
  assert.equal(directory.stats.full, 2);
});

test('handles admitted by one message are never evicted for each other', () => {
  const { others, directory } = world(8, { capacity: 4 });
  for (const o of others.slice(0, 4)) directory.intern(o.local.current()); // full of unreferenced peers
  const codec = new WireCodec();
  const m = codec.decode(
    codec.encode({ protocol: 'sampling', kind: 'request', body: { descriptors: others.slice(4).map((o) => o.local.current()), ages: [0, 0, 0, 0] } }),
  );
  const got = directory.fromWire(m, others[4].identity.nodeId);
  assert.equal(got.protocol, 'sampling');
  if (got.protocol !== 'sampling') return;
  assert.equal(new Set(got.body.ids).size, 4, 'four distinct handles');
  got.body.ids.forEach((h, i) => assert.equal(directory.nodeIdOf(h), others[4 + i].identity.nodeId));
});

test('dead peers are forgotten once unreferenced; a newer descriptor revives a dead peer', () => {
  const { clock, others, directory } = world(3, { idleMs: 60_000 });
  const refs = new Set<PeerHandle>();
  directory.addReferences((visit) => refs.forEach(visit));
  const [a, b, c] = others.map((o) => directory.intern(o.local.current()));
  directory.markDead(a);
  assert.equal(directory.has(a), false, 'an unreferenced dead peer is forgotten at once');
  refs.add(b);
  directory.markDead(b);
  assert.ok(directory.has(b) && directory.isDead(b), 'a referenced dead peer stays while referenced');
  clock.advance(1);
  const newer = others[1].local.supersede(others[1].local.current().sequence);
  assert.equal(directory.intern(newer), b);
  assert.equal(directory.isDead(b), false, 'a newer descriptor revives it');
  directory.markDead(b);
  refs.delete(b);
  assert.equal(directory.collect(), 1, 'collect forgets the now unreferenced dead peer');
  assert.equal(directory.has(b), false);
  assert.ok(directory.has(c));
  clock.advance(60_000);
  assert.equal(directory.collect(), 1, 'and idle ones');
  assert.equal(directory.size, 0);
  assert.equal(directory.handleOf(others[2].identity.nodeId), NO_PEER);
});

test('retain pins every handle of a request until released', () => {
  const { others, directory } = world(3, { capacity: 3 });
  const hs = others.map((o) => directory.intern(o.local.current()));
  const req: ProtocolMessage = { protocol: 'sampling', kind: 'request', body: { ids: [0, hs[0], hs[1]], ages: [0, 1, 1] } };
  const release = directory.retain(handlesIn(req));
  for (const h of [hs[0], hs[1]]) {
    directory.markDead(h);
    assert.ok(directory.has(h), 'pinned');
  }
  release();
  release(); // idempotent
  assert.equal(directory.collect(), 2);
});

test('a descriptor of our own from an earlier life makes us re-sign above it', () => {
  const clock = new ManualClock(NOW);
  const identity = generateIdentity();
  const before = new LocalDescriptor(identitySigner(identity), clock, { addresses: [{ host: '10.0.0.1', port: 1 }], initialSequence: NOW + 500 });
  const old = before.current();
  // Restarted with a fresh sequence lower than the one peers still relay.
  const local = new LocalDescriptor(identitySigner(identity), clock, { addresses: [{ host: '10.0.0.2', port: 2 }] });
  const directory = new PeerDirectory(local, clock);
  assert.ok(local.current().sequence < old.sequence);
  assert.equal(directory.intern(old), LOCAL_HANDLE);
  assert.ok(directory.descriptorOf(0).sequence > old.sequence);
  assert.equal(directory.descriptorOf(0).addresses[0].host, '10.0.0.2');
});

test('toWire refuses a handle the directory does not hold', () => {
  const { directory } = world(0);
  assert.throws(() => directory.toWire({ protocol: 'sampling', kind: 'request', body: { ids: [0, 7], ages: [0, 0] } }), /handle 7 is not in the peer directory/);
});

test('two daemons run Newscast and T-Man over the codec with their directories', () => {
  // Three nodes, each with its own directory, protocol instances serving handle 0 only, and every
  // message going through encode → bytes → decode as it would over the transport.
  const clock = new ManualClock(NOW);
  const nodes = Array.from({ length: 3 }, (_, i) => {
    const n = node(clock, i + 1);
    const directory = new PeerDirectory(n.local, clock, { capacity: 16 });
    const rng = new SeededRandom(i + 1);
    const sampling = new PeerSampling(newscast(4), rng);
    sampling.ensureCapacity(1);
    sampling.resetNode(0);
    const tman = new TMan(sampling, directory, rng, { viewSize: 4, messageSize: 4, psi: 1, randomSample: 2 });
    tman.ensureCapacity(1);
    tman.resetNode(0);
    directory.addReferences((visit) => {
      sampling.views.ids.subarray(0, sampling.views.sizes[0]).forEach(visit);
      tman.views.peers(0).forEach(visit);
    });
    return { ...n, directory, codec: new PeerMessageCodec(new WireCodec(), directory), sampling, tman };
  });
  // Bootstrap: node 0 knows node 1, node 1 knows node 2.
  nodes[0].sampling.addContacts(0, [nodes[0].directory.intern(nodes[1].local.current())]);
  nodes[1].sampling.addContacts(0, [nodes[1].directory.intern(nodes[2].local.current())]);
  const byId = new Map(nodes.map((n) => [n.identity.nodeId, n]));
  type Daemon = (typeof nodes)[number];
  const exchange = (n: Daemon, protocol: 'sampling' | 'tman') => {
    const p = protocol === 'sampling' ? n.sampling : n.tman;
    const peer = p.selectPeer(0);
    if (peer === NO_PEER) return;
    const target = byId.get(n.directory.nodeIdOf(peer))!;
    const req = p.initiate(0, peer);
    const release = n.directory.retain([peer, ...handlesIn({ protocol, kind: 'request', body: req } as ProtocolMessage)]);
    const reqBytes = n.codec.encode({ protocol, kind: 'request', body: req } as ProtocolMessage);
    const inReq = target.codec.decode(reqBytes, n.identity.nodeId);
    const from = target.directory.handleOf(n.identity.nodeId);
    const tp = protocol === 'sampling' ? target.sampling : target.tman;
    const res = (tp as { handle(s: number, f: number, r: unknown): unknown }).handle(0, from, inReq.body);
    const resBytes = target.codec.encode({ protocol, kind: 'response', body: res } as ProtocolMessage);
    const inRes = n.codec.decode(resBytes, target.identity.nodeId);
    (p as { complete(s: number, q: number, r: unknown, s2: unknown): void }).complete(0, peer, req, inRes.body);
    release();
  };
  for (let cycle = 0; cycle < 8; cycle++) {
    for (const n of nodes) exchange(n, 'sampling');
    for (const n of nodes) exchange(n, 'tman');
  }
  for (const n of nodes) {
    const known = new Set(Array.from(n.sampling.views.ids.subarray(0, n.sampling.views.sizes[0]), (h) => n.directory.nodeIdOf(h)));
    assert.equal(known.size, 2, 'every node knows both others through gossip alone');
    assert.ok(!known.has(n.identity.nodeId));
    // T-Man found the ring neighbours by the keys derived from node ids.
    const ring = new Set(n.tman.views.peers(0).map((h) => n.directory.nodeIdOf(h)));
    assert.equal(ring.size, 2);
  }
});
