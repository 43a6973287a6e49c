import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { API_ROUTES } from '../../src/api/routes.js';
import { type Running, request, startServer } from './helpers.js';
import { MONITOR_ROUTES } from '../../src/api/monitor-routes.js';

interface Operation {
  summary?: string;
  parameters?: Array<{ name: string; in: string }>;
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
}

describe('OpenAPI document', () => {
  let r: Running;
  let doc: Document;
  before(async () => {
    r = await startServer();
    const res = await request(`${r.url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.contentType, /^application\/json/);
    doc = res.json() as Document;
  });
  after(async () => {
    await r.server.close();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator['validate']>[0]);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
    assert.equal(doc.info.title, 'peercloud node API');
    assert.ok(Object.keys(doc.paths['/v1/node'].get.responses['200'].content!['application/json'].schema as object).length > 0);
    assert.match(doc.info.version, /^\d+\.\d+\.\d+/);
  });

  it('lists every route with GET, a summary and a JSON schema for its success response', () => {
    const expected = [...API_ROUTES, ...MONITOR_ROUTES].map((p) => p.replace(/:(\w+)/g, '{$1}')).sort();
    assert.deepEqual(Object.keys(doc.paths).sort(), expected);
    for (const [path, item] of Object.entries(doc.paths)) {
      assert.deepEqual(Object.keys(item), ['get'], `${path} documents only GET (the 405 handlers are hidden)`);
      const op = item.get;
      assert.ok(op.summary, `${path} has a summary`);
      const ok = op.responses['200'];
      assert.ok(ok, `${path} documents 200`);
      assert.ok(ok.description && ok.description !== 'Default Response', `${path} 200 is described`);
      const media = ok.content?.['application/json'] ?? ok.content?.['text/plain'] ?? ok.content?.['text/event-stream'];
      assert.ok(media?.schema, `${path} 200 has a schema`);
    }
  });

  it('documents parameters and error responses where routes take input', () => {
    const peers = doc.paths['/v1/peers'].get;
    assert.deepEqual(peers.parameters?.map((p) => [p.in, p.name]), [['query', 'limit']]);
    assert.ok(peers.responses['400']);
    const peer = doc.paths['/v1/peers/{id}'].get;
    assert.deepEqual(peer.parameters?.map((p) => [p.in, p.name]), [['path', 'id']]);
    assert.ok(peer.responses['404']);
    assert.ok(doc.paths['/health'].get.responses['503']);
    assert.ok(doc.paths['/metrics'].get.responses['200'].content?.['text/plain']);
  });
});
