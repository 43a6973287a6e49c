import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { lazySchemaCompilers } from '../../src/api/lazy-schema-compilers.js';

const QUERY_ROUTE = {
  method: 'GET' as const,
  url: '/q',
  schema: {
    querystring: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false },
    response: { 200: { type: 'object', properties: { a: { type: 'string' }, n: { type: 'integer' } } } },
  },
  handler: async (request: { query: unknown }) => ({ a: 'x', n: (request.query as { n: number }).n, secret: 'not in the schema' }),
};

/** A response schema that cannot compile: its $ref points nowhere. */
const BROKEN_ROUTE = {
  method: 'GET' as const,
  url: '/broken',
  schema: { response: { 200: { type: 'object', properties: { a: { $ref: '#/definitions/missing' } } } } },
  handler: async () => ({ a: 1 }),
};

function lazyApp(eager?: (url: string) => boolean): FastifyInstance {
  return Fastify({ schemaController: { compilersFactory: lazySchemaCompilers(eager) } });
}

describe('lazy schema compilers', () => {
  it('validate requests and serialize responses exactly as fastify does', async () => {
    const app = lazyApp();
    app.route(QUERY_ROUTE);
    await app.ready();
    const ok = await app.inject({ method: 'GET', url: '/q?n=7' });
    assert.equal(ok.statusCode, 200);
    // fast-json-stringify writes only what the schema names (and coerced n to an integer).
    assert.deepEqual(JSON.parse(ok.body), { a: 'x', n: 7 });
    for (let i = 0; i < 2; i++) {
      // Twice: the second call goes through the already compiled validator and must still see its errors.
      const bad = await app.inject({ method: 'GET', url: '/q?n=seven' });
      assert.equal(bad.statusCode, 400);
      assert.match(JSON.parse(bad.body).message, /querystring\/n must be integer/);
    }
    const missing = await app.inject({ method: 'GET', url: '/q' });
    assert.equal(missing.statusCode, 400);
    assert.match(JSON.parse(missing.body).message, /must have required property 'n'/);
    await app.close();
  });

  it('compile a route on its first request, not when the server starts', async () => {
    const eager = Fastify();
    eager.route(BROKEN_ROUTE);
    await assert.rejects(async () => eager.ready(), /Failed building the serialization schema/, 'fastify alone compiles at start-up');
    await eager.close();

    const app = lazyApp();
    app.route(BROKEN_ROUTE);
    app.route(QUERY_ROUTE);
    await app.ready(); // nothing compiled yet
    assert.equal((await app.inject({ method: 'GET', url: '/q?n=1' })).statusCode, 200, 'other routes work');
    assert.equal((await app.inject({ method: 'GET', url: '/broken' })).statusCode, 500, 'the broken schema fails on first use');
    await app.close();
  });

  it('compile the routes named eager at start-up, as fastify does', async () => {
    const app = lazyApp((url) => url === '/broken');
    app.route(BROKEN_ROUTE);
    await assert.rejects(async () => app.ready(), /Failed building the serialization schema/);
    await app.close();

    const fine = lazyApp((url) => url === '/q');
    fine.route(QUERY_ROUTE);
    await fine.ready();
    assert.deepEqual(JSON.parse((await fine.inject({ method: 'GET', url: '/q?n=2' })).body), { a: 'x', n: 2 });
    assert.equal((await fine.inject({ method: 'GET', url: '/q?n=two' })).statusCode, 400);
    await fine.close();
  });
});
