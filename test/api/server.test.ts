import assert from 'node:assert/strict';
import { request as httpRequest, Agent } from 'node:http';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createApiServer } from '../../src/api/server.js';
import { createLogger } from '../../src/node/logger.js';
import { FakeSource } from './fake-source.js';
import { request, startServer } from './helpers.js';

describe('API server lifecycle', () => {
  it('binds 127.0.0.1 by default and reports the port it got', async () => {
    const server = await createApiServer(new FakeSource());
    assert.equal(server.address, undefined);
    assert.equal(server.url, undefined);
    const address = await server.listen();
    assert.equal(address.host, '127.0.0.1');
    assert.ok(address.port > 0);
    assert.deepEqual(server.address, address);
    assert.equal(server.url, `http://127.0.0.1:${address.port}`);
    assert.equal((await request(`${server.url}/health/live`)).status, 200);
    await server.close();
    await server.close();
    await assert.rejects(fetch(`http://127.0.0.1:${address.port}/health/live`), 'no longer listening');
  });

  it('close does not wait for idle keep-alive connections', async () => {
    const r = await startServer();
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      httpRequest(`${r.url}/v1/node`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    await r.server.close();
    agent.destroy();
  });

  it('listening on a port in use fails with the OS error', async () => {
    const a = await startServer();
    const b = await createApiServer(new FakeSource(), { host: '127.0.0.1', port: a.port });
    await assert.rejects(b.listen(), /EADDRINUSE/);
    await b.close();
    await a.server.close();
  });

  it('logs requests at debug and internal errors at error, as JSON lines with component api', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _e, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const source = new FakeSource();
    source.failWith = { network: new Error('aggregation exploded') };
    const r = await startServer({ logger: createLogger({ level: 'debug', destination }) }, source);
    await request(`${r.url}/v1/node`);
    await request(`${r.url}/v1/network`);
    await r.server.close();
    const api = lines.filter((l) => l.component === 'api');
    assert.ok(api.some((l) => l.level === 'debug' && l.msg === 'request' && l.url === '/v1/node' && l.status === 200));
    const failure = api.find((l) => l.level === 'error');
    assert.ok(failure, 'the 500 is logged');
    assert.match(JSON.stringify(failure), /aggregation exploded/, 'with the cause the client does not see');
  });
});
