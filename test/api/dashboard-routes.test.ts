/**
 * The dashboard's routes on the real API server (createApiServer with the `dashboard` option and
 * a fake DashboardSource): overlay and history, the slice draft, read-only methods, and the
 * static files — served from a temp web root, a JSON 404 when not built, never anything outside.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DashboardSource } from '../../src/api/dashboard-routes.js';
import { AggregateHistory, HISTORY_SERIES, type HistorySample } from '../../src/monitoring/aggregate-history.js';
import type { OverlayReport } from '../../src/monitoring/overlay-crawler.js';
import { describeSpec } from '../../src/slices/owner.js';
import { parseSliceSpec } from '../../src/slices/spec.js';
import { specToWire } from '../../src/slices/spec-wire.js';
import { NODE_ID, PEER_IDS } from './fake-source.js';
import { type Running, assertError, rawBody, rawHttp, request, startServer } from './helpers.js';

const INDEX_HTML = '<!doctype html><title>peercloud</title><script src="/assets/app.js"></script>';
const APP_JS = 'console.log("dashboard");';
const SECRET = 'do-not-serve-this-secret';

class FakeDashboard implements DashboardSource {
  readonly historyCalls: (number | undefined)[] = [];
  readonly samples = new AggregateHistory(10, 1_000);
  overlayCalls = 0;
  readonly report: OverlayReport = {
    self: NODE_ID,
    rounds: 3,
    lastRoundAt: 1_700_000_000_000,
    lastRoundMs: 12,
    truncated: false,
    nodes: [
      { id: NODE_ID, address: { host: '127.0.0.1', port: 7946 }, state: 'live', snapshot: null, lastSeenAt: 1_700_000_000_000 },
      { id: PEER_IDS[0], address: { host: '127.0.0.1', port: 8000 }, state: 'unreachable', snapshot: null, lastSeenAt: 1_699_999_990_000 },
      { id: PEER_IDS[1], address: { host: '127.0.0.1', port: 8001 }, state: 'unknown', snapshot: null, lastSeenAt: null },
    ],
  };

  constructor() {
    for (let k = 0; k < 3; k++) {
      const sample = Object.fromEntries(HISTORY_SERIES.map((n) => [n, n === 'size' && k === 0 ? null : k])) as HistorySample;
      this.samples.add(1_700_000_000_000 + 1_000 * k, sample);
    }
  }

  overlay(): OverlayReport {
    this.overlayCalls++;
    return this.report;
  }
  history(since?: number) {
    this.historyCalls.push(since);
    return this.samples.report(since);
  }
  nodeId(): string {
    return NODE_ID;
  }
}

let tmp: string;

before(() => {
  // tmp/secret.txt is next to the web root: nothing may serve it.
  tmp = mkdtempSync(join(tmpdir(), 'peercloud-dashboard-routes-'));
  writeFileSync(join(tmp, 'secret.txt'), SECRET);
  mkdirSync(join(tmp, 'web', 'assets'), { recursive: true });
  writeFileSync(join(tmp, 'web', 'index.html'), INDEX_HTML);
  writeFileSync(join(tmp, 'web', 'assets', 'app.js'), APP_JS);
  mkdirSync(join(tmp, 'empty'));
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Paths that try to leave the web root; fetch() would normalise them, so they go raw. */
const ESCAPES = [
  '/../secret.txt',
  '/%2e%2e/secret.txt',
  '/%2E%2E/secret.txt',
  '/assets/../../secret.txt',
  '/assets/%2e%2e/%2e%2e/secret.txt',
  '/assets/..%2f..%2fsecret.txt',
  '/..%2fsecret.txt',
  '/..%5csecret.txt',
  '/%2e%2e%2fsecret.txt',
  '/../package.json',
  '/%2e%2e/package.json',
  '/%2e%2e/%2e%2e/%2e%2e/package.json',
  '//etc/passwd',
  '/..',
];

async function rawGet(port: number, path: string) {
  const reply = await rawHttp(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  return { ...reply, text: rawBody(reply) };
}

describe('dashboard routes, dashboard built', () => {
  let r: Running;
  let dash: FakeDashboard;
  before(async () => {
    dash = new FakeDashboard();
    r = await startServer({ dashboard: { source: dash, webRoot: join(tmp, 'web') } });
  });
  after(async () => {
    await r.server.close();
  });

  it('GET /v1/overlay: the crawl report as the source gives it', async () => {
    const res = await request(`${r.url}/v1/overlay`);
    assert.equal(res.status, 200);
    assert.match(res.contentType, /^application\/json/);
    assert.deepEqual(res.json(), dash.report);
    assert.equal(dash.overlayCalls, 1);
  });

  it('GET /v1/history: aligned series; ?since filters and is passed as a number', async () => {
    const res = await request(`${r.url}/v1/history`);
    assert.equal(res.status, 200);
    const body = res.json() as { sampleMs: number; t: number[]; series: Record<string, (number | null)[]> };
    assert.deepEqual(Object.keys(body).sort(), ['sampleMs', 'series', 't']);
    assert.equal(body.sampleMs, 1_000);
    assert.deepEqual(body.t, [1_700_000_000_000, 1_700_000_001_000, 1_700_000_002_000]);
    assert.deepEqual(Object.keys(body.series).sort(), [...HISTORY_SERIES].sort());
    for (const name of HISTORY_SERIES) assert.equal(body.series[name].length, 3, name);
    assert.deepEqual(body.series.size, [null, 1, 2]);
    assert.equal(dash.historyCalls.at(-1), undefined);

    const since = await request(`${r.url}/v1/history?since=1700000000500`);
    assert.equal(since.status, 200);
    assert.deepEqual((since.json() as { t: number[] }).t, [1_700_000_001_000, 1_700_000_002_000]);
    assert.equal(dash.historyCalls.at(-1), 1_700_000_000_500);
  });

  it('GET /v1/history with a bad since or an unknown parameter: 400', async () => {
    for (const query of ['since=abc', 'since=-1', 'since=1&since=2', 'from=1']) {
      const res = await request(`${r.url}/v1/history?${query}`);
      assert.equal(res.status, 400, query);
      const error = assertError(res.json(), 'BAD_REQUEST');
      assert.match(error.message, /since|from|additional|propert/i, query);
    }
  });

  it('GET /v1/slice-draft with nodes: a fresh slice id, this node, the wire spec and its description', async () => {
    const q = new URLSearchParams({ name: 'web', nodes: '5', where: 'cores>=2', rank: 'cpu:desc' });
    const res = await request(`${r.url}/v1/slice-draft?${q}`);
    assert.equal(res.status, 200, res.text);
    const body = res.json() as { sliceId: string; ownerNode: string; spec: unknown; description: string };
    assert.deepEqual(Object.keys(body).sort(), ['description', 'ownerNode', 'sliceId', 'spec']);
    assert.match(body.sliceId, /^[0-9a-f]{32}$/);
    assert.equal(body.ownerNode, NODE_ID);
    const spec = parseSliceSpec({ name: 'web', nodes: '5', where: 'cores>=2', rank: 'cpu:desc', keepSize: false });
    assert.deepEqual(body.spec, specToWire(spec));
    assert.equal(body.description, describeSpec(spec));
    assert.match(body.description, /5 nodes/);

    const again = (await request(`${r.url}/v1/slice-draft?${q}`)).json() as { sliceId: string };
    assert.notEqual(again.sliceId, body.sliceId, 'every draft gets its own id');
  });

  it('GET /v1/slice-draft with a fraction and keepSize', async () => {
    const res = await request(`${r.url}/v1/slice-draft?name=batch&fraction=25%25&keepSize=true`);
    assert.equal(res.status, 200, res.text);
    const body = res.json() as { spec: { fraction?: number; nodes?: number; keepSize: boolean; where: unknown; rank: unknown }; description: string };
    assert.equal(body.spec.fraction, 0.25);
    assert.equal('nodes' in body.spec, false);
    assert.equal(body.spec.keepSize, true);
    assert.equal(body.spec.rank, null);
    assert.match(body.description, /25\.0% of matching nodes/);
    // An empty where/rank (a form left blank) means none.
    const blank = await request(`${r.url}/v1/slice-draft?name=batch&nodes=2&where=&rank=`);
    assert.equal(blank.status, 200, blank.text);
  });

  it('GET /v1/slice-draft with both or neither of nodes and fraction: 400', async () => {
    for (const query of ['name=web&nodes=3&fraction=5%25', 'name=web']) {
      const res = await request(`${r.url}/v1/slice-draft?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(assertError(res.json(), 'BAD_REQUEST').message, /nodes or fraction/);
    }
  });

  it('GET /v1/slice-draft with a bad request: 400 naming the problem', async () => {
    const cases: [string, RegExp][] = [
      ['name=web&nodes=3&where=ram>=8GiB', /where: .*unknown attribute "ram"/],
      ['name=web&nodes=3&where=cores>>2', /where: /],
      ['name=web&nodes=3&rank=colour', /rank: .*colour/],
      ['name=Web_1&nodes=3', /name: /],
      ['name=web&nodes=0', /count: .*number of nodes/],
      ['name=web&fraction=150%25', /count: /],
      ['name=web&nodes=3&keepSize=maybe', /keepSize/],
      ['name=web&nodes=3&owner=me', /owner|additional|propert/i],
      ['nodes=3', /name/],
    ];
    for (const [query, message] of cases) {
      const res = await request(`${r.url}/v1/slice-draft?${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text}`);
      assert.match(assertError(res.json(), 'BAD_REQUEST').message, message, query);
    }
  });

  it('the dashboard routes are read-only: other methods get 405 with Allow', async () => {
    for (const [method, path] of [
      ['POST', '/v1/overlay'],
      ['DELETE', '/v1/history'],
      ['PUT', '/v1/slice-draft'],
    ]) {
      const res = await request(`${r.url}${path}`, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get('allow'), 'GET, HEAD');
      assertError(res.json(), 'METHOD_NOT_ALLOWED');
    }
  });

  it('GET / serves index.html, and the bundle\'s files by their paths', async () => {
    const index = await request(`${r.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.contentType, /^text\/html/);
    assert.equal(index.text, INDEX_HTML);
    const named = await request(`${r.url}/index.html`);
    assert.equal(named.status, 200);
    assert.equal(named.text, INDEX_HTML);
    const js = await request(`${r.url}/assets/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.contentType, /javascript/);
    assert.equal(js.text, APP_JS);
    // Anything else is the API's JSON 404, not a file listing.
    const missing = await request(`${r.url}/assets/nope.js`);
    assert.equal(missing.status, 404);
    assertError(missing.json(), 'NOT_FOUND');
    const dir = await request(`${r.url}/assets/`);
    assert.equal(dir.status, 404);
  });

  it('serves nothing outside the web root, however the path is written', async () => {
    for (const path of ESCAPES) {
      const res = await rawGet(r.port, path);
      assert.ok(res.status >= 400 && res.status < 500, `${path}: HTTP ${res.status}`);
      assert.ok(!res.text.includes(SECRET), `${path} served the secret`);
      assert.ok(!res.text.includes('"devDependencies"'), `${path} served package.json`);
    }
  });

  it('the rest of the API is unchanged, and the static files stay out of the OpenAPI document', async () => {
    assert.equal((await request(`${r.url}/v1/node`)).status, 200);
    const doc = (await request(`${r.url}/openapi.json`)).json() as { paths: Record<string, unknown> };
    for (const path of ['/v1/overlay', '/v1/history', '/v1/slice-draft']) assert.ok(path in doc.paths, path);
    for (const path of ['/', '/index.html', '/assets/app.js']) assert.equal(path in doc.paths, false, path);
  });
});

describe('dashboard routes, dashboard not built', () => {
  let r: Running;
  before(async () => {
    r = await startServer({ dashboard: { source: new FakeDashboard(), webRoot: join(tmp, 'empty') } });
  });
  after(async () => {
    await r.server.close();
  });

  it('GET / answers a JSON 404 that says how to build it', async () => {
    const res = await request(`${r.url}/`);
    assert.equal(res.status, 404);
    assert.match(res.contentType, /^application\/json/);
    const error = assertError(res.json(), 'NOT_FOUND');
    assert.match(error.message, /npm run build/);
    assert.ok(error.message.includes(join(tmp, 'empty', 'index.html')), error.message);
  });

  it('the API routes still work and nothing outside is served', async () => {
    assert.equal((await request(`${r.url}/v1/overlay`)).status, 200);
    assert.equal((await request(`${r.url}/v1/history`)).status, 200);
    for (const path of ESCAPES) {
      const res = await rawGet(r.port, path);
      assert.ok(res.status >= 400 && res.status < 500, `${path}: HTTP ${res.status}`);
      assert.ok(!res.text.includes(SECRET), path);
    }
  });
});

describe('API server without the dashboard option', () => {
  it('has none of the dashboard routes', async () => {
    const r = await startServer();
    try {
      for (const path of ['/v1/overlay', '/v1/history', '/v1/slice-draft?name=web&nodes=1', '/']) {
        const res = await request(`${r.url}${path}`);
        assert.equal(res.status, 404, path);
      }
    } finally {
      await r.server.close();
    }
  });
});
