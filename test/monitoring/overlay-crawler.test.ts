/**
 * The overlay crawler against an in-memory overlay of 50 nodes with random views (FakeOverlay),
 * with a manual clock: discovery, failure and recovery, forgetting, the node and concurrency
 * bounds, stopping when nobody looks, and stop().
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OverlayCrawlerOptions, type OverlayReport, OverlayCrawler } from '../../src/monitoring/overlay-crawler.js';
import { FakeOverlay, FakeTime } from './fixtures.js';

function setup(options: Partial<OverlayCrawlerOptions> = {}, overlay = new FakeOverlay(50, { viewSize: 5, islands: 3, seed: 7 })) {
  const time = new FakeTime();
  const crawler = new OverlayCrawler({
    self: () => overlay.snapshotOf(overlay.self.id, time.now),
    inspect: overlay.inspect,
    now: time.clock,
    timers: time.timers,
    intervalMs: 1_000,
    ...options,
  });
  return { overlay, time, crawler };
}

function byId(report: OverlayReport) {
  return new Map(report.nodes.map((n) => [n.id, n]));
}

function stateOf(report: OverlayReport, id: string): string | undefined {
  return byId(report).get(id)?.state;
}

describe('OverlayCrawler', () => {
  it('finds every node reachable from its own view in one crawl, and no other', async () => {
    const { overlay, crawler } = setup();
    const expected = overlay.reachable();
    assert.ok(expected.size >= 40, `the random graph should reach most nodes, reached ${expected.size}`);
    const report = await crawler.crawlOnce();
    crawler.stop();

    assert.equal(report.self, overlay.self.id);
    assert.equal(report.rounds, 1);
    assert.equal(report.truncated, false);
    assert.equal(report.nodes[0].id, overlay.self.id);
    assert.equal(report.nodes[0].state, 'live');
    const others = report.nodes.filter((n) => n.id !== overlay.self.id);
    assert.deepEqual(new Set(others.map((n) => n.id)), expected);
    for (const n of others) {
      assert.equal(n.state, 'live', n.id);
      assert.equal(n.snapshot?.id, n.id);
      assert.deepEqual(n.snapshot?.view.map((v) => v.id), overlay.node(n.id).view);
      assert.deepEqual(n.address, { host: '127.0.0.1', port: overlay.node(n.id).port });
      assert.notEqual(n.lastSeenAt, null);
    }
    // The islands list others, but nobody lists them.
    for (const island of overlay.nodes.slice(50)) assert.equal(byId(report).has(island.id), false);
    assert.equal(overlay.callsTo.has(overlay.self.id), false, 'it never asks itself, though views list it');
    // Each node is asked once per round.
    for (const [id, calls] of overlay.callsTo) assert.equal(calls, 1, id);
  });

  it('shows a node unreachable after failuresToUnreachable failed rounds, with its last snapshot, and live again when it answers', async () => {
    const { overlay, crawler } = setup({ failuresToUnreachable: 3 });
    await crawler.crawlOnce();
    const victim = overlay.self.view[0];
    overlay.node(victim).up = false;

    for (let round = 1; round <= 2; round++) {
      const r = await crawler.crawlOnce();
      assert.notEqual(stateOf(r, victim), 'unreachable', `after ${round} failure(s)`);
    }
    const down = await crawler.crawlOnce();
    const node = byId(down).get(victim);
    assert.equal(node?.state, 'unreachable');
    assert.equal(node?.snapshot?.id, victim, 'the last snapshot is kept to label it');
    const lastSeen = node?.lastSeenAt;

    overlay.node(victim).up = true;
    const back = await crawler.crawlOnce();
    crawler.stop();
    assert.equal(stateOf(back, victim), 'live');
    assert.ok((byId(back).get(victim)?.lastSeenAt ?? 0) >= (lastSeen ?? Infinity));
  });

  it('forgets an unreachable node forgetAfterMs after it died, once no live node lists it, and not before', async () => {
    const { overlay, time, crawler } = setup({ failuresToUnreachable: 2, forgetAfterMs: 30_000 });
    await crawler.crawlOnce();
    const [listed, unlisted] = overlay.self.view.slice(0, 2);
    overlay.node(listed).up = false;
    overlay.node(unlisted).up = false;
    overlay.unlist(unlisted);
    // `listed` stays in node 0's own view: it must never be forgotten.
    overlay.self.view.push(listed);

    await crawler.crawlOnce();
    let r = await crawler.crawlOnce();
    assert.equal(stateOf(r, listed), 'unreachable');
    assert.equal(stateOf(r, unlisted), 'unreachable');

    time.now += 29_000;
    r = await crawler.crawlOnce();
    assert.equal(stateOf(r, unlisted), 'unreachable', 'kept until forgetAfterMs has passed');

    time.now += 1_000;
    r = await crawler.crawlOnce();
    assert.equal(byId(r).has(unlisted), false, 'forgotten');
    assert.equal(stateOf(r, listed), 'unreachable', 'still listed by a live node: kept');
    const calls = overlay.callsTo.get(unlisted);
    await crawler.crawlOnce();
    crawler.stop();
    assert.equal(overlay.callsTo.get(unlisted), calls, 'a forgotten node is not asked again');
  });

  it('forgets at once a node it never reached once nobody lists it', async () => {
    const overlay = new FakeOverlay(10, { viewSize: 3, seed: 3 });
    const ghost = overlay.nodes[5].id;
    overlay.node(ghost).up = false;
    overlay.self.view.push(ghost);
    const { crawler } = setup({ failuresToUnreachable: 5 }, overlay);
    let r = await crawler.crawlOnce();
    assert.equal(stateOf(r, ghost), 'unknown', 'listed, asked once, never answered');
    overlay.unlist(ghost);
    r = await crawler.crawlOnce();
    crawler.stop();
    assert.equal(byId(r).has(ghost), false);
  });

  it('follows a node that came back on another port (same id)', async () => {
    const { overlay, crawler } = setup({ failuresToUnreachable: 2 });
    await crawler.crawlOnce();
    const moved = overlay.self.view[0];
    overlay.node(moved).port = 29_999; // every view now gives the new address
    let r: OverlayReport | undefined;
    for (let round = 0; round < 4; round++) {
      r = await crawler.crawlOnce();
      if (stateOf(r, moved) === 'live' && byId(r).get(moved)?.address.port === 29_999) break;
    }
    crawler.stop();
    assert.deepEqual(byId(r as OverlayReport).get(moved)?.address, { host: '127.0.0.1', port: 29_999 });
    assert.equal(stateOf(r as OverlayReport, moved), 'live');
  });

  it('crawls at most maxNodes nodes (itself included) and says it truncated; truncation ends when the overlay fits again', async () => {
    const { overlay, time, crawler } = setup({ maxNodes: 10, failuresToUnreachable: 1, forgetAfterMs: 1_000 });
    let r = await crawler.crawlOnce();
    assert.equal(r.truncated, true);
    assert.equal(r.nodes.length, 10);
    assert.ok(overlay.calls <= 9, `asked ${overlay.calls} nodes`);

    // The overlay shrinks to node 0 and two of its first view entries, which list only each other.
    const [a, b] = overlay.self.view;
    for (const n of overlay.nodes) if (![overlay.self.id, a, b].includes(n.id)) n.up = false;
    overlay.self.view = [a, b];
    overlay.node(a).view = [b, overlay.self.id];
    overlay.node(b).view = [a, overlay.self.id];
    await crawler.crawlOnce();
    time.now += 2_000;
    r = await crawler.crawlOnce();
    crawler.stop();
    assert.deepEqual(new Set(r.nodes.map((n) => n.id)), new Set([overlay.self.id, a, b]));
    assert.equal(r.truncated, false);
  });

  it('never has more than `concurrency` requests in flight', async () => {
    for (const concurrency of [1, 4]) {
      const { overlay, crawler } = setup({ concurrency });
      await crawler.crawlOnce();
      await crawler.crawlOnce();
      crawler.stop();
      assert.ok(overlay.calls > 40);
      assert.ok(overlay.maxInFlight <= concurrency, `max in flight ${overlay.maxInFlight} > ${concurrency}`);
      assert.equal(overlay.maxInFlight, concurrency, 'the pool should fill up to the bound');
    }
  });

  it('refuses options that would make a round hang or crawl nothing', () => {
    const base = setup();
    for (const bad of [{ concurrency: 0 }, { concurrency: 1.5 }, { maxNodes: 0 }, { failuresToUnreachable: 0 }, { intervalMs: -1 }, { intervalMs: Number.NaN }]) {
      assert.throws(() => new OverlayCrawler({ ...baseOptions(base), ...bad }), RangeError, JSON.stringify(bad));
    }
  });

  it('crawls in rounds while asked, stops idleStopMs after the last report(), and report() restarts it', async () => {
    const { overlay, time, crawler } = setup({ intervalMs: 1_000, idleStopMs: 5_000 });
    const settle = () => overlay.settle();
    crawler.report(); // starts the first round
    await settle();
    assert.ok(overlay.calls > 0);
    assert.equal(time.pending, 1, 'the next round is scheduled');

    await time.advance(3_000, settle);
    assert.ok(crawler.report().rounds >= 3, 'rounds go on while someone asks');
    await time.advance(30_000, settle);
    const rounds = crawler.report().rounds;
    // After the report() at t=3s, rounds run until t=8s (idleStopMs) and then stop.
    assert.ok(rounds >= 8 && rounds <= 10, `rounds: ${rounds}`);
    // That report() restarted it: wait for this round, then let it go idle.
    await settle();
    await time.advance(10_000, settle);
    assert.equal(time.pending, 0, 'idle: nothing scheduled');
    const calls = overlay.calls;
    await time.advance(60_000, settle);
    assert.equal(overlay.calls, calls, 'no requests while idle');

    const before = crawler.report().rounds;
    await settle();
    assert.ok(overlay.calls > calls, 'report() restarts crawling');
    assert.equal(time.pending, 1);
    await time.advance(1_000, settle);
    assert.ok(crawler.report().rounds > before);
    crawler.stop();
  });

  it('stop() cancels the next round and report() does not restart it', async () => {
    const { overlay, time, crawler } = setup({ intervalMs: 1_000 });
    const settle = () => overlay.settle();
    crawler.report();
    await settle();
    assert.equal(time.pending, 1);
    crawler.stop();
    assert.equal(time.pending, 0);
    const calls = overlay.calls;
    crawler.report();
    await time.advance(10_000, settle);
    assert.equal(overlay.calls, calls);
    // A round in flight when stop() is called ends, and nothing follows it.
    const second = setup({ intervalMs: 1_000 });
    second.crawler.report();
    second.crawler.stop();
    await second.overlay.settle();
    assert.equal(second.time.pending, 0);
  });

  it('survives its own snapshot failing (no unhandled rejection) and crawls again when asked', async () => {
    const overlay = new FakeOverlay(10, { viewSize: 3, seed: 5 });
    const time = new FakeTime();
    let fail = true;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const errors: unknown[] = [];
      const crawler = new OverlayCrawler({
        self: () => {
          if (fail) throw new Error('status not ready');
          return overlay.snapshotOf(overlay.self.id, time.now);
        },
        inspect: overlay.inspect,
        now: time.clock,
        timers: time.timers,
        onError: (err) => errors.push(err),
      });
      assert.throws(() => crawler.report(), /status not ready/);
      await overlay.settle();
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(unhandled, []);
      assert.equal(errors.length, 1);
      fail = false;
      const r = await crawler.crawlOnce();
      crawler.stop();
      assert.ok(r.nodes.length > 1);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

function baseOptions(s: ReturnType<typeof setup>): OverlayCrawlerOptions {
  return { self: () => s.overlay.snapshotOf(s.overlay.self.id), inspect: s.overlay.inspect, now: s.time.clock, timers: s.time.timers };
}
