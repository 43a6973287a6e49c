import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthError, type AuthErrorCode } from '../../src/auth/auth-error.js';
import { OPEN_POLICY, allowListPolicy } from '../../src/auth/policy.js';
import { ReplayCache } from '../../src/auth/replay-cache.js';
import {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  type RequestToVerify,
  type SignedRequestHeaders,
  sha256,
  signRequest,
  verifyRequest,
} from '../../src/auth/signed-request.js';
import { generateUser } from '../../src/auth/user-identity.js';

const ann = generateUser('ann');
const bob = generateUser('bob');
const T = 1_750_000_000_000;
const URL_ = 'http://127.0.0.1:7947/v1/slices?wait=true';
const BODY = '{"name":"web","nodes":3}';

function signed(overrides: { method?: string; url?: string; body?: string | Uint8Array; nowMs?: number } = {}, user = ann): SignedRequestHeaders {
  return signRequest(user, { method: overrides.method ?? 'POST', url: overrides.url ?? URL_, body: overrides.body ?? BODY }, { nowMs: overrides.nowMs ?? T });
}

function asReceived(headers: Readonly<Record<string, string>>, overrides: Partial<RequestToVerify> = {}): RequestToVerify {
  // node's http module lowercases header names; verification must not care.
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: 'POST', host: '127.0.0.1:7947', path: '/v1/slices?wait=true', headers: lower, body: BODY, ...overrides };
}

function rejects(fn: () => unknown, code: AuthErrorCode, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AuthError, `expected AuthError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

const opts = () => ({ replayCache: new ReplayCache() });

test('a signed request verifies and names its user; headers are the four documented ones', () => {
  const headers = signed();
  assert.deepEqual(Object.keys(headers).sort(), ['Peercloud-Nonce', 'Peercloud-Signature', 'Peercloud-Timestamp', 'Peercloud-User']);
  assert.equal(headers['Peercloud-Timestamp'], String(T));
  assert.match(headers['Peercloud-Signature'], /^v1=[A-Za-z0-9_-]{86}$/);
  assert.match(headers['Peercloud-Nonce'], /^[A-Za-z0-9_-]{22}$/);
  const verified = verifyRequest(asReceived(headers), T + 1000, opts());
  assert.equal(verified.userId, ann.userId);
  assert.deepEqual(verified.publicKey, ann.publicKey);
  assert.equal(verified.timestampMs, T);
  assert.equal(verified.nonce, headers['Peercloud-Nonce']);
});

test('the body may be given as bytes, as a string or as its digest; a bodiless request signs the empty body', () => {
  const bytes = new TextEncoder().encode(BODY);
  verifyRequest(asReceived(signed({ body: bytes })), T, opts());
  verifyRequest(asReceived(signed(), { body: undefined, bodySha256: sha256(bytes) }), T, opts());
  const del = signRequest(ann, { method: 'delete', url: 'http://127.0.0.1:7947/v1/slices/web' }, { nowMs: T });
  const verified = verifyRequest(asReceived(del, { method: 'DELETE', path: '/v1/slices/web', body: undefined }), T, opts());
  assert.equal(verified.userId, ann.userId);
});

test('every tampered part is refused as BAD_SIGNATURE', () => {
  const headers = signed();
  const cases: [string, RequestToVerify][] = [
    ['method', asReceived(headers, { method: 'PUT' })],
    ['host', asReceived(headers, { host: '127.0.0.1:7950' })],
    ['path', asReceived(headers, { path: '/v1/slices?wait=false' })],
    ['body', asReceived(headers, { body: '{"name":"web","nodes":30}' })],
    ['empty body', asReceived(headers, { body: undefined })],
    ['timestamp', asReceived({ ...headers, 'Peercloud-Timestamp': String(T + 1) })],
    ['nonce', asReceived({ ...headers, 'Peercloud-Nonce': signed()['Peercloud-Nonce'] })],
    ['key', asReceived({ ...headers, 'Peercloud-User': signed({}, bob)['Peercloud-User'] })],
    ['signature', asReceived({ ...headers, 'Peercloud-Signature': signed()['Peercloud-Signature'] })],
  ];
  const flipped = Buffer.from(headers['Peercloud-Signature'].slice(3), 'base64url');
  flipped[10] ^= 1;
  cases.push(['signature bit', asReceived({ ...headers, 'Peercloud-Signature': `v1=${flipped.toString('base64url')}` })]);
  for (const [what, request] of cases) {
    assert.throws(() => verifyRequest(request, T, opts()), (err: unknown) => err instanceof AuthError && err.code === 'BAD_SIGNATURE' && /not a valid signature of this request by user pu/.test(err.message), what);
  }
  // And the untouched request still passes: the refusals were about the tampering.
  verifyRequest(asReceived(headers), T, opts());
});

test('Host is compared without case: hosts are case-insensitive', () => {
  verifyRequest(asReceived(signRequest(ann, { method: 'POST', url: 'http://NODE.example:7947/x' }, { nowMs: T }), { host: 'Node.Example:7947', path: '/x', body: undefined }), T, opts());
});

test('missing headers: MISSING, naming what is absent', () => {
  rejects(() => verifyRequest(asReceived({}), T, opts()), 'MISSING', /must be signed by a user key .*peercloud user create NAME/);
  const { 'Peercloud-Nonce': _nonce, ...partial } = signed();
  rejects(() => verifyRequest(asReceived(partial), T, opts()), 'MISSING', /lacks header Peercloud-Nonce$/);
});

test('unreadable headers: MALFORMED, naming the header', () => {
  const h = signed();
  const cases: [Record<string, string>, RegExp][] = [
    [{ 'Peercloud-User': 'not base64!' }, /Peercloud-User must be unpadded base64url/],
    [{ 'Peercloud-User': h['Peercloud-User'].slice(0, 40) }, /Peercloud-User must encode 32 bytes/],
    [{ 'Peercloud-User': `${h['Peercloud-User']}=` }, /unpadded base64url/],
    [{ 'Peercloud-Timestamp': '1.5e12' }, /Peercloud-Timestamp must be milliseconds/],
    [{ 'Peercloud-Timestamp': `0${T}` }, /Peercloud-Timestamp must be milliseconds/],
    [{ 'Peercloud-Timestamp': '99999999999999999' }, /Peercloud-Timestamp must be milliseconds/],
    [{ 'Peercloud-Nonce': 'abc' }, /Peercloud-Nonce must encode 16 bytes/],
    [{ 'Peercloud-Signature': h['Peercloud-Signature'].slice(3) }, /must be v1=<base64url signature>/],
    [{ 'Peercloud-Signature': `v2=${h['Peercloud-Signature'].slice(3)}` }, /signature version v2; this node understands v1/],
    [{ 'Peercloud-Signature': 'v1=AAAA' }, /Peercloud-Signature must encode 64 bytes/],
  ];
  for (const [change, pattern] of cases) rejects(() => verifyRequest(asReceived({ ...h, ...change }), T, opts()), 'MALFORMED', pattern);
  // A non-canonical spelling of the same bytes (stray low bits in the last character).
  const last = h['Peercloud-User'].at(-1)!;
  // 32 bytes leave 2 unused bits in the last of 43 characters, so it is one of these 16.
  assert.ok('AEIMQUYcgkosw048'.includes(last));
  const sibling = String.fromCharCode(last.charCodeAt(0) + 1);
  rejects(() => verifyRequest(asReceived({ ...h, 'Peercloud-User': h['Peercloud-User'].slice(0, -1) + sibling }), T, opts()), 'MALFORMED', /not canonical/);
  const twice = { ...asReceived(h), headers: { ...asReceived(h).headers, 'peercloud-nonce': [h['Peercloud-Nonce'], h['Peercloud-Nonce']] } };
  rejects(() => verifyRequest(twice, T, opts()), 'MALFORMED', /Peercloud-Nonce was sent 2 times/);
});

test('clock window: ±5 minutes by default, inclusive; outside is EXPIRED saying which way', () => {
  const h = signed();
  verifyRequest(asReceived(h), T + DEFAULT_MAX_CLOCK_SKEW_MS, opts());
  verifyRequest(asReceived(h), T - DEFAULT_MAX_CLOCK_SKEW_MS, opts());
  rejects(() => verifyRequest(asReceived(h), T + DEFAULT_MAX_CLOCK_SKEW_MS + 1, opts()), 'EXPIRED', /is 5\.0 min behind this node's clock; .*±5\.0 min/);
  rejects(() => verifyRequest(asReceived(h), T - 10 * 60_000, opts()), 'EXPIRED', /is 10\.0 min ahead of this node's clock/);
  rejects(() => verifyRequest(asReceived(h), T + 2000, { ...opts(), maxClockSkewMs: 1000 }), 'EXPIRED', /is 2\.0 s behind .*±1\.0 s/);
});

test('replay: the same request twice is REPLAYED; a refused request does not use up its nonce', () => {
  const cache = new ReplayCache();
  const h = signed();
  rejects(() => verifyRequest(asReceived(h, { body: 'tampered' }), T, { replayCache: cache }), 'BAD_SIGNATURE');
  const denyAnn = { replayCache: cache, authorization: { policy: allowListPolicy([bob.userId]), action: 'slice.create' } };
  rejects(() => verifyRequest(asReceived(h), T, denyAnn), 'DENIED', new RegExp(`user ${ann.userId} may not slice.create on this node: its policy is an allow-list of 1 user`));
  assert.equal(cache.size, 0);
  verifyRequest(asReceived(h), T, { replayCache: cache });
  rejects(() => verifyRequest(asReceived(h), T + 1, { replayCache: cache }), 'REPLAYED', /was already used; sign every request afresh/);
  // Another user's request with the same nonce bytes is a different request.
  const nonce = Buffer.from(h['Peercloud-Nonce'], 'base64url');
  const hb = signRequest(bob, { method: 'POST', url: URL_, body: BODY }, { nowMs: T, nonce });
  verifyRequest(asReceived(hb), T, { replayCache: cache });
});

test('authorization: open lets any signer in; an allow-list only its users', () => {
  const h = signed();
  verifyRequest(asReceived(h), T, { ...opts(), authorization: { policy: OPEN_POLICY, action: 'slice.create' } });
  verifyRequest(asReceived(h), T, { ...opts(), authorization: { policy: allowListPolicy([ann.userId]), action: 'slice.create' } });
  rejects(() => verifyRequest(asReceived(h), T, { ...opts(), authorization: { policy: allowListPolicy([]), action: 'slice.grow' } }), 'DENIED', /may not slice\.grow .*allow-list of 0 users/);
});

test('signRequest refuses what cannot be signed', () => {
  assert.throws(() => signRequest(ann, { method: 'POST', url: '/v1/slices' }), /url must be an absolute URL/);
  assert.throws(() => signRequest(ann, { method: 'PO ST', url: URL_ }), /method must be an HTTP method/);
  assert.throws(() => signRequest(ann, { method: 'POST', url: URL_ }, { nonce: new Uint8Array(8) }), /nonce must be 16 bytes/);
});

test('status: 401 for authentication failures, 403 for DENIED', () => {
  assert.equal(new AuthError('BAD_SIGNATURE', 'x').status, 401);
  assert.equal(new AuthError('DENIED', 'x').status, 403);
});
