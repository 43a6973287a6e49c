import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Family, type Running, parsePrometheus, request, startServer } from './helpers.js';

function value(families: Map<string, Family>, name: string): number | undefined {
  const f = families.get(name);
  assert.ok(f, `${name} is declared`);
  assert.ok(f.samples.length <= 1, `${name} has one sample`);
  return f.samples[0]?.value;
}

async function scrape(r: Running): Promise<Map<string, Family>> {
  const res = await request(`${r.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.contentType, /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(res.text);
}

describe('Prometheus /metrics', () => {
  let r: Running;
  before(async () => {
    r = await startServer();
  });
  after(async () => {
    await r.server.close();
  });

  it('parses as the text format and has the aggregate, view, node and transport metrics', async () => {
    const m = await scrape(r);
    const s = r.source;
    const expected: Array<[string, number, string]> = [
      ['peercloud_network_size_estimate', 19.6, 'gauge'],
      ['peercloud_network_free_cores_average', 1.5, 'gauge'],
      ['peercloud_network_free_cores_total', 29.4, 'gauge'],
      ['peercloud_network_free_memory_bytes_average', s.aggregates.memory.averageFree!, 'gauge'],
      ['peercloud_network_free_memory_bytes_total', s.aggregates.memory.totalFree!, 'gauge'],
      ['peercloud_network_free_disk_bytes_average', s.aggregates.disk.averageFree!, 'gauge'],
      ['peercloud_network_free_disk_bytes_total', s.aggregates.disk.totalFree!, 'gauge'],
      ['peercloud_network_load_average', 0.5, 'gauge'],
      ['peercloud_network_slices', 10, 'gauge'],
      ['peercloud_node_slice', 4, 'gauge'],
      ['peercloud_aggregation_epoch', 3, 'gauge'],
      ['peercloud_aggregation_last_epoch_timestamp_seconds', 1_700_000_060, 'gauge'],
      ['peercloud_view_peers', 5, 'gauge'],
      ['peercloud_view_size', 30, 'gauge'],
      ['peercloud_node_cores', 2, 'gauge'],
      ['peercloud_node_cpu_score', 1000, 'gauge'],
      ['peercloud_node_availability_day_ratio', 1, 'gauge'],
      ['peercloud_node_uptime_seconds', 61, 'gauge'],
      ['peercloud_transport_connections_open', 4, 'gauge'],
      ['peercloud_transport_bytes_in_total', 123_456, 'counter'],
      ['peercloud_transport_requests_failed_total', 3, 'counter'],
      ['peercloud_transport_frames_rejected_total', 2, 'counter'],
    ];
    for (const [name, v, type] of expected) {
      assert.equal(m.get(name)?.type, type, `${name} type`);
      assert.equal(value(m, name), v, name);
      assert.ok(m.get(name)?.help, `${name} has help`);
    }
    // Process metrics come with the same prefix.
    assert.ok((value(m, 'peercloud_process_resident_memory_bytes') ?? 0) > 0);
    assert.ok(m.has('peercloud_nodejs_eventloop_lag_seconds'));
  });

  it('reads the source once per scrape', async () => {
    const before = { ...r.source.calls };
    await scrape(r);
    assert.equal(r.source.calls.network - before.network, 1);
    assert.equal(r.source.calls.peers - before.peers, 1);
    assert.equal(r.source.calls.nodeInfo - before.nodeInfo, 1);
    assert.equal(r.source.calls.transportStats - before.transportStats, 1);
  });

  it('leaves out aggregates the node does not know yet instead of reporting 0', async () => {
    const saved = r.source.aggregates;
    r.source.aggregates = { ...saved, size: { estimate: null }, cores: { averageFree: null, totalFree: Number.NaN } };
    try {
      const m = await scrape(r);
      assert.equal(m.get('peercloud_network_size_estimate')?.samples.length, 0);
      assert.equal(m.get('peercloud_network_free_cores_average')?.samples.length, 0);
      assert.equal(m.get('peercloud_network_free_cores_total')?.samples.length, 0, 'NaN is unknown too');
      assert.equal(value(m, 'peercloud_network_load_average'), 0.5);
    } finally {
      r.source.aggregates = saved;
    }
  });

  it('a failing part of the source leaves its metrics out; the scrape still succeeds', async () => {
    r.source.failWith = { network: new Error('aggregation not running'), transportStats: new Error('x') };
    try {
      const m = await scrape(r);
      assert.equal(m.get('peercloud_network_size_estimate')?.samples.length, 0);
      assert.equal(value(m, 'peercloud_transport_bytes_in_total'), undefined);
      assert.equal(value(m, 'peercloud_view_peers'), 5);
    } finally {
      r.source.failWith = {};
    }
    r.source.transport = null;
    try {
      const m = await scrape(r);
      assert.equal(m.get('peercloud_transport_connections_open')?.samples.length, 0, 'no transport, no transport gauges');
    } finally {
      r.source.transport = new (await import('./fake-source.js')).FakeSource().transport;
    }
  });

  it('values follow the source between scrapes', async () => {
    r.source.aggregates = { ...r.source.aggregates, size: { estimate: 10.2 } };
    assert.equal(value(await scrape(r), 'peercloud_network_size_estimate'), 10.2);
  });

  it('concurrent scrapes each get a complete, valid exposition', async () => {
    const texts = await Promise.all(Array.from({ length: 8 }, () => request(`${r.url}/metrics`)));
    for (const t of texts) {
      const m = parsePrometheus(t.text);
      assert.ok(m.get('peercloud_view_peers')?.samples.length === 1);
    }
  });
});
