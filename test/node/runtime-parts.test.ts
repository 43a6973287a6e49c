import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { CodecError } from '../../src/network/codec/errors.js';
import { CycleTimer } from '../../src/node/runtime/cycle-timer.js';
import { decodeEnvelope, encodeEnvelope } from '../../src/node/runtime/envelope.js';
import { loadPeers, peersPath, savePeers } from '../../src/node/runtime/peer-store.js';
import { generateIdentity, isValidNodeId } from '../../src/node/identity.js';

test('the request envelope round-trips and refuses truncated input with a CodecError', () => {
  const d = Uint8Array.from([1, 2, 3]);
  const b = Uint8Array.from([4, 5]);
  const e = decodeEnvelope(encodeEnvelope(d, b));
  assert.deepEqual([...e.descriptor], [1, 2, 3]);
  assert.deepEqual([...e.body], [4, 5]);
  for (const bad of [new Uint8Array(0), Uint8Array.from([0]), Uint8Array.from([0, 0, 9]), Uint8Array.from([0, 9, 1, 2])]) {
    assert.throws(() => decodeEnvelope(bad), CodecError);
  }
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
