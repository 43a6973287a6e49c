import assert from 'node:assert/strict';
import { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import fastifySwagger from '@fastify/swagger';
import { Validator } from '@seriousme/openapi-schema-validator';
import { type EventSourceMessage, createParser } from 'eventsource-parser';
import Fastify, { type FastifyInstance } from 'fastify';
import { Compile } from 'typebox/compile';
import type { TSchema } from 'typebox';
import { errorBody, sendError, toErrorResponse } from '../../src/api/errors.js';
import { type MonitorRouteOptions, type MonitorSource, type MonitorStreams, MonitorNodeSchema, registerMonitorRoutes } from '../../src/api/monitor-routes.js';
import { ErrorSchema, NetworkSchema } from '../../src/api/schemas.js';
import { ApiError } from '../../src/api/source.js';
import { silentLogger } from '../../src/node/logger.js';
import { FakeSource, MEMBERSHIP, NODE_ID } from './fake-source.js';
import { assertError, rawBody, rawHttp, request } from './helpers.js';

function assertShape(schema: unknown, value: unknown): void {
  const check = Compile(schema as TSchema);
  if (!check.Check(value)) assert.fail(`does not match its schema: ${JSON.stringify([...check.Errors(value)].slice(0, 3))}\n${JSON.stringify(value)}`);
}


/** The API server's settings that matter to streams (server.ts), with our routes and a fake source. */
interface TestServer {
  app: FastifyInstance;
  url: string;
  source: FakeSource;
  monitor: MonitorStreams;
  closed: boolean;
}

const servers: TestServer[] = [];

async function startServer(
  opts: { routes?: MonitorRouteOptions; membership?: MonitorSource['membership']; timeoutMs?: number } = {},
  source = new FakeSource(),
): Promise<TestServer> {
  const log = silentLogger();
  const app = Fastify({
    requestTimeout: opts.timeoutMs ?? 10_000,
    connectionTimeout: opts.timeoutMs ?? 10_000,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorResponse(err, req, log);
    return sendError(reply, status, body);
  });
  await app.register(fastifySwagger, { openapi: { openapi: '3.1.0', info: { title: 'test', version: '0.0.0' } } });
  const monitor = registerMonitorRoutes(app, { status: source, membership: opts.membership }, opts.routes);
  app.get('/openapi.json', async () => app.swagger());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const server = { app, url: `http://127.0.0.1:${port}`, source, monitor, closed: false };
  servers.push(server);
  return server;
}

async function closeServer(s: TestServer): Promise<void> {
  if (s.closed) return;
  s.closed = true;
  await s.app.close();
}

interface Tick {
  id: string;
  events: EventSourceMessage[];
  at: number;
}

/**
 * An SSE client over node:http (fetch keeps a spare connection after an abort, which would hold
 * the server's close for seconds): collects events, groups them into ticks (`node` ends a tick),
 * counts comments.
 */
class StreamClient {
  readonly events: EventSourceMessage[] = [];
  readonly ticks: Tick[] = [];
  comments = 0;
  status = 0;
  contentType = '';
  headers: IncomingHttpHeaders = {};
  /** Resolves when the server ends the stream (or the client aborts). */
  ended!: Promise<'eof' | 'aborted'>;
  private request: ClientRequest | undefined;
  private aborted = false;
  private pending: EventSourceMessage[] = [];
  private waiters: (() => void)[] = [];

  static async open(url: string): Promise<StreamClient> {
    const c = new StreamClient();
    const req = httpGet(url, { agent: false, headers: { accept: 'text/event-stream' } });
    c.request = req;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    c.status = res.statusCode ?? 0;
    c.contentType = res.headers['content-type'] ?? '';
    c.headers = res.headers;
    c.ended = c.consume(res);
    return c;
  }

  private consume(res: IncomingMessage): Promise<'eof' | 'aborted'> {
    const parser = createParser({
      onEvent: (e) => {
        this.events.push(e);
        this.pending.push(e);
        if (e.event === 'node' || e.event === 'unavailable') {
          this.ticks.push({ id: e.id ?? '', events: this.pending, at: Date.now() });
          this.pending = [];
        }
        this.wake();
      },
      onComment: () => {
        this.comments++;
        this.wake();
      },
    });
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => parser.feed(chunk));
    return new Promise((resolve) => {
      // 'close' comes in both cases; 'end' only when the server ended the response.
      let eof = false;
      res.once('end', () => (eof = true));
      res.once('error', () => undefined);
      res.once('close', () => {
        this.wake();
        resolve(eof && !this.aborted ? 'eof' : 'aborted');
      });
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `check` holds (re-checked on every event), or fails after `timeoutMs`. */
  async until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`timed out waiting for ${what}; got ${this.events.length} events, ${this.comments} comments`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.aborted = true;
    this.request?.destroy();
  }
}

async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GET /v1/monitor (SSE)', () => {
  const clients: StreamClient[] = [];
  const open = async (url: string) => {
    const c = await StreamClient.open(url);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) await closeServer(s);
  });
  after(async () => {
    for (const s of servers) await closeServer(s);
  });

  it('sends a tick at once and then every interval: network, membership, node, with the right shapes', async () => {
    const s = await startServer({ membership: () => MEMBERSHIP });
    // When the node is asked for each tick (the client's receive times would add its own delays).
    const asked: number[] = [];
    const network = s.source.network.bind(s.source);
    s.source.network = () => {
      asked.push(Date.now());
      return network();
    };
    const c = await open(`${s.url}/v1/monitor?interval=300`);
    assert.equal(c.status, 200);
    assert.match(c.contentType, /^text\/event-stream/);
    assert.equal(c.headers['cache-control'], 'no-cache, no-transform');
    assert.equal(c.headers.connection, 'close', 'the connection is not reused after a stream');
    await c.until('3 ticks', () => c.ticks.length >= 3);

    for (const [i, tick] of c.ticks.slice(0, 3).entries()) {
      assert.deepEqual(tick.events.map((e) => e.event), ['network', 'membership', 'node'], `tick ${i}`);
      assert.ok(tick.events.every((e) => e.id === String(i)), `every event of tick ${i} has id ${i}`);
      const [network, membership, node] = tick.events.map((e) => JSON.parse(e.data) as unknown);
      assertShape(NetworkSchema, network);
      assert.deepEqual(network, s.source.aggregates);
      assert.deepEqual(membership, MEMBERSHIP);
      assertShape(MonitorNodeSchema, node);
      assert.deepEqual(node, {
        id: NODE_ID,
        name: 'node3',
        uptimeMs: 61_000,
        viewSize: 5,
        viewCapacity: 30,
        cores: 2,
        freeCores: 1.5,
        loadAverage: 0.5,
        memoryFreeBytes: 20 * 2 ** 30,
        diskFreeBytes: 40 * 2 ** 30,
        measuredAt: 1_700_000_061_000,
      });
    }
    // Ticks are paced by the interval: a lower bound, since timers never fire early.
    for (let i = 1; i < 3; i++) assert.ok(asked[i] - asked[i - 1] >= 295, `tick ${i} was read ${asked[i] - asked[i - 1]} ms after the previous one`);

    // Live: what the node reports now is what the next tick says.
    s.source.aggregates = { ...s.source.aggregates, size: { estimate: 42 } };
    await c.until('a tick with the new estimate', () => c.ticks.some((t) => (JSON.parse(t.events[0].data) as { size: { estimate: number } }).size.estimate === 42));
  });

  it('has no membership event without a membership source, and uses the default interval', async () => {
    const s = await startServer();
    const c = await open(`${s.url}/v1/monitor`);
    await c.until('1 tick', () => c.ticks.length >= 1);
    assert.deepEqual(c.ticks[0].events.map((e) => e.event), ['network', 'node']);
    assertShape(NetworkSchema, JSON.parse(c.ticks[0].events[0].data));
  });

  it('stops its timers when the client disconnects: the source is no longer read', async () => {
    const s = await startServer();
    const c = await open(`${s.url}/v1/monitor?interval=200`);
    await c.until('2 ticks', () => c.ticks.length >= 2);
    assert.equal(s.monitor.open, 1);
    c.close();
    assert.equal(await c.ended, 'aborted');
    await eventually('the stream to close on the server', () => s.monitor.open === 0);
    const reads = s.source.calls.network;
    await sleep(700); // more than 3 intervals
    assert.equal(s.source.calls.network, reads, 'no tick ran after the disconnect');
  });

  it('lets the server close with streams open: close completes and the clients see the end', { timeout: 20_000 }, async () => {
    const s = await startServer({ routes: { keepAliveMs: 60_000 } });
    const cs = await Promise.all([1, 2, 3].map(() => open(`${s.url}/v1/monitor?interval=60000`)));
    await Promise.all(cs.map((c) => c.until('the first tick', () => c.ticks.length >= 1)));
    assert.equal(s.monitor.open, 3);
    await closeServer(s); // hangs (and the test times out) if an open stream holds the server
    assert.deepEqual(await Promise.all(cs.map((c) => c.ended)), ['eof', 'eof', 'eof']);
    assert.equal(s.monitor.open, 0);
  });

  it('refuses a stream whose first tick completes after the close began, so the close never waits on it', { timeout: 20_000 }, async () => {
    const s = await startServer();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const aggregates = s.source.aggregates;
    s.source.network = async () => {
      s.source.calls.network++;
      await gate;
      return aggregates;
    };
    const pending = request(`${s.url}/v1/monitor`);
    await eventually('the first tick to be asked for', () => s.source.calls.network === 1);
    const closed = closeServer(s);
    await sleep(50);
    release();
    const res = await pending;
    assert.equal(res.status, 503);
    assertError(res.json(), 'UNAVAILABLE');
    await closed;
    assert.equal(s.monitor.open, 0);
  });

  it('answers 503 beyond the stream limit, and takes streams again once one closes', async () => {
    const s = await startServer({ routes: { maxStreams: 2 } });
    const a = await open(`${s.url}/v1/monitor?interval=1000`);
    await open(`${s.url}/v1/monitor?interval=1000`);
    const refused = await request(`${s.url}/v1/monitor`);
    assert.equal(refused.status, 503);
    assert.match(refused.contentType, /^application\/json/);
    assertShape(ErrorSchema, refused.json());
    assert.match(assertError(refused.json(), 'UNAVAILABLE').message, /too many monitor streams open \(2\)/);
    a.close();
    await eventually('a slot to free up', () => s.monitor.open === 1);
    const again = await open(`${s.url}/v1/monitor?interval=1000`);
    assert.equal(again.status, 200);
    await again.until('a tick', () => again.ticks.length >= 1);
  });

  it('rejects a bad interval or an unknown parameter with 400, and other methods with 405', async () => {
    const s = await startServer();
    for (const query of ['interval=199', 'interval=60001', 'interval=abc', 'every=5']) {
      const res = await request(`${s.url}/v1/monitor?${query}`);
      assert.equal(res.status, 400, query);
      assertError(res.json(), 'BAD_REQUEST');
    }
    const post = await request(`${s.url}/v1/monitor`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assertError(post.json(), 'METHOD_NOT_ALLOWED');
    assert.equal(s.monitor.open, 0);
  });

  it('answers the first tick\'s failure as a JSON error; a later failure is an `unavailable` event and the stream goes on', async () => {
    const s = await startServer();
    s.source.failWith.network = new ApiError(503, 'UNAVAILABLE', 'transport not started');
    const refused = await request(`${s.url}/v1/monitor`);
    assert.equal(refused.status, 503);
    assert.equal(assertError(refused.json(), 'UNAVAILABLE').message, 'transport not started');
    assert.equal(s.monitor.open, 0, 'a refused stream holds no slot');

    delete s.source.failWith.network;
    const c = await open(`${s.url}/v1/monitor?interval=200`);
    await c.until('a tick', () => c.ticks.length >= 1);
    s.source.failWith.peers = new ApiError(503, 'UNAVAILABLE', 'shutting down');
    await c.until('an unavailable event', () => c.events.some((e) => e.event === 'unavailable'));
    const failed = c.events.find((e) => e.event === 'unavailable')!;
    assert.deepEqual(JSON.parse(failed.data), errorBody('UNAVAILABLE', 'shutting down'));
    delete s.source.failWith.peers;
    const seen = c.ticks.length;
    await c.until('a good tick after the failure', () => c.ticks.slice(seen).some((t) => t.events.at(-1)!.event === 'node'));
  });

  it('keeps a stream open past the server\'s idle-connection and request timeouts', { timeout: 20_000 }, async () => {
    const s = await startServer({ timeoutMs: 300, routes: { keepAliveMs: 60_000 } });
    const c = await open(`${s.url}/v1/monitor?interval=1000`);
    await c.until('3 ticks', () => c.ticks.length >= 3);
    assert.equal(c.comments, 0);
    assert.equal(s.monitor.open, 1);
  });

  it('sends keep-alive comments between ticks further apart than the keep-alive period', { timeout: 20_000 }, async () => {
    const s = await startServer({ routes: { keepAliveMs: 150 } });
    const c = await open(`${s.url}/v1/monitor?interval=1200`);
    await c.until('2 ticks', () => c.ticks.length >= 2);
    assert.ok(c.comments >= 2, `${c.comments} keep-alive comments between two ticks 1.2 s apart`);
  });

  it('answers HEAD with the headers and opens no stream', async () => {
    const s = await startServer();
    const reply = await rawHttp(Number(new URL(s.url).port), 'HEAD /v1/monitor HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(reply.status, 200);
    assert.match(reply.headers, /content-type: text\/event-stream/);
    assert.equal(rawBody(reply), '');
    await sleep(100);
    assert.equal(s.monitor.open, 0);
  });

  it('is described in a valid OpenAPI document as an event stream with its interval parameter', async () => {
    const s = await startServer();
    const doc = (await request(`${s.url}/openapi.json`)).json() as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; description?: string; responses: Record<string, { content?: Record<string, unknown> }> }>>;
    };
    const result = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0]);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
    const op = doc.paths['/v1/monitor'].get;
    assert.deepEqual(Object.keys(doc.paths['/v1/monitor']), ['get'], 'the 405 handlers are hidden');
    assert.deepEqual(op.parameters?.map((p) => [p.in, p.name]), [['query', 'interval']]);
    assert.ok(op.responses['200'].content?.['text/event-stream']);
    assert.ok(op.responses['503'].content?.['application/json']);
    for (const event of ['network', 'membership', 'node', 'unavailable']) assert.match(op.description ?? '', new RegExp(`\`${event}\``));
  });
});
