/**
 * A NodeStatusSource with fixed, plausible data, for API tests only. Fields are public so a test can
 * change what the "node" reports, make a method throw, or mark a check failing.
 */
import type { TransportStats } from '../../src/network/transport.js';
import type { HealthCheck, NetworkAggregates, NodeInfo, PeerView } from '../../src/api/schemas.js';
import type { NodeStatusSource } from '../../src/api/source.js';

export const NODE_ID = 'pc' + 'a'.repeat(32);
export const PEER_IDS = ['b', 'c', 'd', 'e', 'f'].map((c) => 'pc' + c.repeat(32));

export class FakeSource implements NodeStatusSource {
  calls = { nodeInfo: 0, peers: 0, network: 0, transportStats: 0, health: 0 };
  failWith: Partial<Record<keyof FakeSource['calls'], unknown>> = {};

  node: NodeInfo = {
    id: NODE_ID,
    name: 'node3',
    version: '0.1.0',
    startedAt: 1_700_000_000_000,
    uptimeMs: 61_000,
    addresses: { listen: { host: '127.0.0.1', port: 7946 }, advertise: { host: '127.0.0.1', port: 7946 }, api: { host: '127.0.0.1', port: 7947 } },
    attributes: {
      cores: 2,
      cpuScore: 1000,
      memoryTotalBytes: 24 * 2 ** 30,
      memoryFreeBytes: 20 * 2 ** 30,
      diskTotalBytes: 100 * 2 ** 30,
      diskFreeBytes: 40 * 2 ** 30,
      loadAverage: 0.5,
      freeCores: 1.5,
      uptimeMs: 61_000,
      availability: { day: 1, week: 0.5, trackedMs: 3_600_000 },
      labels: { zone: 'lab2' },
      measuredAt: 1_700_000_061_000,
    },
    labels: { zone: 'lab2' },
  };

  view: PeerView = {
    protocol: 'newscast',
    viewSize: 30,
    count: PEER_IDS.length,
    peers: PEER_IDS.map((id, i) => ({ id, address: { host: '127.0.0.1', port: 8000 + i }, age: i })),
    computedAt: 1_700_000_061_000,
  };

  aggregates: NetworkAggregates = {
    computedAt: 1_700_000_060_000,
    epoch: { current: 3, lengthCycles: 30, cycle: 12, startedAt: 1_700_000_050_000 },
    size: { estimate: 19.6 },
    cores: { averageFree: 1.5, totalFree: 29.4 },
    memory: { averageFree: 20 * 2 ** 30, totalFree: 392 * 2 ** 30 },
    disk: { averageFree: 40 * 2 ** 30, totalFree: 784 * 2 ** 30 },
    load: { average: 0.5 },
    slices: { count: 10, mine: 4 },
  };

  transport: TransportStats | null = {
    connectionsOpen: 4,
    streamsOpen: 0,
    connectionsAccepted: 10,
    connectionsDialled: 12,
    connectionsRejected: 1,
    framesRejected: 2,
    framesIn: 500,
    framesOut: 510,
    bytesIn: 123_456,
    bytesOut: 234_567,
    requestsSent: 250,
    requestsFailed: 3,
    requestsHandled: 245,
  };

  checks: HealthCheck[] = [
    { name: 'transport', ok: true, detail: 'listening on 127.0.0.1:7946' },
    { name: 'view', ok: true, detail: '5 peers' },
  ];

  private answer<T>(name: keyof FakeSource['calls'], value: T): T {
    this.calls[name]++;
    if (name in this.failWith) throw this.failWith[name];
    return value;
  }

  nodeInfo(): NodeInfo {
    return this.answer('nodeInfo', this.node);
  }
  async peers(): Promise<PeerView> {
    return this.answer('peers', this.view);
  }
  async network(): Promise<NetworkAggregates> {
    return this.answer('network', this.aggregates);
  }
  transportStats(): TransportStats | null {
    return this.answer('transportStats', this.transport);
  }
  health(): HealthCheck[] {
    return this.answer('health', this.checks);
  }
}

/** A node in a slice, as /v1/membership shows it (for the monitor tests). */
export const MEMBERSHIP: import('../../src/slices/slice-api.js').MembershipView = {
  state: 'member',
  slice: { name: 'web', sliceId: 's1', ownerNode: NODE_ID, ownerUser: 'u'.repeat(10) },
  leaseUntil: 1_700_000_100_000,
  members: [{ nodeId: NODE_ID, host: '127.0.0.1', port: 7946 }],
  ring: { predecessor: null, successor: null },
};
