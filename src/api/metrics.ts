/**
 * Prometheus metrics of one node (prom-client), read from the NodeStatusSource at scrape time, so
 * they cost nothing between scrapes and are never stale.
 *
 * prom-client itself is loaded by the first scrape, not when the server starts: most daemons are
 * never scraped, and the library with its process-metric collectors costs a running node ~2 MiB of
 * resident memory (measured). The process metrics (CPU, memory, event-loop lag, GC) therefore start
 * with the first scrape: the counters that come from the OS (CPU seconds, start time) are whole
 * anyway; the event-loop and GC histograms count from that scrape on.
 *
 * Each server has its own Registry (several nodes may run in one test process). Aggregates the node
 * does not know yet are left out of the scrape rather than reported as 0: a network size of 0 would
 * read as a real value on a dashboard, a missing series reads as "no data".
 */
import type { Counter as PromCounter, Gauge as PromGauge, Registry } from 'prom-client';
import type { TransportStats } from '../network/transport.js';
import type { NetworkAggregates, NodeInfo, PeerView } from './schemas.js';
import type { NodeStatusSource } from './source.js';

/** One scrape's data: each source method is called once per scrape, whatever the gauge count. */
interface Scrape {
  node: NodeInfo | null;
  peers: PeerView | null;
  network: NetworkAggregates | null;
  transport: TransportStats | null;
}

type Read = (scrape: Scrape) => number | null | undefined;

export interface ApiMetrics {
  /** The whole exposition, reading the source once, and its media type. */
  render(): Promise<{ readonly text: string; readonly contentType: string }>;
}

const NETWORK_GAUGES: ReadonlyArray<[string, string, Read]> = [
  ['peercloud_network_size_estimate', 'Estimated number of nodes in the network.', (s) => s.network?.size.estimate],
  ['peercloud_network_free_cores_average', 'Average free cores per node.', (s) => s.network?.cores.averageFree],
  ['peercloud_network_free_cores_total', 'Total free cores in the network.', (s) => s.network?.cores.totalFree],
  ['peercloud_network_free_memory_bytes_average', 'Average free memory per node, bytes.', (s) => s.network?.memory.averageFree],
  ['peercloud_network_free_memory_bytes_total', 'Total free memory in the network, bytes.', (s) => s.network?.memory.totalFree],
  ['peercloud_network_free_disk_bytes_average', 'Average free disk per node, bytes.', (s) => s.network?.disk.averageFree],
  ['peercloud_network_free_disk_bytes_total', 'Total free disk in the network, bytes.', (s) => s.network?.disk.totalFree],
  ['peercloud_network_load_average', 'Average 1-minute load per node.', (s) => s.network?.load.average],
  ['peercloud_network_slices', 'Number of slices.', (s) => s.network?.slices.count],
  ['peercloud_node_slice', 'Slice this node believes it is in (0 = lowest).', (s) => s.network?.slices.mine],
  ['peercloud_aggregation_epoch', 'Number of the running aggregation epoch.', (s) => s.network?.epoch.current],
  ['peercloud_aggregation_epoch_length_cycles', 'Length of an aggregation epoch, cycles.', (s) => s.network?.epoch.lengthCycles],
  ['peercloud_aggregation_last_epoch_timestamp_seconds', 'When the last aggregation epoch completed, Unix seconds.', (s) => secondsOrNull(s.network?.computedAt)],
  ['peercloud_view_peers', 'Peers in the peer sampling view.', (s) => s.peers?.count],
  ['peercloud_view_size', 'Capacity of the peer sampling view.', (s) => s.peers?.viewSize],
  ['peercloud_node_cores', 'Logical CPUs of this node.', (s) => s.node?.attributes.cores],
  ['peercloud_node_cpu_score', 'Single-core CPU score of this node (~1000 on the reference machine).', (s) => s.node?.attributes.cpuScore],
  ['peercloud_node_free_cores', 'Free cores of this node (cores - load).', (s) => s.node?.attributes.freeCores],
  ['peercloud_node_memory_free_bytes', 'Free memory of this node, bytes.', (s) => s.node?.attributes.memoryFreeBytes],
  ['peercloud_node_disk_free_bytes', 'Free disk in the data directory, bytes.', (s) => s.node?.attributes.diskFreeBytes],
  ['peercloud_node_availability_day_ratio', 'Fraction of the last 24 h this node was up.', (s) => s.node?.attributes.availability.day],
  ['peercloud_node_availability_week_ratio', 'Fraction of the last 7 days this node was up.', (s) => s.node?.attributes.availability.week],
  ['peercloud_node_uptime_seconds', 'Seconds since this daemon started.', (s) => secondsOrNull(s.node?.uptimeMs)],
  ['peercloud_transport_connections_open', 'Node-to-node message connections open.', (s) => s.transport?.connectionsOpen],
  ['peercloud_transport_streams_open', 'Bulk streams open.', (s) => s.transport?.streamsOpen],
];

const TRANSPORT_COUNTERS: ReadonlyArray<[string, string, keyof TransportStats]> = [
  ['peercloud_transport_connections_accepted_total', 'Inbound connections accepted.', 'connectionsAccepted'],
  ['peercloud_transport_connections_dialled_total', 'Outbound connections made.', 'connectionsDialled'],
  ['peercloud_transport_connections_rejected_total', 'Connections closed at or before authentication.', 'connectionsRejected'],
  ['peercloud_transport_frames_rejected_total', 'Frames that made the node close a connection.', 'framesRejected'],
  ['peercloud_transport_frames_in_total', 'Frames received.', 'framesIn'],
  ['peercloud_transport_frames_out_total', 'Frames sent.', 'framesOut'],
  ['peercloud_transport_bytes_in_total', 'Payload bytes received.', 'bytesIn'],
  ['peercloud_transport_bytes_out_total', 'Payload bytes sent.', 'bytesOut'],
  ['peercloud_transport_requests_sent_total', 'Requests sent to peers.', 'requestsSent'],
  ['peercloud_transport_requests_failed_total', 'Requests sent that failed.', 'requestsFailed'],
  ['peercloud_transport_requests_handled_total', 'Requests from peers handled.', 'requestsHandled'],
];

/** Runs a source method, turning a synchronous throw into a rejection. */
async function call<T>(method: () => T | Promise<T>): Promise<T> {
  return method();
}

function secondsOrNull(ms: number | null | undefined): number | null {
  return ms === null || ms === undefined ? null : ms / 1000;
}

/**
 * A registry holding every metric, its gauges and counters reading `current()` at scrape time.
 * Built once, by the first scrape (see the module comment).
 */
async function createRegistry(current: () => Scrape, processMetrics: boolean): Promise<Registry> {
  // prom-client is CommonJS: take its exports object (`default`), which is also all the bundled
  // CLI's chunk for it exports (scripts/build-cli.mjs), rather than Node's guessed named exports.
  const { Counter, Gauge, Registry, collectDefaultMetrics } = (await import('prom-client')).default;

  /**
   * A gauge whose value is read at scrape time and which has no sample when unknown. (prom-client's
   * unlabelled gauges always print a value, 0 by default, and print NaN as "Nan", which Prometheus
   * rejects.)
   */
  class ReadGauge extends Gauge {
    constructor(
      config: { name: string; help: string; registers: Registry[] },
      private readonly read: () => number | null | undefined,
    ) {
      super(config);
    }
    override async get(): ReturnType<PromGauge['get']> {
      const value = this.read();
      if (value === null || value === undefined || !Number.isFinite(value)) {
        const metric = await super.get();
        return { ...metric, values: [] };
      }
      this.set(value);
      return super.get();
    }
  }

  /** A counter mirroring a total kept elsewhere (the transport's), with no sample when unknown. */
  class ReadCounter extends Counter {
    constructor(
      config: { name: string; help: string; registers: Registry[] },
      private readonly read: () => number | null | undefined,
    ) {
      super(config);
    }
    override async get(): ReturnType<PromCounter['get']> {
      const value = this.read();
      this.reset();
      if (value === null || value === undefined || !Number.isFinite(value) || value < 0) {
        const metric = await super.get();
        return { ...metric, values: [] };
      }
      this.inc(value);
      return super.get();
    }
  }

  const registry = new Registry();
  for (const [name, help, read] of NETWORK_GAUGES) {
    new ReadGauge({ name, help, registers: [registry] }, () => read(current()));
  }
  for (const [name, help, key] of TRANSPORT_COUNTERS) {
    new ReadCounter({ name, help, registers: [registry] }, () => current().transport?.[key]);
  }
  // Process metrics (CPU, RSS, heap, event loop lag, GC) with the same prefix.
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'peercloud_' });
  return registry;
}

export function createApiMetrics(source: NodeStatusSource, options: { processMetrics?: boolean } = {}): ApiMetrics {
  let scrape: Scrape = { node: null, peers: null, network: null, transport: null };
  let registry: Promise<Registry> | undefined;
  let queue: Promise<void> = Promise.resolve();

  return {
    render() {
      // Scrapes run one at a time, since the gauges read the shared `scrape` while rendering.
      const run = queue.then(async () => {
        registry ??= createRegistry(() => scrape, options.processMetrics ?? true);
        const metrics = await registry;
        // Read everything first; a failing part leaves its metrics out instead of failing the scrape.
        const [node, peers, network, transport] = await Promise.allSettled([
          call(() => source.nodeInfo()),
          call(() => source.peers()),
          call(() => source.network()),
          call(() => source.transportStats()),
        ]);
        scrape = {
          node: node.status === 'fulfilled' ? node.value : null,
          peers: peers.status === 'fulfilled' ? peers.value : null,
          network: network.status === 'fulfilled' ? network.value : null,
          transport: transport.status === 'fulfilled' ? transport.value : null,
        };
        return { text: await metrics.metrics(), contentType: metrics.contentType };
      });
      queue = run.then(
        () => undefined,
        () => undefined,
      );
      return run;
    },
  };
}
