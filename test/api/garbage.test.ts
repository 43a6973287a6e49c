import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API_ROUTES } from '../../src/api/routes.js';
import { type Running, assertError, rawBody, rawHttp, request, startServer } from './helpers.js';

/** The server still answers normally. */
async function stillServing(r: Running): Promise<void> {
  const res = await request(`${r.url}/v1/node`);
  assert.equal(res.status, 200);
  assert.equal((res.json() as { name: string }).name, 'node3');
}

describe('API under bad input', () => {
  let r: Running;
  before(async () => {
    r = await startServer({ bodyLimit: 1024 });
  });
  after(async () => {
    await r.server.close();
  });

  it('unknown routes: 404 JSON', async () => {
    for (const path of ['/', '/v2/node', '/v1/nodes', '/v1/peers/x/y', '/metrics.php']) {
      const res = await request(`${r.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.match(res.contentType, /^application\/json/);
      assertError(res.json(), 'NOT_FOUND');
    }
    await stillServing(r);
  });

  it('wrong methods on known routes: 405 JSON with Allow', async () => {
    for (const url of API_ROUTES) {
      const path = url.replace(':id', `pc${'b'.repeat(32)}`);
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        const res = await request(`${r.url}${path}`, { method });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(res.headers.get('allow'), 'GET, HEAD');
        assertError(res.json(), 'METHOD_NOT_ALLOWED');
      }
    }
    await stillServing(r);
  });

  it('invalid JSON bodies: 400 JSON', async () => {
    for (const body of ['{bad', '{"a":', 'null x', '\u0000\u0001', '{"__proto__": {"x": 1}}']) {
      const res = await request(`${r.url}/v1/node`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(body)} gave ${res.status}`);
      assertError(res.json());
    }
    const res = await request(`${r.url}/v1/node`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' });
    assert.equal(res.status, 400);
    assertError(res.json(), 'BAD_REQUEST');
    await stillServing(r);
  });

  it('an empty JSON body, a wrong content type: 4xx JSON', async () => {
    const empty = await request(`${r.url}/v1/node`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' });
    assert.equal(empty.status, 400);
    assertError(empty.json(), 'BAD_REQUEST');
    const xml = await request(`${r.url}/v1/node`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    assert.equal(xml.status, 415);
    assertError(xml.json(), 'UNSUPPORTED_MEDIA_TYPE');
    await stillServing(r);
  });

  it('oversized bodies: 413 JSON, whether the length is announced or streamed', async () => {
    const big = 'x'.repeat(64 * 1024);
    const announced = await request(`${r.url}/v1/node`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ big }) });
    assert.equal(announced.status, 413);
    assertError(announced.json(), 'PAYLOAD_TOO_LARGE');
    const chunk = `${(4096).toString(16)}\r\n${'y'.repeat(4096)}\r\n`;
    const streamed = await rawHttp(
      r.port,
      `POST /v1/node HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk.repeat(4)}0\r\n\r\n`,
    );
    assert.equal(streamed.status, 413);
    assertError(JSON.parse(rawBody(streamed)), 'PAYLOAD_TOO_LARGE');
    await stillServing(r);
  });

  it('path traversal never reaches anything but the routes: 404 or 400 JSON', async () => {
    const paths = [
      '/../../etc/passwd',
      '/v1/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/v1/peers/..%2f..%2fetc%2fpasswd',
      '/v1/peers/%2e%2e',
      '/v1/node/..',
      '//etc/passwd',
      '/v1/node%00',
      '/\\..\\..\\windows\\win.ini',
    ];
    for (const path of paths) {
      const res = await rawHttp(r.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.ok(res.status === 404 || res.status === 400, `${path} gave ${res.status}`);
      const error = assertError(JSON.parse(rawBody(res)));
      assert.doesNotMatch(error.message, /root:/);
    }
    await stillServing(r);
  });

  it('bad query parameters and path parameters: 400 JSON naming the parameter', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/v1/peers?limit=abc', /limit/],
      ['/v1/peers?limit=0', /limit/],
      ['/v1/peers?limit=-5', /limit/],
      ['/v1/peers?limit=1e9', /limit/],
      ['/v1/peers?limit=2&limit=3', /limit/],
      ['/v1/peers?sort=age', /unknown query parameter "sort"/],
      ['/v1/peers/not-a-node-id', /id/],
      [`/v1/peers/${'p'.repeat(300)}`, /./],
    ];
    for (const [path, mention] of cases) {
      const res = await request(`${r.url}${path}`);
      assert.ok(res.status === 400 || res.status === 404 || res.status === 414, `${path} gave ${res.status}`);
      const error = assertError(res.json());
      if (res.status === 400) assert.match(error.message, mention, path);
    }
    const malformed = await rawHttp(r.port, 'GET /v1/peers/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(malformed.status, 400);
    assertError(JSON.parse(rawBody(malformed)), 'BAD_REQUEST');
    await stillServing(r);
  });

  it('bytes that are not HTTP, and oversized headers: a JSON 4xx and the connection closed', async () => {
    const garbage = await rawHttp(r.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]));
    assert.equal(garbage.status, 400);
    assertError(JSON.parse(garbage.body), 'BAD_REQUEST');
    const words = await rawHttp(r.port, 'HELLO THERE\r\n\r\n');
    assert.equal(words.status, 400);
    const headers = await rawHttp(r.port, `GET /v1/node HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.equal(headers.status, 431);
    assertError(JSON.parse(headers.body), 'HEADERS_TOO_LARGE');
    await stillServing(r);
  });

  it('a burst of mixed garbage leaves the server serving', async () => {
    const attempts: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) {
      attempts.push(
        i % 4 === 0
          ? rawHttp(r.port, Buffer.from(Array.from({ length: 64 }, (_, j) => (i * 31 + j * 17) % 256))).catch(() => undefined)
          : i % 4 === 1
            ? request(`${r.url}/v1/node`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{'.repeat(i) })
            : i % 4 === 2
              ? request(`${r.url}/v1/peers?limit=${'9'.repeat(i)}`)
              : request(`${r.url}/v1/peers/${'%ff'.repeat(i)}`),
      );
    }
    await Promise.all(attempts);
    await stillServing(r);
  });
});
