/**
 * A cloud of real GossipNodes (the daemon's gossip glue, real Ed25519 identities, signed
 * descriptors, the wire codec) over one SimulatedNetwork, for the integration tests.
 */
import type { PeerAddress } from '../../../src/network/transport.js';
import { type Logger, silentLogger } from '../../../src/node/logger.js';
import { LOCAL_HANDLE } from '../../../src/node/peer-directory.js';
import { GossipNode } from '../../../src/node/runtime/gossip-node.js';
import { Joiner } from '../../../src/node/runtime/joiner.js';
import type { NetworkModel } from '../../../src/simulator/network.js';
import { seededIdentity } from '../../../src/simulator/transport/seeded-identity.js';
import { type CrashMode, SimulatedNetwork } from '../../../src/simulator/transport/simulated-network.js';
import type { SimulatedTransport } from '../../../src/simulator/transport/simulated-transport.js';

export interface ClusterOptions {
  readonly seed: number | string;
  readonly size: number;
  readonly viewSize: number;
  readonly epochLength: number;
  readonly cyclePeriodMs?: number;
  readonly model?: NetworkModel;
  /** Default: silent. */
  readonly logger?: Logger;
}

export interface ClusterMember {
  readonly index: number;
  readonly node: GossipNode;
  readonly transport: SimulatedTransport;
  readonly address: PeerAddress;
  joiner: Joiner | undefined;
  alive: boolean;
}

export class GossipCluster {
  readonly members: ClusterMember[] = [];
  readonly cyclePeriodMs: number;

  private constructor(
    readonly net: SimulatedNetwork,
    cyclePeriodMs: number,
  ) {
    this.cyclePeriodMs = cyclePeriodMs;
  }

  /** Starts `size` nodes at 10.0.x.y:7946, none knowing any other yet. */
  static async start(options: ClusterOptions): Promise<GossipCluster> {
    const net = new SimulatedNetwork({ seed: options.seed, model: options.model });
    const cluster = new GossipCluster(net, options.cyclePeriodMs ?? 1_000);
    const logger = options.logger ?? silentLogger();
    for (let i = 0; i < options.size; i++) {
      const random = net.forkRandom();
      const identity = seededIdentity(random);
      const transport = net.createTransport(identity);
      const bound = await transport.listen({ host: `10.0.${i >> 8}.${(i & 255) + 1}`, port: 7946 });
      const node = new GossipNode({
        identity,
        transport,
        advertise: bound,
        peerSampling: { protocol: 'newscast', viewSize: options.viewSize, shuffleLength: Math.min(8, options.viewSize) },
        epochLength: options.epochLength,
        cyclePeriodMs: cluster.cyclePeriodMs,
        cycleJitter: 0.1,
        inputs: () => ({ freeCores: 1 + (i % 4), memoryFreeBytes: 1 << 30, diskFreeBytes: 1 << 34, loadAverage: 0.5 }),
        clock: net.clock,
        timers: transport.timers,
        random,
        logger,
      });
      node.start();
      cluster.members.push({ index: i, node, transport, address: { nodeId: identity.nodeId, ...bound }, joiner: undefined, alive: true });
    }
    return cluster;
  }

  /**
   * Every other node joins through member `seed` with the daemon's Joiner: a hello now, and again
   * every `retryCycles` while its view is empty (a lost message, or later isolation). Runs the
   * network until every node's view holds someone, for at most `limitCycles`.
   */
  async joinThrough(seed: number, retryCycles = 3, limitCycles = 30): Promise<void> {
    const target = this.members[seed].address;
    const logger = silentLogger();
    for (const m of this.members) {
      if (m.index === seed) continue;
      m.joiner = new Joiner({
        node: m.node,
        transport: m.transport,
        trustOnFirstUse: false,
        targets: [target],
        retryIntervalMs: retryCycles * this.cyclePeriodMs,
        timers: m.transport.timers,
        logger,
        timeoutMs: 5 * this.cyclePeriodMs,
      });
      m.joiner.start();
    }
    for (let cycle = 0; cycle < limitCycles && this.members.some((m) => m.node.viewSize() === 0); cycle++) await this.runCycles(1);
    const alone = this.members.filter((m) => m.node.viewSize() === 0).length;
    if (alone > 0) throw new Error(`${alone} nodes still know nobody after ${limitCycles} cycles of joining through node ${seed}`);
  }

  async runCycles(cycles: number): Promise<void> {
    await this.net.runFor(cycles * this.cyclePeriodMs);
  }

  live(): ClusterMember[] {
    return this.members.filter((m) => m.alive);
  }

  crash(members: readonly ClusterMember[], mode: CrashMode = 'refuse'): void {
    for (const m of members) {
      this.net.crash(m.address.nodeId, mode);
      m.alive = false;
    }
  }

  /** The network size estimate each live node publishes (NaN before its first epoch ends). */
  estimates(): number[] {
    return this.live().map((m) => m.node.protocols.aggregation.publishedCount(LOCAL_HANDLE));
  }

  /**
   * Whether the live nodes' views, as a directed graph, are strongly connected: every live node
   * can reach every other by following view entries (entries to dead nodes ignored).
   */
  stronglyConnected(): boolean {
    const live = this.live();
    const index = new Map(live.map((m, i) => [m.address.nodeId, i]));
    const out: number[][] = live.map(() => []);
    const into: number[][] = live.map(() => []);
    live.forEach((m, i) => {
      for (const entry of m.node.view()) {
        const j = index.get(entry.nodeId);
        if (j === undefined) continue;
        out[i].push(j);
        into[j].push(i);
      }
    });
    return reachesAll(out) && reachesAll(into);
  }

  /** Everything observable about the run, for comparing two runs. */
  fingerprint(): string {
    return JSON.stringify({
      now: this.net.now(),
      events: this.net.scheduler.eventsRun,
      network: this.net.counters,
      nodes: this.members.map((m) => ({
        id: m.address.nodeId,
        alive: m.alive,
        view: m.node.view().map((e) => `${e.nodeId}/${e.age}`),
        estimate: m.node.protocols.aggregation.publishedCount(LOCAL_HANDLE),
        epoch: m.node.protocols.aggregation.epochOf(LOCAL_HANDLE),
        gossip: m.node.stats,
        transport: m.transport.stats(),
      })),
    });
  }

  async stop(): Promise<void> {
    const live = this.live();
    const stopped = Promise.all(live.flatMap((m) => [m.node.stop(), m.joiner?.stop()]));
    await Promise.all(live.map((m) => m.transport.close()));
    await this.net.settle(stopped);
  }
}

function reachesAll(edges: number[][]): boolean {
  if (edges.length === 0) return true;
  const seen = new Uint8Array(edges.length);
  const stack = [0];
  seen[0] = 1;
  let count = 1;
  while (stack.length > 0) {
    for (const j of edges[stack.pop()!]) {
      if (seen[j]) continue;
      seen[j] = 1;
      count++;
      stack.push(j);
    }
  }
  return count === edges.length;
}
