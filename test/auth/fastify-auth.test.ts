import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { sendError, toErrorResponse } from '../../src/api/errors.js';
import { ErrorSchema } from '../../src/api/schemas.js';
import { AUTH_CHALLENGE, registerSignedRequestAuth } from '../../src/auth/fastify-auth.js';
import { type AuthPolicy, OPEN_POLICY, allowListPolicy } from '../../src/auth/policy.js';
import { ReplayCache } from '../../src/auth/replay-cache.js';
import { signRequest } from '../../src/auth/signed-request.js';
import { generateUser } from '../../src/auth/user-identity.js';
import { silentLogger } from '../../src/node/logger.js';

const ann = generateUser('ann');
const bob = generateUser('bob');

let app: FastifyInstance;
let base: string;
let policy: AuthPolicy = OPEN_POLICY;
let clock = Date.now();
/** Requests that reached a handler: refused ones must never get there. */
const handled: string[] = [];

const SliceBody = Type.Object({ name: Type.String({ minLength: 1 }), nodes: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

before(async () => {
  app = Fastify();
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toErrorResponse(err, request, silentLogger());
    return sendError(reply, status, body);
  });
  registerSignedRequestAuth(app, { policy: () => policy, replayCache: new ReplayCache({ maxEntries: 1000 }), now: () => clock });
  app.post(
    '/v1/slices',
    { config: { auth: { action: 'slice.create' } }, schema: { body: SliceBody, response: { 200: Type.Object({ owner: Type.String(), name: Type.String() }) } } },
    async (request) => {
      const body = request.body as { name: string };
      handled.push(`create ${body.name}`);
      return { owner: request.peercloudUser!.userId, name: body.name };
    },
  );
  app.delete('/v1/slices/:name', { config: { auth: { action: 'slice.delete' } } }, async (request) => {
    const { name } = request.params as { name: string };
    handled.push(`delete ${name}`);
    return { deleted: name, by: request.peercloudUser!.userId };
  });
  app.get('/v1/slices', async (request) => ({ user: request.peercloudUser }));
  app.post('/v1/echo', { config: { auth: 'public' } }, async (request) => ({ got: request.body, user: request.peercloudUser }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await app.close();
});

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
  headers: Headers;
}

async function send(method: string, path: string, options: { body?: string; sign?: typeof ann | null; signBody?: string; signPath?: string } = {}): Promise<Answer> {
  const url = `${base}${path}`;
  const headers: Record<string, string> = options.body !== undefined ? { 'content-type': 'application/json' } : {};
  if (options.sign !== null) {
    const signUrl = `${base}${options.signPath ?? path}`;
    Object.assign(headers, signRequest(options.sign ?? ann, { method, url: signUrl, body: options.signBody ?? options.body }, { nowMs: clock }));
  }
  const res = await fetch(url, { method, headers, body: options.body });
  return { status: res.status, body: (await res.json()) as Answer['body'], headers: res.headers };
}

function expectError(a: Answer, status: number, code: string, pattern?: RegExp): void {
  assert.equal(a.status, status, JSON.stringify(a.body));
  assert.deepEqual(Object.keys(a.body), ['error']);
  assert.equal(a.body.error?.code, code);
  if (pattern) assert.match(a.body.error!.message, pattern);
  assert.equal(a.headers.get('www-authenticate'), status === 401 ? AUTH_CHALLENGE : null);
  assert.match(a.headers.get('content-type') ?? '', /^application\/json/);
}

test('a signed request reaches the handler, which sees the verified user', async () => {
  const a = await send('POST', '/v1/slices', { body: '{"name":"web","nodes":3}' });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.deepEqual(a.body, { owner: ann.userId, name: 'web' });
  const d = await send('DELETE', '/v1/slices/web');
  assert.equal(d.status, 200, JSON.stringify(d.body));
  assert.deepEqual(d.body, { deleted: 'web', by: ann.userId });
  assert.deepEqual(handled.splice(0), ['create web', 'delete web']);
});

test('unsigned, tampered, replayed and expired requests get JSON 401s and never reach the handler', async () => {
  expectError(await send('POST', '/v1/slices', { body: '{"name":"web","nodes":3}', sign: null }), 401, 'MISSING', /must be signed by a user key/);
  expectError(await send('POST', '/v1/slices', { body: '{"name":"web","nodes":30}', signBody: '{"name":"web","nodes":3}' }), 401, 'BAD_SIGNATURE');
  // Same JSON value, different bytes: the signature covers the bytes sent.
  expectError(await send('POST', '/v1/slices', { body: '{"name": "web","nodes":3}', signBody: '{"name":"web","nodes":3}' }), 401, 'BAD_SIGNATURE');
  expectError(await send('DELETE', '/v1/slices/web', { signPath: '/v1/slices/db' }), 401, 'BAD_SIGNATURE');

  const url = `${base}/v1/slices/web`;
  const headers = signRequest(ann, { method: 'DELETE', url }, { nowMs: clock });
  assert.equal((await fetch(url, { method: 'DELETE', headers })).status, 200);
  const replay = await fetch(url, { method: 'DELETE', headers });
  expectError({ status: replay.status, body: (await replay.json()) as Answer['body'], headers: replay.headers }, 401, 'REPLAYED');

  const stale = signRequest(ann, { method: 'DELETE', url }, { nowMs: clock - 6 * 60_000 });
  const old = await fetch(url, { method: 'DELETE', headers: stale });
  expectError({ status: old.status, body: (await old.json()) as Answer['body'], headers: old.headers }, 401, 'EXPIRED', /6\.0 min behind/);

  const malformed = await fetch(url, { method: 'DELETE', headers: { ...signRequest(ann, { method: 'DELETE', url }, { nowMs: clock }), 'Peercloud-Timestamp': 'soon' } });
  expectError({ status: malformed.status, body: (await malformed.json()) as Answer['body'], headers: malformed.headers }, 401, 'MALFORMED', /Peercloud-Timestamp/);
  assert.deepEqual(handled.splice(0), ['delete web'], 'only the first, valid DELETE was handled');
});

test('authentication comes before body validation: an unsigned invalid body is 401, a signed one 400', async () => {
  expectError(await send('POST', '/v1/slices', { body: '{"name":"web"}', sign: null }), 401, 'MISSING');
  const a = await send('POST', '/v1/slices', { body: '{"name":"web"}' });
  assert.equal(a.status, 400);
  assert.equal(a.body.error?.code, 'BAD_REQUEST');
  assert.deepEqual(handled.splice(0), []);
});

test("the node's policy applies per request: an allow-list refuses others with 403, and changes apply at once", async () => {
  policy = allowListPolicy([bob.userId]);
  try {
    expectError(await send('POST', '/v1/slices', { body: '{"name":"db","nodes":1}' }), 403, 'DENIED', new RegExp(`user ${ann.userId} may not slice\\.create on this node`));
    const b = await send('POST', '/v1/slices', { body: '{"name":"db","nodes":1}', sign: bob });
    assert.equal(b.status, 200);
    assert.equal(b.body.owner, bob.userId);
  } finally {
    policy = OPEN_POLICY;
  }
  assert.deepEqual(handled.splice(0), ['create db']);
});

test("the clock is the node's: a request signed now is refused once the node's clock is 5 minutes ahead", async () => {
  const url = `${base}/v1/slices/x`;
  const headers = signRequest(ann, { method: 'DELETE', url }, { nowMs: clock });
  const saved = clock;
  clock += 5 * 60_000 + 1;
  try {
    const r = await fetch(url, { method: 'DELETE', headers });
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as Answer['body']).error?.code, 'EXPIRED');
  } finally {
    clock = saved;
  }
});

test('public routes and reads need no signature', async () => {
  const g = await fetch(`${base}/v1/slices`);
  assert.equal(g.status, 200);
  assert.deepEqual(await g.json(), { user: null });
  const e = await fetch(`${base}/v1/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  assert.equal(e.status, 200);
  assert.deepEqual(await e.json(), { got: { a: 1 }, user: null });
});

test('a mutating route without config.auth is refused at registration; registering twice is refused', async () => {
  const other = Fastify();
  try {
    registerSignedRequestAuth(other, { policy: OPEN_POLICY });
    assert.throws(() => other.put('/v1/things/:id', async () => ({})), /route PUT \/v1\/things\/:id changes state but declares no config\.auth/);
    assert.throws(() => registerSignedRequestAuth(other, { policy: OPEN_POLICY }), /already registered/);
    other.delete('/v1/things/:id', { config: { auth: 'public' } }, async () => ({}));
    await other.ready();
  } finally {
    await other.close();
  }
});

test('guarded routes document 401 and 403 in their response schemas', async () => {
  const other = Fastify();
  const seen: Record<string, unknown>[] = [];
  try {
    registerSignedRequestAuth(other, { policy: OPEN_POLICY });
    other.addHook('onRoute', (route) => {
      seen.push((route.schema as { response: Record<string, unknown> }).response);
    });
    other.post('/v1/documented', { config: { auth: { action: 'thing.make' } }, schema: { response: { 200: Type.Object({}) } } }, async () => ({}));
    await other.ready();
    assert.equal(seen.length, 1);
    assert.equal(seen[0][401], ErrorSchema);
    assert.equal(seen[0][403], ErrorSchema);
    assert.ok(seen[0][200]);
  } finally {
    await other.close();
  }
});
