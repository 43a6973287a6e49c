import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthError, type AuthErrorCode } from '../../src/auth/auth-error.js';
import { allowListPolicy } from '../../src/auth/policy.js';
import { type SignedObject, signObject, verifyObject } from '../../src/auth/signed-object.js';
import { signRequest } from '../../src/auth/signed-request.js';
import { generateUser } from '../../src/auth/user-identity.js';
import { verify } from '../../src/node/identity.js';

const ann = generateUser('ann');
const bob = generateUser('bob');
const T = 1_750_000_000_000;
const op = new TextEncoder().encode(JSON.stringify({ op: 'create', slice: 'web', nodes: 3 }));

function rejects(fn: () => unknown, code: AuthErrorCode, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AuthError, `expected AuthError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

test('a signed object verifies anywhere, survives JSON, and returns the payload it carries', () => {
  const signed = signObject(ann, 'slice-op', op, { nowMs: T });
  const relayed = JSON.parse(JSON.stringify(signed)) as unknown;
  const verified = verifyObject(relayed, 'slice-op', { nowMs: T + 60 * 60_000 });
  assert.equal(verified.userId, ann.userId);
  assert.equal(verified.issuedAtMs, T);
  assert.deepEqual(verified.payload, op);
});

test('tampering with payload, date, key or signature is BAD_SIGNATURE', () => {
  const s = signObject(ann, 'slice-op', op, { nowMs: T });
  const other = signObject(bob, 'slice-op', op, { nowMs: T });
  const cases: SignedObject[] = [
    { ...s, payload: Buffer.from('{"op":"delete"}').toString('base64url') },
    { ...s, issuedAt: T + 1 },
    { ...s, user: other.user },
    { ...s, signature: other.signature },
  ];
  for (const c of cases) rejects(() => verifyObject(c, 'slice-op', { nowMs: T }), 'BAD_SIGNATURE');
});

test('purposes are separate domains: relabelling or verifying for another purpose fails', () => {
  const s = signObject(ann, 'slice-op', op, { nowMs: T });
  rejects(() => verifyObject(s, 'slice-lease', { nowMs: T }), 'BAD_SIGNATURE', /signed for purpose "slice-op", not "slice-lease"/);
  rejects(() => verifyObject({ ...s, purpose: 'slice-lease' }, 'slice-lease', { nowMs: T }), 'BAD_SIGNATURE', /not validly signed by user pu/);
  assert.throws(() => signObject(ann, 'http-request', op), /reserved for signed HTTP requests/);
  assert.throws(() => signObject(ann, 'Bad Purpose', op), /purpose must be/);
  // An HTTP request signature is not a signature of its canonical text as an object, either.
  const headers = signRequest(ann, { method: 'POST', url: 'http://h/x' }, { nowMs: T });
  const sig = Buffer.from(headers['Peercloud-Signature'].slice(3), 'base64url');
  rejects(() => verifyObject({ ...s, signature: sig.toString('base64url') }, 'slice-op', { nowMs: T }), 'BAD_SIGNATURE');
  assert.equal(verify(ann.publicKey, op, Buffer.from(s.signature, 'base64url')), false, 'not a bare signature of the payload');
});

test('malformed objects are MALFORMED, naming the field', () => {
  const s = signObject(ann, 'slice-op', op, { nowMs: T });
  const cases: [unknown, RegExp][] = [
    [null, /must be a JSON object/],
    [[s], /must be a JSON object/],
    [{ ...s, extra: 1 }, /unknown field "extra"/],
    [{ ...s, v: 2 }, /version "2" is not supported/],
    [{ ...s, user: 42 }, /field user must be a string/],
    [{ ...s, issuedAt: -1 }, /issuedAt must be a non-negative integer/],
    [{ ...s, issuedAt: '1' }, /issuedAt must be a non-negative integer/],
    [{ ...s, user: 'abc' }, /user must encode 32 bytes/],
    [{ ...s, payload: '***' }, /payload must be unpadded base64url/],
  ];
  for (const [value, pattern] of cases) rejects(() => verifyObject(value, 'slice-op', { nowMs: T }), 'MALFORMED', pattern);
  const big = signObject(ann, 'slice-op', new Uint8Array(2000), { nowMs: T });
  rejects(() => verifyObject(big, 'slice-op', { nowMs: T, maxPayloadBytes: 1000 }), 'MALFORMED', /larger than 1000 bytes/);
  verifyObject(big, 'slice-op', { nowMs: T, maxPayloadBytes: 2000 });
});

test('dates: from the future beyond the skew, or older than maxAgeMs, are EXPIRED', () => {
  const s = signObject(ann, 'slice-op', op, { nowMs: T });
  verifyObject(s, 'slice-op', { nowMs: T - 5 * 60_000 });
  rejects(() => verifyObject(s, 'slice-op', { nowMs: T - 5 * 60_000 - 1 }), 'EXPIRED', /ahead of this node's clock/);
  verifyObject(s, 'slice-op', { nowMs: T + 1000, maxAgeMs: 1000 });
  rejects(() => verifyObject(s, 'slice-op', { nowMs: T + 1001, maxAgeMs: 1000 }), 'EXPIRED', /older than 1000 ms/);
});

test('authorization applies to objects too', () => {
  const s = signObject(ann, 'slice-op', op, { nowMs: T });
  verifyObject(s, 'slice-op', { nowMs: T, authorization: { policy: allowListPolicy([ann.userId]), action: 'slice.join' } });
  rejects(() => verifyObject(s, 'slice-op', { nowMs: T, authorization: { policy: allowListPolicy([bob.userId]), action: 'slice.join' } }), 'DENIED', /may not slice\.join/);
});
