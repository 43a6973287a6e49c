import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Compile } from 'typebox/compile';
import type { TSchema } from 'typebox';
import { ErrorSchema, HealthSchema, NetworkSchema, NodeInfoSchema, PeerSchema, PeersSchema, TransportStatsSchema } from '../../src/api/schemas.js';
import { ApiError } from '../../src/api/source.js';
import { PEER_IDS, FakeSource } from './fake-source.js';
import { type Running, assertError, request, startServer } from './helpers.js';

function assertShape(schema: TSchema, value: unknown): void {
  const check = Compile(schema);
  if (!check.Check(value)) assert.fail(`does not match its schema: ${JSON.stringify([...check.Errors(value)].slice(0, 3))}\n${JSON.stringify(value)}`);
}

/** GETs `path`: a 200 JSON answer matching `schema` and equal to `expected` (what the source holds). */
async function assertAnswers(url: string, schema: TSchema, expected: unknown): Promise<void> {
  const res = await request(url);
  assert.equal(res.status, 200);
  assert.match(res.contentType, /^application\/json/);
  assertShape(schema, res.json());
  assert.deepEqual(res.json(), expected);
}

describe('API routes', () => {
  let r: Running;
  before(async () => {
    r = await startServer();
  });
  after(async () => {
    await r.server.close();
  });

  it('GET /v1/node: the node, matching its schema', async () => {
    await assertAnswers(`${r.url}/v1/node`, NodeInfoSchema, r.source.node);
  });

  it('GET /v1/peers: the view, matching its schema, with ?limit', async () => {
    const all = await request(`${r.url}/v1/peers`);
    assert.equal(all.status, 200);
    assertShape(PeersSchema, all.json());
    assert.deepEqual(all.json(), r.source.view);
    const two = (await request(`${r.url}/v1/peers?limit=2`)).json() as { count: number; peers: unknown[] };
    assert.equal(two.peers.length, 2);
    assert.equal(two.count, PEER_IDS.length, 'count is the whole view');
  });

  it('GET /v1/peers/:id: one peer, or 404 when it is not in the view', async () => {
    const one = await request(`${r.url}/v1/peers/${PEER_IDS[2]}`);
    assert.equal(one.status, 200);
    assertShape(PeerSchema, one.json());
    assert.equal((one.json() as { id: string }).id, PEER_IDS[2]);
    const missing = await request(`${r.url}/v1/peers/pc${'q'.repeat(32)}`);
    assert.equal(missing.status, 404);
    assertShape(ErrorSchema, missing.json());
    assertError(missing.json(), 'NOT_FOUND');
  });

  it('GET /v1/network: the aggregates, matching their schema; unknown ones are null', async () => {
    await assertAnswers(`${r.url}/v1/network`, NetworkSchema, r.source.aggregates);

    const saved = r.source.aggregates;
    r.source.aggregates = {
      computedAt: null,
      epoch: { current: null, lengthCycles: 30, cycle: 0, startedAt: null },
      size: { estimate: null },
      cores: { averageFree: null, totalFree: null },
      memory: { averageFree: null, totalFree: null },
      disk: { averageFree: null, totalFree: null },
      load: { average: null },
      slices: { count: 10, mine: null },
    };
    try {
      const early = await request(`${r.url}/v1/network`);
      assert.equal(early.status, 200);
      assertShape(NetworkSchema, early.json());
      assert.equal((early.json() as { size: { estimate: unknown } }).size.estimate, null);
    } finally {
      r.source.aggregates = saved;
    }
  });

  it('GET /v1/transport: the transport counters, matching their schema; 503 while there is no transport', async () => {
    await assertAnswers(`${r.url}/v1/transport`, TransportStatsSchema, r.source.transport);

    const saved = r.source.transport;
    r.source.transport = null;
    try {
      const none = await request(`${r.url}/v1/transport`);
      assert.equal(none.status, 503);
      assertError(none.json(), 'UNAVAILABLE');
    } finally {
      r.source.transport = saved;
    }
  });

  it('GET /health: 200 when ready, 503 with the failing check when not; /health/live always 200', async () => {
    const ok = await request(`${r.url}/health`);
    assert.equal(ok.status, 200);
    assertShape(HealthSchema, ok.json());
    assert.deepEqual(ok.json(), { status: 'ok', live: true, ready: true, checks: r.source.checks });
    assert.equal((await request(`${r.url}/health/ready`)).status, 200);

    r.source.checks = [{ name: 'view', ok: false, detail: 'no peers yet' }];
    try {
      const unready = await request(`${r.url}/health`);
      assert.equal(unready.status, 503);
      assertShape(HealthSchema, unready.json());
      assert.deepEqual(unready.json(), { status: 'unready', live: true, ready: false, checks: r.source.checks });
      assert.equal((await request(`${r.url}/health/ready`)).status, 503);
      const live = await request(`${r.url}/health/live`);
      assert.equal(live.status, 200);
      assert.deepEqual(live.json(), { live: true });
    } finally {
      r.source.checks = new FakeSource().checks;
    }
  });

  it('HEAD works wherever GET does', async () => {
    const res = await fetch(`${r.url}/v1/node`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  it('a failing source gives a JSON 500 without its internals, and the server keeps serving', async () => {
    r.source.failWith = { network: new Error('secret internal detail'), nodeInfo: new TypeError('bug') };
    try {
      for (const path of ['/v1/network', '/v1/node']) {
        const res = await request(`${r.url}${path}`);
        assert.equal(res.status, 500);
        const error = assertError(res.json(), 'INTERNAL');
        assert.doesNotMatch(error.message, /secret|bug/);
      }
    } finally {
      r.source.failWith = {};
    }
    assert.equal((await request(`${r.url}/v1/network`)).status, 200);
  });

  it('an ApiError from the source chooses the status, e.g. 503 while starting', async () => {
    r.source.failWith = { peers: new ApiError(503, 'UNAVAILABLE', 'peer sampling has not started') };
    try {
      const res = await request(`${r.url}/v1/peers`);
      assert.equal(res.status, 503);
      assert.equal(assertError(res.json(), 'UNAVAILABLE').message, 'peer sampling has not started');
    } finally {
      r.source.failWith = {};
    }
  });

  it('data from the source that breaks the schema is a 500, not a malformed answer', async () => {
    const saved = r.source.aggregates;
    r.source.aggregates = { ...saved, size: { estimate: 'many' as unknown as number } };
    try {
      const res = await request(`${r.url}/v1/network`);
      assert.equal(res.status, 500);
      assertError(res.json(), 'INTERNAL');
    } finally {
      r.source.aggregates = saved;
    }
  });
});
