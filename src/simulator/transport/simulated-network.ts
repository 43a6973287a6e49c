/**
 * A deterministic network for daemon code: many `SimulatedTransport`s (one per simulated node) in
 * one process, on one virtual clock, with latency and loss from the simulator's network model
 * (../network.ts), crashes and partitions. Everything random is drawn from one seed, and events
 * run in (virtual time, insertion) order with microtasks drained between them (see
 * virtual-scheduler.ts), so a run is reproducible bit for bit from its seed.
 *
 * What a message meets on its way, decided when it arrives (it was "on the wire" until then):
 * - loss: requests and responses are lost with the model's probabilities (the caller then times
 *   out); connection set-up, close notices and stream data are never lost (TCP retransmits them);
 * - partitions: anything between nodes in different groups is dropped, set-up included;
 * - the receiver: a live node takes it; a node that crashed with mode 'refuse' (a killed process
 *   on a live host) answers with a reset; one that crashed with mode 'silent' (host down, cable
 *   cut) answers nothing, so its callers time out.
 * Messages of one connection arrive in the order they were sent (latency jitter only reorders
 * messages of different connections), as over TCP.
 */
import type { Clock } from '../../core/clock.js';
import { SeededRandom } from '../../core/random.js';
import type { Timers } from '../../node/attributes-system.js';
import type { NodeIdentity } from '../../node/identity.js';
import type { NetworkAddress } from '../../network/transport.js';
import { type NetworkModel, sampleLatency, validateNetwork } from '../network.js';
import { SimulatedTransport, type SimulatedTransportOptions } from './simulated-transport.js';
import { VirtualScheduler } from './virtual-scheduler.js';

export interface SimulatedNetworkOptions {
  readonly seed: number | string;
  /** Latency and loss; default: one-way latency uniform in 5..50 ms, no loss. */
  readonly model?: NetworkModel;
  /**
   * Virtual time at the start, in ms since the Unix epoch. Default 1.7e12 (November 2023): signed
   * descriptors carry timestamps, which must look like real ones.
   */
  readonly startTime?: number;
  /**
   * Round trips from the first packet of a connection to its first request: 2 by default, TCP's
   * handshake plus TLS 1.3's. Each one costs two latency samples.
   */
  readonly handshakeRoundTrips?: number;
}

/** How a node dies: `refuse` = its process was killed, `silent` = its host went away. */
export type CrashMode = 'refuse' | 'silent';

/** Which kind of message travels: decides which loss probability applies. */
export type MessageKind = 'request' | 'response' | 'control';

/** Keeps the messages of one connection direction in order. */
export interface Lane {
  lastArrival: number;
}

export interface NetworkCounters {
  /** Messages handed to the network (requests, responses, set-up, close notices, stream chunks). */
  sent: number;
  /** Lost by the loss model. */
  lost: number;
  /** Dropped because a partition or a silent crash stood in the way. */
  dropped: number;
}

export const DEFAULT_MODEL: NetworkModel = Object.freeze({
  requestLoss: 0,
  responseLoss: 0,
  latency: Object.freeze({ kind: 'uniform', minMs: 5, maxMs: 50 }),
}) as NetworkModel;

/** Where nothing answers: the address of a node that crashed silently, until someone listens there. */
const BLACK_HOLE = 'black-hole';

const FIRST_EPHEMERAL_PORT = 49_152;
const FIRST_LISTEN_PORT = 20_000;

export class SimulatedNetwork {
  readonly scheduler: VirtualScheduler;
  readonly clock: Clock;
  /** Timers of nobody in particular (they never die); each transport has its own, see `timers`. */
  readonly timers: Timers;
  readonly model: NetworkModel;
  readonly handshakeRoundTrips: number;
  readonly counters: NetworkCounters = { sent: 0, lost: 0, dropped: 0 };
  /** Streams for the nodes, forked off in the order they are asked for. */
  private readonly streams: SeededRandom;
  /** Latency and loss draws. */
  private readonly rng: SeededRandom;
  private readonly addresses = new Map<string, SimulatedTransport | typeof BLACK_HOLE>();
  /** The transport of each node id that is neither closed nor crashed. */
  private readonly live = new Map<string, SimulatedTransport>();
  /** Partition group by node id; absent = group 0. */
  private readonly groups = new Map<string, number>();
  private nextEphemeralPort = FIRST_EPHEMERAL_PORT;

  constructor(options: SimulatedNetworkOptions) {
    this.model = options.model ?? DEFAULT_MODEL;
    validateNetwork(this.model);
    this.handshakeRoundTrips = options.handshakeRoundTrips ?? 2;
    if (!Number.isInteger(this.handshakeRoundTrips) || this.handshakeRoundTrips < 1) {
      throw new RangeError(`handshakeRoundTrips must be a positive integer, got ${this.handshakeRoundTrips}`);
    }
    this.scheduler = new VirtualScheduler(options.startTime ?? 1_700_000_000_000);
    this.clock = this.scheduler.clock;
    this.timers = this.scheduler.timers();
    const root = new SeededRandom(options.seed);
    this.rng = root.fork();
    this.streams = root.fork();
  }

  now(): number {
    return this.scheduler.now();
  }

  /** A new independent random stream (for a node's protocols, identities, inputs…). */
  forkRandom(): SeededRandom {
    return this.streams.fork();
  }

  /** A transport for `identity`; it dials at once and accepts once it `listen`s. */
  createTransport(identity: NodeIdentity, options: SimulatedTransportOptions = {}): SimulatedTransport {
    if (this.live.has(identity.nodeId)) throw new RangeError(`node ${identity.nodeId} already has a live transport: close or crash it first`);
    const transport = new SimulatedTransport(this, identity, options);
    this.live.set(identity.nodeId, transport);
    return transport;
  }

  /** The live (neither closed nor crashed) transport of `nodeId`. */
  transportOf(nodeId: string): SimulatedTransport | undefined {
    return this.live.get(nodeId);
  }

  /**
   * Kills node `nodeId` at the current virtual time: its timers never fire again, its pending
   * requests fail with CLOSED, its streams vanish. With `refuse` (default, a killed process) its
   * connections are reset, so requests in flight to it fail with CONNECTION_LOST one latency later,
   * and new connections to its address are refused: UNREACHABLE after one round trip. With `silent`
   * (host gone) nothing answers any more: requests to it end in TIMEOUT (or UNREACHABLE when the
   * connect timeout comes first). A new transport may later listen at the same address (restart).
   */
  crash(nodeId: string, mode: CrashMode = 'refuse'): void {
    const transport = this.live.get(nodeId);
    if (transport === undefined) throw new RangeError(`crash: node ${nodeId} has no live transport`);
    transport.crashNow(mode);
  }

  /**
   * Splits the nodes into groups that cannot exchange anything; nodes not listed form one more
   * group together. Replaces any earlier partition. Connections survive it (TCP does, for a while):
   * requests over them time out until `heal`.
   */
  partition(...groups: readonly (readonly string[])[]): void {
    this.groups.clear();
    groups.forEach((group, i) => {
      for (const nodeId of group) {
        if (this.groups.has(nodeId)) throw new RangeError(`partition: node ${nodeId} is in two groups`);
        this.groups.set(nodeId, i + 1);
      }
    });
  }

  /** Ends any partition. */
  heal(): void {
    this.groups.clear();
  }

  reachable(a: string, b: string): boolean {
    return (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0);
  }

  runUntil(time: number): Promise<void> {
    return this.scheduler.runUntil(time);
  }

  runFor(ms: number): Promise<void> {
    return this.scheduler.runFor(ms);
  }

  /** Runs the network until `promise` settles; see VirtualScheduler.settle. */
  settle<T>(promise: Promise<T>, limitMs?: number): Promise<T> {
    return this.scheduler.settle(promise, limitMs);
  }

  // ---- for SimulatedTransport --------------------------------------------------------------------

  /** @internal Binds `transport` to `address` (port 0: the first free port from 20000). */
  bind(transport: SimulatedTransport, address: { host: string; port: number }): { host: string; port: number } {
    let port = address.port;
    if (port === 0) {
      port = FIRST_LISTEN_PORT;
      while (this.isTaken(address.host, port)) port++;
      if (port > 65_535) throw new RangeError(`listen: no free port left on ${address.host}`);
    } else if (this.isTaken(address.host, port)) {
      throw new RangeError(`listen: ${address.host}:${port} is already in use`);
    }
    this.addresses.set(key(address.host, port), transport);
    return { host: address.host, port };
  }

  /** @internal Frees `transport`'s address; `silent` leaves a black hole there instead. */
  unbind(transport: SimulatedTransport, address: { host: string; port: number }, silent: boolean): void {
    const k = key(address.host, address.port);
    if (this.addresses.get(k) !== transport) return;
    if (silent) this.addresses.set(k, BLACK_HOLE);
    else this.addresses.delete(k);
  }

  /** @internal The transport is closed or crashed: its node id may be used again. */
  retire(transport: SimulatedTransport): void {
    if (this.live.get(transport.nodeId) === transport) this.live.delete(transport.nodeId);
  }

  /** @internal A port for the dialling side of a connection, as the remote address a handler sees. */
  ephemeralPort(): number {
    const port = this.nextEphemeralPort;
    this.nextEphemeralPort = port >= 65_535 ? FIRST_EPHEMERAL_PORT : port + 1;
    return port;
  }

  /** @internal One latency sample. */
  latency(): number {
    return sampleLatency(this.model.latency, this.rng);
  }

  /**
   * @internal Sends one message from node `from` to `to`: `deliver` runs when it arrives, unless it
   * is lost, a partition separates the two then, or `to` crashed silently. `lane` keeps a
   * connection's messages in order.
   */
  transmit(from: string, to: SimulatedTransport, kind: MessageKind, deliver: () => void, lane?: Lane): void {
    this.counters.sent++;
    const loss = kind === 'request' ? this.model.requestLoss : kind === 'response' ? this.model.responseLoss : 0;
    const lost = loss > 0 && this.rng.next() < loss;
    let arrival = this.now() + this.latency();
    if (lane !== undefined) {
      arrival = Math.max(arrival, lane.lastArrival);
      lane.lastArrival = arrival;
    }
    if (lost) {
      this.counters.lost++;
      return;
    }
    this.scheduler.schedule(arrival - this.now(), () => {
      if (!this.reachable(from, to.nodeId) || this.silenced(to)) {
        this.counters.dropped++;
        return;
      }
      deliver();
    });
  }

  /**
   * @internal Connection set-up from `dialer` to whatever listens at `address`. `outcome` runs
   * when the answer reaches the dialer: the transport there, or 'refused' (nothing listening, or
   * it went away during the set-up). Nothing runs if nobody answers (silent crash, partition):
   * the dialer's connect timeout decides. Whether the answer is the expected node is the dialer's
   * business (key pinning).
   */
  handshake(dialer: SimulatedTransport, address: NetworkAddress, outcome: (answer: SimulatedTransport | 'refused') => void): void {
    const k = key(address.host, address.port);
    this.counters.sent++;
    this.scheduler.schedule(
      this.latency(),
      () => {
        const there = this.addresses.get(k);
        if (there === BLACK_HOLE || (there !== undefined && !this.reachable(dialer.nodeId, there.nodeId))) {
          this.counters.dropped++;
          return;
        }
        if (there === undefined) {
          // Nothing listens, the host is up: its reset comes straight back.
          this.scheduler.schedule(this.latency(), () => outcome('refused'), dialer);
          return;
        }
        // The rest of the set-up: the first answer back, then the remaining round trips.
        let rest = this.latency();
        for (let i = 1; i < this.handshakeRoundTrips; i++) rest += this.latency() + this.latency();
        this.scheduler.schedule(
          rest,
          () => {
            const now = this.addresses.get(k);
            if (now === BLACK_HOLE || !this.reachable(dialer.nodeId, there.nodeId)) {
              this.counters.dropped++;
            } else if (now !== there) {
              outcome('refused'); // it went away during the set-up
            } else {
              outcome(there);
            }
          },
          dialer,
        );
      },
      dialer,
    );
  }

  /** A silently crashed node's host answers nothing, until a node listens at its address again. */
  private silenced(to: SimulatedTransport): boolean {
    if (to.crashMode !== 'silent') return false;
    const a = to.listenAddress;
    return a === undefined || this.addresses.get(key(a.host, a.port)) === BLACK_HOLE;
  }

  private isTaken(host: string, port: number): boolean {
    const there = this.addresses.get(key(host, port));
    return there !== undefined && there !== BLACK_HOLE;
  }
}

function key(host: string, port: number): string {
  return `${host}|${port}`;
}
