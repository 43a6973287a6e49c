/**
 * LAN discovery over real UDP multicast on 127.0.0.1 (TTL 1: nothing leaves the machine). Each test
 * uses its own random group and an ephemeral port. If this machine cannot loop multicast back over
 * 127.0.0.1 at all (checked by an independent probe), the socket tests skip and say why.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { SeededRandom } from '../../../src/core/random.js';
import { cloudTagHash, encodeAnnouncement } from '../../../src/node/discovery/announcement.js';
import {
  type DiscoveredPeer,
  IGNORE_REASONS,
  LanDiscovery,
  LanDiscoveryError,
  type LanDiscoveryOptions,
  type LanDiscoveryStats,
} from '../../../src/node/discovery/lan-discovery.js';
import { generateIdentity } from '../../../src/node/identity.js';
import { countingTimers, loopbackMulticastProblem, randomGroup, rawSender, settledUdpHandles, udpHandles, waitFor } from './multicast-helpers.js';

let skipReason: string | null = null;
before(async () => {
  skipReason = await loopbackMulticastProblem();
});

interface TestNode {
  readonly nodeId: string;
  readonly options: LanDiscoveryOptions;
  readonly discovery: LanDiscovery;
  readonly heard: DiscoveredPeer[];
  heardIds(): Set<string>;
}

let seed = 1;
function makeNode(options: Partial<LanDiscoveryOptions> & { readonly group: string; readonly port: number }): TestNode {
  const nodeId = generateIdentity().nodeId;
  const heard: DiscoveredPeer[] = [];
  const full: LanDiscoveryOptions = {
    self: { nodeId, host: '127.0.0.1', port: 20_000 + seed },
    interfaceAddress: '127.0.0.1',
    intervalMs: 60_000,
    random: new SeededRandom(seed++),
    onPeer: (peer) => heard.push(peer),
    ...options,
  };
  const discovery = new LanDiscovery(full);
  return { nodeId, options: full, discovery, heard, heardIds: () => new Set(heard.map((p) => p.nodeId)) };
}

/** Starts `first` on an ephemeral port; returns that port for the others. */
async function startFirst(node: TestNode): Promise<number> {
  await node.discovery.start();
  assert.ok(node.discovery.boundPort > 0);
  return node.discovery.boundPort;
}

function totalIgnored(stats: LanDiscoveryStats): number {
  return IGNORE_REASONS.reduce((sum, reason) => sum + stats.ignored[reason], 0);
}

test('three nodes on one machine find each other, with the address and port they announce', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const group = randomGroup();
  const a = makeNode({ group, port: 0, intervalMs: 100 });
  t.after(() => a.discovery.stop());
  const port = await startFirst(a);
  const b = makeNode({ group, port, intervalMs: 100 });
  const c = makeNode({ group, port, intervalMs: 100 });
  t.after(() => b.discovery.stop());
  t.after(() => c.discovery.stop());
  await Promise.all([b.discovery.start(), c.discovery.start()]);
  const nodes = [a, b, c];
  await waitFor('every node to hear the two others', () => nodes.every((n) => n.heardIds().size === 2));
  for (const n of nodes) {
    assert.deepEqual(n.heardIds(), new Set(nodes.filter((o) => o !== n).map((o) => o.nodeId)));
    assert.ok(!n.heardIds().has(n.nodeId), 'a node never reports itself');
    for (const peer of n.heard) {
      const owner = nodes.find((o) => o.nodeId === peer.nodeId);
      assert.ok(owner);
      assert.equal(peer.host, '127.0.0.1');
      assert.equal(peer.port, owner.options.self.port);
    }
    const s = n.discovery.stats;
    assert.ok(s.sent >= 1);
    assert.ok(s.ignored.self >= 1, 'each node hears (and ignores) its own announcements');
    assert.equal(s.received, s.accepted + totalIgnored(s));
  }
});

test('a node started later is found at once, and finds the others through their early replies', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const group = randomGroup();
  // A one-hour interval: after the first announcement, only replies to newcomers are sent during the test.
  const a = makeNode({ group, port: 0, intervalMs: 3_600_000 });
  t.after(() => a.discovery.stop());
  const port = await startFirst(a);
  const b = makeNode({ group, port, intervalMs: 3_600_000 });
  t.after(() => b.discovery.stop());
  await b.discovery.start();
  await waitFor('a to hear b (b announces on start)', () => a.heardIds().has(b.nodeId));
  await waitFor('b to hear a (a replies to a new node)', () => b.heardIds().has(a.nodeId));
  assert.equal(a.discovery.stats.sent, 2, 'a: the start announcement and one reply');
});

test('clouds with different tags on one group ignore each other', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const group = randomGroup();
  const blue1 = makeNode({ group, port: 0, intervalMs: 50, cloudTag: 'blue' });
  t.after(() => blue1.discovery.stop());
  const port = await startFirst(blue1);
  const red = makeNode({ group, port, intervalMs: 50, cloudTag: 'red' });
  const blue2 = makeNode({ group, port, intervalMs: 50, cloudTag: 'blue' });
  t.after(() => red.discovery.stop());
  t.after(() => blue2.discovery.stop());
  await Promise.all([red.discovery.start(), blue2.discovery.start()]);
  // The positive control: the two blue nodes do find each other on the same group and port.
  await waitFor('the blue nodes to find each other', () => blue1.heardIds().has(blue2.nodeId) && blue2.heardIds().has(blue1.nodeId));
  await waitFor('every node to ignore a few announcements of the other cloud', () =>
    [blue1, blue2].every((n) => n.discovery.stats.ignored.otherCloud >= 3) && red.discovery.stats.ignored.otherCloud >= 6,
  );
  assert.equal(red.heard.length, 0);
  assert.ok(!blue1.heardIds().has(red.nodeId));
  assert.ok(!blue2.heardIds().has(red.nodeId));
});

test('garbage, oversized, foreign, own and chatty datagrams are ignored and counted; onPeer errors are contained', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const group = randomGroup();
  const tag = 'lab';
  const chatty = generateIdentity().nodeId;
  const named = generateIdentity().nodeId;
  const throwing = generateIdentity().nodeId;
  const heard: DiscoveredPeer[] = [];
  const onPeer = (peer: DiscoveredPeer): void => {
    heard.push(peer);
    if (peer.nodeId === throwing) throw new Error('the daemon choked');
  };
  const a = makeNode({ group, port: 0, cloudTag: tag, onPeer });
  const { discovery } = a;
  t.after(() => discovery.stop());
  await discovery.start();
  await waitFor('our own start announcement', () => discovery.stats.ignored.self === 1);
  const port = discovery.boundPort;
  const sender = await rawSender();
  t.after(() => sender.close());

  const hash = cloudTagHash(tag);
  const valid = (nodeId: string, host?: string): Buffer => encodeAnnouncement(host === undefined ? { cloudTagHash: hash, nodeId, port: 7946 } : { cloudTagHash: hash, nodeId, port: 7946, host });
  const v2 = valid(chatty);
  v2[4] = 2;
  const truncated = valid(chatty).subarray(0, 40);
  const datagrams: Uint8Array[] = [
    Buffer.from('hello?'), // badMagic
    Buffer.alloc(0), // badMagic
    Buffer.concat([valid(chatty), Buffer.alloc(2000, 0x41)]), // oversized
    v2, // badVersion
    truncated, // malformed
    Buffer.concat([valid(chatty), Buffer.from([0])]), // malformed
    encodeAnnouncement({ cloudTagHash: cloudTagHash('other'), nodeId: chatty, port: 7946 }), // otherCloud
    valid(a.nodeId), // self (someone replaying our id)
    valid(named, '0.0.0.0'), // badAddress
    valid(named, '224.0.0.1'), // badAddress
    valid(named, '10.9.8.7'), // accepted, with the announced host
    valid(throwing), // accepted; onPeer throws
    ...Array.from({ length: 5 }, () => valid(chatty)), // 1 accepted, 4 rateLimited
  ];
  for (const d of datagrams) await sender.send(d, group, port);

  const expectIgnored = { badMagic: 2, oversized: 1, badVersion: 1, malformed: 2, otherCloud: 1, badAddress: 2, rateLimited: 4, tooManyPeers: 0 };
  // Replies to the new nodes add our own announcements (ignored as self), so wait on the rest.
  const settled = (): boolean => {
    const s = discovery.stats;
    return s.accepted === 3 && Object.entries(expectIgnored).every(([k, v]) => s.ignored[k as keyof typeof expectIgnored] === v);
  };
  await waitFor('all injected datagrams to be classified', settled).catch(() => undefined);
  const s = discovery.stats;
  assert.deepEqual({ ...s.ignored, self: undefined }, { ...expectIgnored, self: undefined });
  assert.equal(s.accepted, 3);
  assert.ok(s.ignored.self >= 2, 'our start announcement and the replayed one');
  assert.equal(s.received, s.accepted + totalIgnored(s));
  assert.equal(s.callbackErrors, 1);
  assert.deepEqual(
    heard.map((p) => [p.nodeId, p.host, p.port]),
    [
      [named, '10.9.8.7', 7946],
      [throwing, '127.0.0.1', 7946],
      [chatty, '127.0.0.1', 7946],
    ],
  );
  assert.ok(discovery.running, 'still running after all that');
});

test('stop() closes the socket and cancels every timer; it is idempotent and final', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const group = randomGroup();
  const timers = countingTimers();
  const handlesBefore = await settledUdpHandles();
  const a = makeNode({ group, port: 0, intervalMs: 50, timers });
  const port = await startFirst(a);
  const b = makeNode({ group, port, intervalMs: 50, timers });
  await b.discovery.start();
  assert.equal(udpHandles(), handlesBefore + 2);
  await waitFor('the nodes to find each other', () => a.heard.length > 0 && b.heard.length > 0);
  assert.ok(timers.pending >= 2, 'each node has its announcement timer scheduled');
  await Promise.all([a.discovery.stop(), b.discovery.stop()]);
  assert.equal(timers.pending, 0, 'no timer left scheduled');
  assert.equal(a.discovery.running, false);
  // The handle leaves the active list on the tick after the close callback.
  await waitFor('the UDP handles to be released', () => udpHandles() === handlesBefore);
  await a.discovery.stop();
  await assert.rejects(a.discovery.start(), (err: unknown) => err instanceof LanDiscoveryError && err.code === 'ALREADY_STARTED');
  const sentAfterStop = a.discovery.stats.sent;
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(a.discovery.stats.sent, sentAfterStop, 'nothing is sent after stop');

  // stop() while start() is still binding: start settles, nothing stays open.
  const c = makeNode({ group, port: 0, timers });
  const starting = c.discovery.start();
  await c.discovery.stop();
  await starting;
  assert.equal(c.discovery.running, false);
  await waitFor('the UDP handle of the interrupted start to be released', () => udpHandles() === handlesBefore);
  assert.equal(timers.pending, 0);
});

test('start() fails with a clear error and leaves nothing open when the group cannot be joined', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const handlesBefore = await settledUdpHandles();
  // 198.51.100.7 (TEST-NET-2) is no interface of this machine.
  const a = makeNode({ group: randomGroup(), port: 0, interfaceAddress: '198.51.100.7' });
  await assert.rejects(a.discovery.start(), (err: unknown) => {
    assert.ok(err instanceof LanDiscoveryError);
    assert.equal(err.code, 'JOIN_GROUP_FAILED');
    assert.match(err.message, /198\.51\.100\.7/);
    return true;
  });
  assert.equal(a.discovery.running, false);
  await waitFor('the UDP handle to be released', () => udpHandles() === handlesBefore);
});

test('options are validated with errors naming the option', () => {
  const nodeId = generateIdentity().nodeId;
  const base: LanDiscoveryOptions = { self: { nodeId, host: '127.0.0.1', port: 7946 }, onPeer: () => {} };
  const bad: [Partial<LanDiscoveryOptions>, RegExp][] = [
    [{ self: { nodeId: 'pcnope', host: '127.0.0.1', port: 7946 } }, /self\.nodeId/],
    [{ self: { nodeId, host: '127.0.0.1', port: 0 } }, /self\.port/],
    [{ self: { nodeId, host: '', port: 7946 } }, /self\.host/],
    [{ group: '10.0.0.1' }, /not a multicast/],
    [{ group: 'ff15::1' }, /IPv6/],
    [{ port: 70000 }, /port/],
    [{ interfaceAddress: 'eth0' }, /interfaceAddress/],
    [{ intervalMs: 0 }, /intervalMs/],
    [{ jitter: 0.9 }, /jitter/],
    [{ ttl: 0 }, /ttl/],
    [{ maxTrackedPeers: 0 }, /maxTrackedPeers/],
  ];
  for (const [override, pattern] of bad) {
    assert.throws(
      () => new LanDiscovery({ ...base, ...override }),
      (err: unknown) => err instanceof LanDiscoveryError && err.code === 'INVALID_OPTION' && pattern.test(err.message),
      JSON.stringify(override),
    );
  }
  assert.doesNotThrow(() => new LanDiscovery(base));
});
