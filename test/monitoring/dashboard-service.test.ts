/**
 * The daemon side of the dashboard: the snapshot a node gives of itself (built from the same
 * status source as the API), the inspect handler, the crawl through encoded answers (which refuses
 * a node answering for another id, and garbage), and the sampled history.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DashboardService, type DashboardServiceOptions } from '../../src/monitoring/dashboard-service.js';
import { InspectRequestError, inspectHandler } from '../../src/monitoring/inspect-service.js';
import type { CrawlTarget } from '../../src/monitoring/overlay-crawler.js';
import { MAX_VIEW_ENTRIES, decodeSnapshot, encodeSnapshot } from '../../src/monitoring/snapshot.js';
import { FakeSource, NODE_ID, PEER_IDS } from '../api/fake-source.js';
import { FakeOverlay, FakeTime, USER_ID, nodeIdOf } from './fixtures.js';

type Membership = ReturnType<DashboardServiceOptions['membership']>;
const OUTSIDE: Membership = { slice: null, ring: { predecessor: null, successor: null } };

function service(source: FakeSource, time: FakeTime, extra: Partial<DashboardServiceOptions> = {}): DashboardService {
  return new DashboardService({
    // The runtime's status answers synchronously; FakeSource's fields are the same data.
    status: { nodeInfo: () => source.node, peers: () => source.view, network: () => source.aggregates },
    membership: () => OUTSIDE,
    inspect: async () => {
      throw new Error('no network in this test');
    },
    now: time.clock,
    timers: time.timers,
    historySampleMs: 1_000,
    ...extra,
  });
}

describe('DashboardService.snapshot', () => {
  it("is a valid snapshot of the node's status, view, slice and ring", () => {
    const source = new FakeSource();
    const time = new FakeTime();
    const slice = { name: 'web', sliceId: 'c'.repeat(32), ownerNode: PEER_IDS[0], ownerUser: USER_ID };
    const d = service(source, time, { membership: () => ({ slice, ring: { predecessor: PEER_IDS[1], successor: PEER_IDS[2] } }) });
    const s = decodeSnapshot(encodeSnapshot(d.snapshot()));
    assert.equal(s.id, NODE_ID);
    assert.equal(d.nodeId(), NODE_ID);
    assert.equal(s.name, 'node3');
    assert.deepEqual(s.address, source.node.addresses.advertise);
    assert.deepEqual(s.api, source.node.addresses.api, 'a loopback API is shared by default');
    assert.deepEqual(s.view, source.view.peers.map((p) => ({ id: p.id, host: p.address.host, port: p.address.port })));
    assert.deepEqual(s.slice, slice);
    assert.deepEqual(s.ring, { predecessor: PEER_IDS[1], successor: PEER_IDS[2] });
    assert.equal(s.attributes.cores, 2);
    assert.equal(s.attributes.availabilityWeek, 0.5);
    assert.deepEqual(s.labels, { zone: 'lab2' });
    assert.deepEqual(s.network, {
      size: 19.6,
      averageFreeCores: 1.5,
      totalFreeCores: 29.4,
      totalFreeMemoryBytes: 392 * 2 ** 30,
      totalFreeDiskBytes: 784 * 2 ** 30,
      averageLoad: 0.5,
    });
    assert.equal(s.takenAt, time.now);
  });

  it('hides a non-loopback API unless told to share it, and uses the listen address until one is advertised', () => {
    const source = new FakeSource();
    const time = new FakeTime();
    source.node = { ...source.node, addresses: { listen: { host: '0.0.0.0', port: 7946 }, advertise: null, api: { host: '10.0.0.5', port: 7947 } } };
    assert.equal(service(source, time).snapshot().api, null);
    assert.deepEqual(service(source, time, { shareApiAddress: true }).snapshot().api, { host: '10.0.0.5', port: 7947 });
    source.node = { ...source.node, addresses: { ...source.node.addresses, api: { host: '127.0.0.1', port: 7947 } } };
    assert.equal(service(source, time, { shareApiAddress: false }).snapshot().api, null);
    assert.deepEqual(service(source, time).snapshot().address, { host: '0.0.0.0', port: 7946 });
  });

  it('stays within the decoder\'s bounds for a big view, a long name and null estimates', () => {
    const source = new FakeSource();
    const time = new FakeTime();
    source.view = { ...source.view, count: 250, peers: Array.from({ length: 250 }, (_, i) => ({ id: nodeIdOf(i + 1), address: { host: '127.0.0.1', port: 9000 + i }, age: 0 })) };
    source.node = { ...source.node, name: 'n'.repeat(100) };
    source.aggregates = { ...source.aggregates, size: { estimate: null }, load: { average: null } };
    const s = decodeSnapshot(encodeSnapshot(service(source, time).snapshot()));
    assert.equal(s.view.length, MAX_VIEW_ENTRIES);
    assert.equal(s.name.length, 64);
    assert.equal(s.network.size, null);
  });
});

describe('inspectHandler', () => {
  it('answers an empty request with the encoded snapshot and refuses a request with a body', async () => {
    const time = new FakeTime();
    const d = service(new FakeSource(), time);
    const handle = inspectHandler(() => d.snapshot());
    const answer = await handle(undefined, new Uint8Array(0));
    assert.deepEqual(decodeSnapshot(answer), d.snapshot());
    await assert.rejects(handle(undefined, new Uint8Array([1, 2, 3])), (err: unknown) => err instanceof InspectRequestError && /3 bytes/.test(err.message));
  });
});

describe('DashboardService crawl', () => {
  it('refuses a node answering with the snapshot of another id, and garbage, but crawls the rest', async () => {
    const overlay = new FakeOverlay(30, { viewSize: 4, seed: 11 });
    const source = new FakeSource();
    const time = new FakeTime();
    source.node = { ...source.node, id: overlay.self.id };
    source.view = { ...source.view, peers: overlay.self.view.map((id) => ({ id, address: { host: '127.0.0.1', port: overlay.node(id).port }, age: 0 })) };
    const [liar, babbler] = overlay.self.view;
    const impersonated = overlay.self.view[2];
    overlay.node(liar).answerAs = impersonated;
    const inspect = async (target: CrawlTarget): Promise<Uint8Array> => {
      const snapshot = await overlay.inspect(target);
      if (target.nodeId === babbler) return new TextEncoder().encode('{"v":1,"id":"not json');
      return encodeSnapshot(snapshot);
    };
    const d = service(source, time, { inspect });
    await d.crawler.crawlOnce();
    const report = await d.crawler.crawlOnce();
    d.stop();
    const nodes = new Map(report.nodes.map((n) => [n.id, n]));
    for (const bad of [liar, babbler]) {
      assert.equal(nodes.get(bad)?.state, 'unreachable', bad);
      assert.equal(nodes.get(bad)?.snapshot, null, 'nothing it said is kept');
    }
    assert.equal(nodes.get(impersonated)?.state, 'live');
    assert.equal(nodes.get(impersonated)?.snapshot?.id, impersonated);
    // Every other node reachable without learning the two bad nodes' views is live.
    overlay.node(liar).up = false;
    overlay.node(babbler).up = false;
    const expected = overlay.reachable();
    expected.delete(liar);
    expected.delete(babbler);
    const live = report.nodes.filter((n) => n.state === 'live' && n.id !== overlay.self.id).map((n) => n.id);
    assert.deepEqual(new Set(live), expected);
    assert.equal(d.overlay().self, overlay.self.id);
  });
});

describe('DashboardService history', () => {
  it('samples at once on start(), then every historySampleMs, until stop()', async () => {
    const source = new FakeSource();
    const time = new FakeTime();
    const d = service(source, time, { historySampleMs: 1_000 });
    const t0 = time.now;
    d.start();
    assert.deepEqual(d.history().t, [t0]);
    source.aggregates = { ...source.aggregates, size: { estimate: null } };
    await time.advance(3_000);
    const h = d.history();
    assert.deepEqual(h.t, [t0, t0 + 1_000, t0 + 2_000, t0 + 3_000]);
    assert.equal(h.sampleMs, 1_000);
    assert.deepEqual(h.series.size, [19.6, null, null, null]);
    assert.deepEqual(h.series.nodeLoad, [0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual(h.series.nodeFreeCores, [1.5, 1.5, 1.5, 1.5]);
    assert.deepEqual(d.history(t0 + 1_500).t, [t0 + 2_000, t0 + 3_000]);
    d.stop();
    assert.equal(time.pending, 0);
    await time.advance(5_000);
    assert.equal(d.history().t.length, 4);
  });

  it('keeps sampling when the status throws once', async () => {
    const source = new FakeSource();
    const time = new FakeTime();
    let fail = false;
    const d = service(source, time);
    const status = { nodeInfo: () => source.node, peers: () => source.view, network: () => {
      if (fail) throw new Error('aggregation not ready');
      return source.aggregates;
    } };
    const flaky = new DashboardService({ status, membership: () => OUTSIDE, inspect: async () => new Uint8Array(), now: time.clock, timers: time.timers, historySampleMs: 1_000 });
    flaky.start();
    fail = true;
    await time.advance(1_000);
    fail = false;
    await time.advance(2_000);
    flaky.stop();
    d.stop();
    assert.equal(flaky.history().t.length, 3, 'the failed sample is skipped, the timer goes on');
  });
});
