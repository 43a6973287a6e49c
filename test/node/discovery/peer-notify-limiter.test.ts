import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.js';
import { PeerNotifyLimiter } from '../../../src/node/discovery/peer-notify-limiter.js';

test('a node id is passed on at most once per gap; a flood from one id costs one notification', () => {
  const clock = new ManualClock(0);
  const limiter = new PeerNotifyLimiter({ clock, minNotifyGapMs: 100, forgetAfterMs: 1000, maxTracked: 10 });
  assert.deepEqual(limiter.heard('a'), { notify: true, isNew: true });
  for (let i = 0; i < 1000; i++) assert.deepEqual(limiter.heard('a'), { notify: false, reason: 'rateLimited' });
  clock.advance(99);
  assert.equal(limiter.heard('a').notify, false);
  clock.advance(1);
  assert.deepEqual(limiter.heard('a'), { notify: true, isNew: false });
  // Another id is independent.
  assert.deepEqual(limiter.heard('b'), { notify: true, isNew: true });
});

test('ids are forgotten after forgetAfterMs of silence and are new again when they return', () => {
  const clock = new ManualClock(0);
  const limiter = new PeerNotifyLimiter({ clock, minNotifyGapMs: 10, forgetAfterMs: 300, maxTracked: 10 });
  limiter.heard('a');
  clock.advance(200);
  limiter.heard('b');
  clock.advance(100); // a silent for 300, b for 100
  assert.deepEqual(limiter.heard('c'), { notify: true, isNew: true });
  assert.equal(limiter.size, 2, 'a was forgotten');
  assert.deepEqual(limiter.heard('a'), { notify: true, isNew: true });
  // Hearing an id (even rate-limited) keeps it alive.
  for (let i = 0; i < 5; i++) {
    clock.advance(250);
    limiter.heard('b');
  }
  assert.deepEqual(limiter.heard('b'), { notify: false, reason: 'rateLimited' });
  assert.equal(limiter.heard('b').notify, false);
});

test('a full table refuses new ids but keeps serving the ones it has', () => {
  const clock = new ManualClock(0);
  const limiter = new PeerNotifyLimiter({ clock, minNotifyGapMs: 10, forgetAfterMs: 1000, maxTracked: 3 });
  for (const id of ['a', 'b', 'c']) assert.equal(limiter.heard(id).notify, true);
  for (let i = 0; i < 100; i++) assert.deepEqual(limiter.heard(`fake${i}`), { notify: false, reason: 'tooManyPeers' });
  assert.equal(limiter.size, 3);
  clock.advance(10);
  assert.deepEqual(limiter.heard('b'), { notify: true, isNew: false });
  clock.advance(995); // a and c silent for 1005, b for 995
  assert.deepEqual(limiter.heard('d'), { notify: true, isNew: true });
  assert.equal(limiter.size, 2);
});

test('options are checked', () => {
  const clock = new ManualClock(0);
  assert.throws(() => new PeerNotifyLimiter({ clock, minNotifyGapMs: -1, forgetAfterMs: 10, maxTracked: 1 }), RangeError);
  assert.throws(() => new PeerNotifyLimiter({ clock, minNotifyGapMs: 100, forgetAfterMs: 10, maxTracked: 1 }), RangeError);
  assert.throws(() => new PeerNotifyLimiter({ clock, minNotifyGapMs: 1, forgetAfterMs: 10, maxTracked: 0 }), RangeError);
});
