/**
 * A running peercloud node: identity, TLS transport, gossip (gossip-node.ts), joining, the
 * persisted view, the attribute monitor and the user API, started in that order and stopped in
 * reverse. `NodeRuntime.start(config)` is what `peercloud node start` runs; signal handling is the
 * CLI's (see src/cli/commands/node.ts), so tests can start and stop runtimes in-process.
 */
import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { type ApiServer, createApiServer } from '../../api/server.js';
import type { Clock } from '../../core/clock.js';
import { type Random, SeededRandom } from '../../core/random.js';
import { TlsTransport } from '../../network/tls-transport.js';
import { type Timers, realTimers, type Cancel } from '../attributes-system.js';
import { AttributeMonitor } from '../attributes.js';
import type { Config, HostPort } from '../config.js';
import { IdentityError, type NodeIdentity, loadIdentity } from '../identity.js';
import { loadNodeCertificate } from '../node-certificate.js';
import { type Logger, componentLogger, transportLogger } from '../logger.js';
import { LanDiscovery } from '../discovery/lan-discovery.js';
import { LOCAL_HANDLE } from '../peer-directory.js';
import { authPolicyFromSettings } from '../../auth/policy.js';
import { SliceMembership } from '../../slices/membership.js';
import { loadMembership, saveMembership } from '../../slices/membership-store.js';
import { loadOwnedSlices, saveOwnedSlices } from '../../slices/owned-store.js';
import { shareOf } from '../../slices/share.js';
import { SLICE_REQUEST_TYPE } from '../../slices/messages.js';
import { SliceService } from '../../slices/slice-service.js';
import { SliceApi } from '../../slices/slice-api.js';
import { packageVersion } from '../../core/package-files.js';
import { GossipNode } from './gossip-node.js';
import { CloudSecret } from './cloud-secret.js';
import { type JoinEntry, Joiner } from './joiner.js';
import { loadPeers, savePeers } from './peer-store.js';
import { RuntimeStatus } from './status-source.js';
import { DashboardService } from '../../monitoring/dashboard-service.js';
import { INSPECT_REQUEST_TYPE } from '../../monitoring/snapshot.js';
import { inspectHandler } from '../../monitoring/inspect-service.js';


/** The node cannot start; the message says what to do. */
export class NodeStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NodeStartError';
  }
}

export interface NodeRuntimeOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly timers?: Timers;
  readonly random?: Random;
  /** A known CPU score skips the start-up measurement (tests). */
  readonly cpuScore?: number;
  /** How often the view is written to <dataDir>/peers.json (default: 10 cycles, 2..60 s). */
  readonly persistIntervalMs?: number;
}

const systemClock: Clock = { now: () => Date.now() };

export class NodeRuntime {
  private stopping: Promise<void> | undefined;
  private persistCancel: Cancel | undefined;

  private constructor(
    readonly identity: NodeIdentity,
    readonly config: Config,
    readonly transport: TlsTransport,
    readonly node: GossipNode,
    readonly joiner: Joiner,
    readonly monitor: AttributeMonitor,
    readonly api: ApiServer,
    readonly listen: HostPort,
    readonly advertise: HostPort,
    private readonly log: Logger,
    private readonly timers: Timers,
    private readonly persistIntervalMs: number,
    /** LAN discovery, when enabled. */
    readonly discovery: LanDiscovery | null,
    readonly slices: SliceService,
    readonly dashboard: DashboardService,
  ) {}

  get nodeId(): string {
    return this.identity.nodeId;
  }

  get apiUrl(): string {
    return this.api.url ?? '';
  }

  static async start(config: Config, options: NodeRuntimeOptions): Promise<NodeRuntime> {
    const log = options.logger;
    const clock = options.clock ?? systemClock;
    const timers = options.timers ?? realTimers;
    const random = options.random ?? new SeededRandom(randomBytes(4).readUInt32LE(0));

    let identity: NodeIdentity;
    try {
      identity = await loadIdentity(config.dataDir);
    } catch (err) {
      if (err instanceof IdentityError && err.code === 'MISSING') {
        throw new NodeStartError(`no node identity in ${config.dataDir}: run \`peercloud init --data-dir ${config.dataDir}\` first`, { cause: err });
      }
      throw new NodeStartError(`cannot load the node identity from ${config.dataDir}: ${(err as Error).message}`, { cause: err });
    }

    // The certificate kept in the data directory spares the daemon the X.509 library (node-certificate.ts).
    const certificate = await loadNodeCertificate(config.dataDir, identity, (message) => log.warn(message));
    const transport = await TlsTransport.create(identity, {
      maxFrameBytes: config.limits.maxFrameBytes,
      maxConnections: config.limits.maxConnections,
      idleTimeoutMs: config.limits.idleConnectionMs,
      logger: transportLogger(componentLogger(log, 'transport')),
    }, certificate);
    let listen: HostPort;
    try {
      listen = await transport.listen(config.listen);
    } catch (err) {
      await transport.close();
      throw new NodeStartError(`cannot listen on ${config.listen.host}:${config.listen.port}: ${(err as Error).message}`, { cause: err });
    }
    const advertise = config.advertise ?? listen;

    const cleanups: (() => Promise<unknown>)[] = [() => transport.close()];
    const undo = async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    };
    try {
      const monitor = await AttributeMonitor.start({
        dataDir: config.dataDir,
        labels: config.labels,
        refreshIntervalMs: config.attributes.refreshIntervalMs,
        cpuScore: options.cpuScore,
        clock,
        onError: (message, error) => log.warn({ component: 'attributes', error: error instanceof Error ? error.message : error }, message),
      });
      cleanups.push(() => monitor.close());

      // The slice service is built on the gossip node; the node asks it for its ring group.
      let ringGroup: () => number = () => 0;
      let ownedSlices: () => number = () => 0;
      const node = new GossipNode({
        identity,
        transport,
        advertise,
        peerSampling: config.peerSampling,
        epochLength: config.aggregation.epochLength,
        cyclePeriodMs: config.cyclePeriodMs,
        cycleJitter: config.cycleJitter,
        // The slices this node coordinates are aggregated too (their sum: the slices of the cloud).
        inputs: () => ({ ...monitor.current(), ownedSlices: ownedSlices() }),
        capacity: () => monitor.current().cores * monitor.current().cpuScore,
        ringGroup: () => ringGroup(),
        ...(config.cloud.joinSecret !== '' ? { cloudSecret: new CloudSecret(config.cloud.joinSecret) } : {}),
        clock,
        timers,
        random,
        logger: componentLogger(log, 'gossip'),
      });

      const persisted = await loadPeers(config.dataDir, (message) => log.warn(message));
      const targets: JoinEntry[] = [...config.join];
      for (const p of persisted) if (!targets.some((t) => t.nodeId === p.nodeId)) targets.push(p);
      if (targets.length === 0) {
        // Nobody to join: this node founds a cloud, so it starts the first aggregation epoch now
        // (leading a COUNT instance) instead of after an epoch length of silence. Nodes that join
        // take part from the next epoch, so a fresh cloud knows its size after two epochs.
        node.protocols.aggregation.beginFirstEpoch(LOCAL_HANDLE, true);
      }
      const joiner = new Joiner({
        node,
        transport,
        trustOnFirstUse: config.joinTrustOnFirstUse,
        targets,
        retryIntervalMs: config.joinRetryIntervalMs,
        timers,
        logger: componentLogger(log, 'join'),
        timeoutMs: Math.max(1_000, config.cyclePeriodMs * 5),
      });

      const slices = startSlices(config, identity.nodeId, advertise, node, transport, monitor, clock, timers, log);
      ringGroup = () => slices.agent.membership().state === 'member' ? (slices.agent.membership() as { slice: { group: number } }).slice.group : 0;
      ownedSlices = () => slices.owner.slices.size;
      cleanups.push(async () => slices.stop());

      let discovery: LanDiscovery | null = null;
      if (config.discovery.multicast) {
        discovery = new LanDiscovery({
          self: { nodeId: identity.nodeId, host: advertise.host, port: advertise.port },
          group: config.discovery.multicastGroup.host,
          port: config.discovery.multicastGroup.port,
          intervalMs: config.discovery.intervalMs,
          // Announce on the interface we advertise: a node on 127.0.0.1 finds the nodes of this
          // machine (cluster up), one on a LAN address the nodes of that LAN.
          ...(isIPv4(advertise.host) ? { interfaceAddress: advertise.host } : {}),
          random,
          timers,
          clock,
          logger: componentLogger(log, 'discovery'),
          onPeer: (peer) => joiner.suggest(peer),
        });
        const started = discovery;
        try {
          await started.start();
        } catch (err) {
          throw new NodeStartError(`cannot start LAN discovery on ${config.discovery.multicastGroup.host}:${config.discovery.multicastGroup.port}: ${(err as Error).message}`, { cause: err });
        }
        cleanups.push(() => started.stop());
      }

      let apiAddress: HostPort | undefined;
      const status = new RuntimeStatus({
        node,
        transport,
        monitor,
        clock,
        name: config.name,
        version: packageVersion(),
        startedAt: clock.now(),
        labels: config.labels,
        samplingProtocol: config.peerSampling.protocol,
        slices: config.slicing.slices,
        addresses: () => ({ listen, advertise, api: apiAddress ?? config.api }),
      });
      const sliceApi = new SliceApi(slices, identity.nodeId, () => node.ringNeighbours());
      // What dashboards see: this node's snapshot (also answered to other nodes' crawls), the
      // overlay crawled from here, and the history of the aggregates.
      const dashboard = new DashboardService({
        status,
        membership: () => sliceApi.membership(),
        inspect: (target) => node.request(target, INSPECT_REQUEST_TYPE, new Uint8Array(0), { timeoutMs: 2_000 }),
        now: () => clock.now(),
        timers,
        historySampleMs: Math.max(1_000, config.cyclePeriodMs),
        onError: (err, what) => log.warn({ component: 'dashboard', error: err instanceof Error ? err.message : String(err) }, `dashboard ${what} failed`),
      });
      node.serve(INSPECT_REQUEST_TYPE, inspectHandler(() => dashboard.snapshot()));
      dashboard.start();
      cleanups.push(async () => dashboard.stop());
      const api = await createApiServer(status, {
        host: config.api.host,
        port: config.api.port,
        logger: log,
        bodyLimit: config.limits.apiMaxBodyBytes,
        slices: { api: sliceApi, policy: authPolicyFromSettings(config.auth) },
        dashboard: { source: dashboard },
      });
      try {
        apiAddress = await api.listen();
      } catch (err) {
        await api.close().catch(() => undefined);
        throw new NodeStartError(`cannot listen for the API on ${config.api.host}:${config.api.port}: ${(err as Error).message}`, { cause: err });
      }
      cleanups.push(() => api.close());

      const persistIntervalMs = options.persistIntervalMs ?? Math.min(60_000, Math.max(2_000, 10 * config.cyclePeriodMs));
      const runtime = new NodeRuntime(identity, config, transport, node, joiner, monitor, api, listen, advertise, log, timers, persistIntervalMs, discovery, slices, dashboard);
      node.start();
      joiner.start();
      runtime.schedulePersist();
      log.info(
        { nodeId: identity.nodeId, listen: `${listen.host}:${listen.port}`, advertise: `${advertise.host}:${advertise.port}`, api: api.url, join: targets.length },
        'node started',
      );
      return runtime;
    } catch (err) {
      await undo();
      throw err;
    }
  }

  /** Writes the current view to <dataDir>/peers.json (failures are logged). */
  async persistView(): Promise<void> {
    const view = this.node.view();
    if (view.length === 0) return;
    try {
      await savePeers(
        this.config.dataDir,
        view.map((p) => ({ nodeId: p.nodeId, host: p.address.host, port: p.address.port })),
      );
    } catch (err) {
      this.log.warn({ error: (err as Error).message }, 'cannot save the view');
    }
  }

  private schedulePersist(): void {
    this.persistCancel = this.timers.schedule(() => {
      if (this.stopping) return;
      void this.persistView().finally(() => {
        if (!this.stopping) this.schedulePersist();
      });
    }, this.persistIntervalMs);
  }

  /** Graceful shutdown: API, timers, joining, gossip, view saved, transport, monitor. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('node stopping');
      this.persistCancel?.();
      await this.api.close().catch((err: unknown) => this.log.warn({ err }, 'closing the API failed'));
      await this.discovery?.stop().catch((err: unknown) => this.log.warn({ err }, 'stopping LAN discovery failed'));
      this.slices.stop();
      this.dashboard.stop();
      await this.joiner.stop();
      // Stop the cycles first; exchanges in flight end when the transport closes (CLOSED).
      const gossipStopped = this.node.stop();
      await this.persistView();
      await this.transport.close().catch((err: unknown) => this.log.warn({ err }, 'closing the transport failed'));
      await gossipStopped;
      await this.monitor.close().catch((err: unknown) => this.log.warn({ err }, 'closing the attribute monitor failed'));
      this.log.info('node stopped');
    })();
    return this.stopping;
  }
}

/**
 * The slice service of a daemon: membership persisted in the data directory, calls and offers over
 * the transport (request type SLICE_REQUEST_TYPE), candidates from the peer sampling view, the rank
 * from the slicing service, the policy from the config.
 */
function startSlices(
  config: Config,
  nodeId: string,
  advertise: HostPort,
  node: GossipNode,
  transport: TlsTransport,
  monitor: AttributeMonitor,
  clock: Clock,
  timers: Timers,
  log: Logger,
): SliceService {
  const slicesLog = componentLogger(log, 'slices');
  const warn = (message: string) => slicesLog.warn(message);
  const membership = new SliceMembership(() => clock.now(), loadMembership(config.dataDir, warn), (m) => saveMembership(config.dataDir, m, warn));
  const policy = authPolicyFromSettings(config.auth);
  const service = new SliceService({
    self: { nodeId, host: advertise.host, port: advertise.port },
    membership,
    // Slice queries see the share of the machine a slice may use (slices.maxShare).
    attributes: () => shareOf(monitor.current(), config.slices.maxShare),
    rank: () => node.protocols.ranking.estimatedRank(LOCAL_HANDLE),
    policy: () => policy,
    now: () => clock.now(),
    timers,
    randomPeers: (k) => node.randomPeers(k).map((e) => ({ nodeId: e.nodeId, host: e.address.host, port: e.address.port })),
    networkSize: () => {
      const a = node.protocols.aggregation;
      const published = a.publishedCount(LOCAL_HANDLE);
      return Number.isFinite(published) ? published : a.knownSize(LOCAL_HANDLE);
    },
    request: (to, bytes) => node.request(to, SLICE_REQUEST_TYPE, bytes, { timeoutMs: 5_000 }),
    logger: slicesLog,
    leaseMs: config.slices.leaseMs,
    // The slices this node coordinates survive its restart (owned-store.ts).
    persist: (slices) => saveOwnedSlices(config.dataDir, slices, warn),
    ring: () => node.ringNeighbours(),
    onMembers: (slice, members) => {
      void node.joinRing(slice.group, members).catch((err: unknown) => slicesLog.warn({ error: (err as Error).message }, 'cannot seed the slice ring'));
    },
  });
  node.serve(SLICE_REQUEST_TYPE, (from, payload) => service.handle(from.nodeId, payload));
  service.owner.restore(loadOwnedSlices(config.dataDir, warn));
  service.start();
  return service;
}
