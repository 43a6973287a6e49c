import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { CodecError } from '../../src/network/codec/errors.js';
import { CycleTimer } from '../../src/node/runtime/cycle-timer.js';
import {
  ENVELOPE_VERSION,
  decodeFetchRequest,
  decodeFetchResponse,
  decodeHello,
  decodeParts,
  decodeRequest,
  decodeResponse,
  encodeFetchRequest,
  encodeFetchResponse,
  encodeHello,
  encodeParts,
  encodeRequest,
  encodeResponse,
} from '../../src/node/runtime/envelope.js';
import { FailureRumors, retransmissions } from '../../src/node/runtime/failure-rumors.js';
import { SamplingPace } from '../../src/node/runtime/sampling-pace.js';
import { loadPeers, peersPath, savePeers } from '../../src/node/runtime/peer-store.js';
import { generateIdentity, isValidNodeId } from '../../src/node/identity.js';

const ref = (n: number) => new Uint8Array(8).fill(n);

test('gossip envelopes round-trip and refuse truncated, over-long or wrongly versioned input with a CodecError', () => {
  const r = decodeRequest(encodeRequest(ref(1), [ref(2), ref(3)], Uint8Array.from([4, 5])));
  assert.deepEqual([...r.senderRef], [...ref(1)]);
  assert.deepEqual(r.rumors.map((x) => x[0]), [2, 3]);
  assert.deepEqual([...r.body], [4, 5]);
  const s = decodeResponse(encodeResponse([ref(7)], Uint8Array.from([8])));
  assert.deepEqual(s.rumors.map((x) => x[0]), [7]);
  assert.deepEqual([...s.body], [8]);
  const h = decodeHello(encodeHello(Uint8Array.from([1, 2, 3]), { rumored: true }), 100);
  assert.deepEqual([...h.descriptor], [1, 2, 3]);
  assert.equal(h.rumored, true);
  assert.equal(h.view, null);
  const plain = decodeHello(encodeHello(Uint8Array.from([1])), 100);
  assert.equal(plain.rumored, false);
  assert.equal(plain.wantView, false);
  assert.equal(decodeHello(encodeHello(Uint8Array.from([1]), { wantView: true }), 100).wantView, true);
  const withView = decodeHello(encodeHello(Uint8Array.from([9]), { view: [{ descriptor: Uint8Array.from([1, 2]), age: 3 }, { descriptor: Uint8Array.from([4]), age: 70_000 }] }), 100);
  assert.deepEqual(withView.view?.map((e) => [[...e.descriptor], e.age]), [[[1, 2], 3], [[4], 0xffff]], 'ages beyond 16 bits are capped');
  assert.deepEqual(decodeHello(encodeHello(Uint8Array.from([9]), { view: [] }), 100).view, [], 'an empty view is not "no view"');
  assert.deepEqual(decodeFetchRequest(encodeFetchRequest([ref(5), ref(6)])).map((x) => x[5]), [5, 6]);
  const answer = decodeFetchResponse(encodeFetchResponse([Uint8Array.from([1, 2]), Uint8Array.from([3])]), 100);
  assert.deepEqual(answer.map((x) => [...x]), [[1, 2], [3]]);

  const parts = decodeParts(encodeParts([{ protocol: 'sampling', body: Uint8Array.from([1]) }, { protocol: 'ranking', body: new Uint8Array(0) }]), 'x');
  assert.deepEqual(parts.map((p) => [p.protocol, [...p.body]]), [['sampling', [1]], ['ranking', []]]);
  const v = ENVELOPE_VERSION;
  const bad: [string, () => unknown][] = [
    ['empty request', () => decodeRequest(new Uint8Array(0))],
    ['old version', () => decodeRequest(Uint8Array.from([1, ...ref(1), 0]))],
    ['rumors past the end', () => decodeRequest(Uint8Array.from([v, ...ref(1), 2, ...ref(3)]))],
    ['too many rumors', () => decodeResponse(Uint8Array.from([v, 200, ...new Uint8Array(1600)]))],
    ['missing rumor count', () => decodeResponse(Uint8Array.from([v]))],
    ['unknown hello flags', () => decodeHello(Uint8Array.from([v, 8, 0, 1, 1]), 100)],
    ['hello descriptor past the end', () => decodeHello(Uint8Array.from([v, 0, 0, 5, 1]), 100)],
    ['hello descriptor too big', () => decodeHello(Uint8Array.from([v, 0, 0, 3, 1, 2, 3]), 2)],
    ['hello view without a count', () => decodeHello(Uint8Array.from([v, 4, 0, 1, 1]), 100)],
    ['hello view entry past the end', () => decodeHello(Uint8Array.from([v, 4, 0, 1, 1, 1, 0, 0, 0, 9, 1]), 100)],
    ['hello trailing bytes', () => decodeHello(Uint8Array.from([v, 0, 0, 1, 1, 7]), 100)],
    ['fetch length mismatch', () => decodeFetchRequest(Uint8Array.from([v, 2, ...ref(1)]))],
    ['fetch answer overrun', () => decodeFetchResponse(Uint8Array.from([v, 1, 0, 9, 1, 2]), 100)],
    ['fetch answer too big', () => decodeFetchResponse(Uint8Array.from([v, 1, 0, 9, ...new Uint8Array(9)]), 8)],
    ['fetch answer trailing bytes', () => decodeFetchResponse(Uint8Array.from([v, 0, 7]), 100)],
    ['no part count', () => decodeParts(new Uint8Array(0), 'x')],
    ['too many parts', () => decodeParts(Uint8Array.from([4]), 'x')],
    ['unknown protocol', () => decodeParts(Uint8Array.from([1, 9, 0, 0]), 'x')],
    ['protocol twice', () => decodeParts(Uint8Array.from([2, 1, 0, 0, 1, 0, 0]), 'x')],
    ['part past the end', () => decodeParts(Uint8Array.from([1, 1, 0, 5, 1]), 'x')],
    ['bytes after the parts', () => decodeParts(Uint8Array.from([0, 1]), 'x')],
  ];
  for (const [what, run] of bad) assert.throws(run, CodecError, what);
});

test('failure rumors: new once, carried newest first a bounded number of times, and expire', () => {
  const rumors = new FailureRumors({ ttlMs: 1000, perMessage: 2 });
  assert.equal(rumors.add(ref(1), 0, 2), true);
  assert.equal(rumors.add(ref(1), 10, 5), false, 'heard again: not new, relaying not restarted');
  rumors.add(ref(2), 20, 1);
  rumors.add(ref(3), 30, 1);
  assert.ok(rumors.covers(ref(2), 500));
  assert.ok(!rumors.covers(ref(9), 500));
  assert.deepEqual(rumors.takeForMessage(100).map((x) => x[0]), [3, 2], 'newest first, at most perMessage');
  assert.deepEqual(rumors.takeForMessage(100).map((x) => x[0]), [1]);
  assert.deepEqual(rumors.takeForMessage(100).map((x) => x[0]), [1]);
  assert.deepEqual(rumors.takeForMessage(100), [], 'transmissions used up');
  assert.ok(rumors.covers(ref(1), 999));
  assert.ok(!rumors.covers(ref(1), 1000), 'expired');
  rumors.expire(1025);
  assert.equal(rumors.size, 1);
  assert.equal(retransmissions(100), 21);
  assert.equal(retransmissions(Number.NaN), 6);
  assert.throws(() => rumors.add(new Uint8Array(3), 0, 1), RangeError);
});

test('the sampling pace: every cycle while disturbed or not full, every quietPeriod cycles once settled', () => {
  const pace = new SamplingPace({ quietPeriod: 3, settleCycles: 4 });
  const run = (cycles: number, full: boolean) => Array.from({ length: cycles }, () => (pace.due(full) ? 1 : 0)).join('');
  assert.equal(run(6, false), '111111', 'a view that is not full samples every cycle');
  assert.equal(pace.quiet, false);
  assert.equal(run(4, true), '1111', 'settling');
  assert.equal(pace.quiet, true);
  assert.equal(run(9, true), '001001001', 'quiet: one cycle in three');
  pace.disturb();
  assert.equal(run(4, true), '1111', 'a disturbance brings back the full rate');
  assert.equal(run(3, true), '001');
  assert.equal(run(2, false), '11', 'a view that empties too');
  assert.throws(() => new SamplingPace({ quietPeriod: 0 }), RangeError);
});

test('the cycle timer waits period × [1 − jitter, 1 + jitter] and stops when told', () => {
  const scheduled: { fn: () => void; delay: number }[] = [];
  const timers = { schedule: (fn: () => void, delay: number) => (scheduled.push({ fn, delay }), () => {}) };
  let ticks = 0;
  const timer = new CycleTimer(200, 0.1, timers, new SeededRandom(1), () => ticks++);
  timer.start();
  for (let i = 0; i < 50; i++) scheduled[scheduled.length - 1].fn();
  assert.equal(ticks, 50);
  for (const s of scheduled) assert.ok(s.delay >= 180 && s.delay <= 220, `delay ${s.delay}`);
  assert.ok(new Set(scheduled.map((s) => s.delay)).size > 10, 'delays are jittered');
  timer.stop();
  scheduled[scheduled.length - 1].fn();
  assert.equal(ticks, 50);
  assert.throws(() => new CycleTimer(0, 0.1, timers, new SeededRandom(1), () => {}), RangeError);
});

test('the persisted view round-trips, skips bad entries and survives a corrupt file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'peercloud-peers-'));
  try {
    assert.deepEqual(await loadPeers(dir), []);
    const id = generateIdentity().nodeId;
    assert.ok(isValidNodeId(id));
    await savePeers(dir, [{ nodeId: id, host: '127.0.0.1', port: 7000 }]);
    assert.deepEqual(await loadPeers(dir), [{ nodeId: id, host: '127.0.0.1', port: 7000 }]);
    writeFileSync(peersPath(dir), JSON.stringify({ peers: [{ nodeId: 'nope', host: 'h', port: 1 }, { nodeId: id, host: 'h', port: 70000 }, { nodeId: id, host: 'h', port: 2 }] }));
    assert.deepEqual(await loadPeers(dir), [{ nodeId: id, host: 'h', port: 2 }]);
    writeFileSync(peersPath(dir), '{not json');
    const warnings: string[] = [];
    assert.deepEqual(await loadPeers(dir, (m) => warnings.push(m)), []);
    assert.match(warnings[0], /not JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
