/**
 * The API's view of a running node (NodeStatusSource): identity and attributes, the peer sampling
 * view, the published network aggregates, transport counters and readiness checks.
 */
import type { HealthCheck, NetworkAggregates, NodeInfo, PeerView } from '../../api/schemas.js';
import type { NodeStatusSource } from '../../api/source.js';
import type { Clock } from '../../core/clock.js';
import type { Transport, TransportStats } from '../../network/transport.js';
import type { AttributeMonitor } from '../attributes.js';
import type { HostPort, Labels, PeerSamplingProtocol } from '../config.js';
import { LOCAL_HANDLE } from '../peer-directory.js';
import type { GossipNode } from './gossip-node.js';
import { AGGREGATED } from './gossip-protocols.js';

export interface RuntimeStatusOptions {
  readonly node: GossipNode;
  readonly transport: Transport;
  readonly monitor: AttributeMonitor;
  readonly clock: Clock;
  readonly name: string;
  readonly version: string;
  readonly startedAt: number;
  readonly labels: Labels;
  readonly samplingProtocol: PeerSamplingProtocol;
  readonly slices: number;
  readonly addresses: () => { listen: HostPort; advertise: HostPort | null; api: HostPort };
}

/** NaN (nothing known yet) and infinities become null, as the API schema wants. */
function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function nonNegative(value: number): number | null {
  const v = finite(value);
  return v === null ? null : Math.max(0, v);
}

export class RuntimeStatus implements NodeStatusSource {
  constructor(private readonly o: RuntimeStatusOptions) {}

  nodeInfo(): NodeInfo {
    const now = this.o.clock.now();
    const a = this.o.monitor.current();
    return {
      id: this.o.node.nodeId,
      name: this.o.name,
      version: this.o.version,
      startedAt: this.o.startedAt,
      uptimeMs: Math.max(0, now - this.o.startedAt),
      addresses: this.o.addresses(),
      attributes: {
        cores: a.cores,
        cpuScore: a.cpuScore,
        memoryTotalBytes: a.memoryTotalBytes,
        memoryFreeBytes: a.memoryFreeBytes,
        diskTotalBytes: a.diskTotalBytes,
        diskFreeBytes: a.diskFreeBytes,
        loadAverage: a.loadAverage,
        freeCores: a.freeCores,
        uptimeMs: a.uptimeMs,
        availability: { day: a.availability.day, week: a.availability.week, trackedMs: a.availability.trackedMs },
        labels: { ...a.labels },
        measuredAt: a.measuredAt,
      },
      labels: { ...this.o.labels },
    };
  }

  peers(): PeerView {
    const view = this.o.node.view();
    return {
      protocol: this.o.samplingProtocol,
      viewSize: this.o.node.protocols.sampling.config.viewSize,
      count: view.length,
      peers: view.map((p) => ({ id: p.nodeId, address: { host: p.address.host, port: p.address.port }, age: p.age })),
      computedAt: this.o.clock.now(),
    };
  }

  network(): NetworkAggregates {
    const node = this.o.node;
    const a = node.protocols.aggregation;
    const est = (attribute: string, kind: 'average' | 'sum') => nonNegative(a.publishedEstimate(LOCAL_HANDLE, attribute, kind));
    const epoch = a.epochOf(LOCAL_HANDLE);
    return {
      computedAt: a.publishedEpochOf(LOCAL_HANDLE) >= 0 ? node.publishedAt : null,
      epoch: {
        current: epoch >= 0 ? epoch : null,
        lengthCycles: a.epochLength,
        cycle: Math.max(0, a.stepOf(LOCAL_HANDLE)),
        startedAt: epoch >= 0 ? node.epochStartedAt : null,
      },
      // Until its first epoch ends, a newcomer shows the size its peers told it (the protocol's
      // known size, learned for the leader election) rather than nothing.
      size: { estimate: nonNegative(Number.isFinite(a.publishedCount(LOCAL_HANDLE)) ? a.publishedCount(LOCAL_HANDLE) : a.knownSize(LOCAL_HANDLE)) },
      cores: { averageFree: est(AGGREGATED.cores, 'average'), totalFree: est(AGGREGATED.cores, 'sum') },
      memory: { averageFree: est(AGGREGATED.memory, 'average'), totalFree: est(AGGREGATED.memory, 'sum') },
      disk: { averageFree: est(AGGREGATED.disk, 'average'), totalFree: est(AGGREGATED.disk, 'sum') },
      load: { average: est(AGGREGATED.load, 'average') },
      // Slices (issue 4) in the cloud: each owner counts its own, aggregation sums them (the
      // counts are read when an epoch starts, so a new slice shows within two epochs).
      userSlices: { total: est(AGGREGATED.slices, 'sum') },
      // Which of `slices` equal slices by CPU capacity this node is in (0 = lowest), from its rank
      // estimate; null until it has sampled anyone.
      slices: { count: this.o.slices, mine: node.protocols.ranking.sampleCount(LOCAL_HANDLE) > 0 ? node.protocols.ranking.slice(LOCAL_HANDLE, this.o.slices) : null },
    };
  }

  transportStats(): TransportStats {
    return this.o.transport.stats();
  }

  health(): HealthCheck[] {
    const view = this.o.node.viewSize();
    const { listen } = this.o.addresses();
    return [
      { name: 'transport', ok: true, detail: `listening on ${listen.host}:${listen.port}` },
      { name: 'view', ok: view > 0, detail: `${view} peers` },
    ];
  }
}
