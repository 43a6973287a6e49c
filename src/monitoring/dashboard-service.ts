/**
 * The daemon side of the dashboard: this node's snapshot (answered to inspections and used as the
 * crawl's start), the overlay crawler, and the aggregate history sampled on a timer. Built from
 * the node's status source and slice membership, so it needs nothing of the runtime's internals.
 */
import type { DashboardSource } from '../api/dashboard-routes.js';
import type { NetworkAggregates, NodeInfo, PeerView } from '../api/schemas.js';
import { AggregateHistory } from './aggregate-history.js';
import { type CrawlTarget, OverlayCrawler } from './overlay-crawler.js';
import { type NodeSnapshot, MAX_VIEW_ENTRIES, SnapshotError, decodeSnapshot } from './snapshot.js';

export interface DashboardServiceOptions {
  readonly status: { nodeInfo(): NodeInfo; peers(): PeerView; network(): NetworkAggregates };
  readonly membership: () => {
    readonly slice: { readonly name: string; readonly sliceId: string; readonly ownerNode: string; readonly ownerUser: string } | null;
    readonly ring: { readonly predecessor: string | null; readonly successor: string | null };
  };
  /** Sends an inspect request (empty body) to a node and resolves with its answer's bytes. */
  readonly inspect: (target: CrawlTarget) => Promise<Uint8Array>;
  /** Whether to tell other nodes' dashboards where this node's API is (default: only if on loopback). */
  readonly shareApiAddress?: boolean;
  readonly now: () => number;
  readonly timers: { schedule(fn: () => void, ms: number): () => void };
  readonly historySampleMs: number;
  readonly crawlIntervalMs?: number;
  /** Told about a history sample or a crawl round that failed (both go on); e.g. to log it. */
  readonly onError?: (err: unknown, what: 'history sample' | 'crawl round') => void;
}

export class DashboardService implements DashboardSource {
  readonly samples: AggregateHistory;
  readonly crawler: OverlayCrawler;
  private cancelSample: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly o: DashboardServiceOptions) {
    this.samples = new AggregateHistory(900, o.historySampleMs);
    this.crawler = new OverlayCrawler({
      self: () => this.snapshot(),
      inspect: async (target) => {
        const s = decodeSnapshot(await o.inspect(target));
        // The transport pinned the key of target.nodeId: a node answering for another id lies.
        if (s.id !== target.nodeId) throw new SnapshotError(`node ${target.nodeId} answered with the snapshot of ${s.id}`);
        return s;
      },
      now: o.now,
      timers: o.timers,
      intervalMs: o.crawlIntervalMs,
      onError: (err) => o.onError?.(err, 'crawl round'),
    });
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      // A status that throws once must cost one sample, not the history (nor, from a timer, the daemon).
      try {
        this.sample();
      } catch (err) {
        this.o.onError?.(err, 'history sample');
      }
      this.cancelSample = this.o.timers.schedule(tick, this.o.historySampleMs);
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    this.cancelSample?.();
    this.crawler.stop();
  }

  nodeId(): string {
    return this.o.status.nodeInfo().id;
  }

  overlay() {
    return this.crawler.report();
  }

  history(since?: number) {
    return this.samples.report(since);
  }

  /** What this node tells dashboards about itself. */
  snapshot(): NodeSnapshot {
    const info = this.o.status.nodeInfo();
    const net = this.o.status.network();
    const view = this.o.status.peers().peers.slice(0, MAX_VIEW_ENTRIES);
    const m = this.o.membership();
    const a = info.attributes;
    // The numeric attributes as they are; the rest (labels, availability history, times) differs.
    const { availability: _availability, labels: _labels, uptimeMs: _uptime, measuredAt: _measuredAt, ...numbers } = a;
    const api = info.addresses.api;
    const share = this.o.shareApiAddress ?? (api.host === '127.0.0.1' || api.host === '::1');
    return {
      v: 1,
      id: info.id,
      name: info.name.slice(0, 64),
      version: info.version.slice(0, 32),
      address: info.addresses.advertise ?? info.addresses.listen,
      api: share ? api : null,
      uptimeMs: info.uptimeMs,
      attributes: { ...numbers, availabilityDay: a.availability.day, availabilityWeek: a.availability.week },
      labels: Object.fromEntries(Object.entries(info.labels).slice(0, 32)),
      view: view.map((p) => ({ id: p.id, host: p.address.host, port: p.address.port })),
      slice: m.slice && { sliceId: m.slice.sliceId, name: m.slice.name, ownerNode: m.slice.ownerNode, ownerUser: m.slice.ownerUser },
      ring: { predecessor: m.ring.predecessor, successor: m.ring.successor },
      network: estimates(net),
      takenAt: this.o.now(),
    };
  }

  private sample(): void {
    const net = this.o.status.network();
    const a = this.o.status.nodeInfo().attributes;
    this.samples.add(this.o.now(), {
      ...estimates(net),
      nodeLoad: a.loadAverage,
      nodeFreeCores: a.freeCores,
    });
  }
}

/** The network-wide estimates a snapshot and a history sample both carry. */
function estimates(net: NetworkAggregates) {
  return {
    size: net.size.estimate,
    averageFreeCores: net.cores.averageFree,
    totalFreeCores: net.cores.totalFree,
    totalFreeMemoryBytes: net.memory.totalFree,
    totalFreeDiskBytes: net.disk.totalFree,
    averageLoad: net.load.average,
  };
}
