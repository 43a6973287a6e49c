import { ManualClock } from '../../core/clock.js';
import { NO_PEER, type PeerHandle } from '../../core/handles.js';
import type { Protocol } from '../../protocols/exchange.js';
import { sampleLatency } from '../network.js';
import type { Simulation } from '../simulation.js';
import { type CycleRow, type Engine, observeAll } from './engine.js';
import { EventQueue } from './event-queue.js';

export interface EventDrivenOptions {
  /** Δ: every node starts its active steps once per period (ms). Default 1000. */
  periodMs?: number;
  /** How long an initiator waits for a reply before `fail` (ms). Default: one period. */
  timeoutMs?: number;
}

interface Exchange {
  protocol: Protocol;
  initiator: PeerHandle;
  peer: PeerHandle;
  req: unknown;
  res: unknown;
  done: boolean;
}

const TICK = 0;
const REQUEST = 1;
const RESPONSE = 2;
const TIMEOUT = 3;

interface SimEvent {
  kind: 0 | 1 | 2 | 3;
  node: PeerHandle;
  exchange: Exchange | null;
}

/**
 * Event-driven engine: each node has its own timer of period Δ with a random phase, and every
 * message of an exchange travels separately, with latency drawn from the network model (jitter
 * reorders messages) and independent loss for requests and replies. Exchanges are therefore not
 * atomic: a node may answer others while its own request is in flight, as in the daemon.
 * "Cycle k" is the virtual time interval [kΔ, (k+1)Δ).
 */
export class EventDrivenEngine implements Engine {
  readonly mode = 'event' as const;
  readonly clock = new ManualClock(0);
  private readonly queue = new EventQueue<SimEvent>();
  private readonly period: number;
  private readonly timeout: number;
  /** Messages sent and lost so far, for observers and tests. */
  readonly stats = { requests: 0, responses: 0, lost: 0, timeouts: 0 };

  constructor(
    readonly sim: Simulation,
    options: EventDrivenOptions = {},
  ) {
    this.period = options.periodMs ?? 1000;
    this.timeout = options.timeoutMs ?? this.period;
    if (!(this.period > 0)) throw new RangeError(`periodMs must be positive, got ${this.period}`);
    if (!(this.timeout > 0)) throw new RangeError(`timeoutMs must be positive, got ${this.timeout}`);
    for (const node of sim.population.live()) this.scheduleFirstTick(node);
    sim.onJoin((_s, node) => this.scheduleFirstTick(node));
  }

  observe(): CycleRow {
    return observeAll(this.sim);
  }

  runCycle(): CycleRow {
    const sim = this.sim;
    for (const control of sim.controls) control.beforeCycle(sim, sim.cycle);
    const end = (sim.cycle + 1) * this.period;
    while (this.queue.peekTime() < end) {
      const time = this.queue.peekTime();
      const event = this.queue.pop()!;
      this.clock.set(time);
      this.dispatch(event);
    }
    this.clock.set(end);
    sim.cycle++;
    return observeAll(sim);
  }

  private scheduleFirstTick(node: PeerHandle): void {
    const now = Math.max(this.clock.now(), this.sim.cycle * this.period);
    this.queue.push(now + this.sim.rng.next() * this.period, { kind: TICK, node, exchange: null });
  }

  private dispatch(event: SimEvent): void {
    const sim = this.sim;
    const pop = sim.population;
    switch (event.kind) {
      case TICK: {
        if (!pop.isAlive(event.node)) return;
        for (const protocol of sim.protocols) this.start(protocol, event.node);
        this.queue.push(this.clock.now() + this.period, event);
        return;
      }
      case REQUEST: {
        const ex = event.exchange!;
        if (!pop.isAlive(ex.peer)) return; // the initiator's timeout will fire
        const res = ex.protocol.handle(ex.peer, ex.initiator, ex.req);
        if (res === null) {
          ex.done = true;
          return;
        }
        ex.res = res;
        this.stats.responses++;
        if (this.lost(sim.network.responseLoss)) return;
        this.queue.push(this.clock.now() + sampleLatency(sim.network.latency, sim.rng), { kind: RESPONSE, node: ex.initiator, exchange: ex });
        return;
      }
      case RESPONSE: {
        const ex = event.exchange!;
        if (ex.done || !pop.isAlive(ex.initiator)) return;
        ex.done = true;
        ex.protocol.complete(ex.initiator, ex.peer, ex.req, ex.res);
        return;
      }
      case TIMEOUT: {
        const ex = event.exchange!;
        if (ex.done) return;
        ex.done = true;
        this.stats.timeouts++;
        if (pop.isAlive(ex.initiator)) ex.protocol.fail(ex.initiator, ex.peer, ex.req);
        return;
      }
    }
  }

  private start(protocol: Protocol, node: PeerHandle): void {
    const sim = this.sim;
    const peer = protocol.selectPeer(node);
    if (peer === NO_PEER) return;
    const req = protocol.initiate(node, peer);
    const ex: Exchange = { protocol, initiator: node, peer, req, res: undefined, done: false };
    const now = this.clock.now();
    this.queue.push(now + this.timeout, { kind: TIMEOUT, node, exchange: ex });
    this.stats.requests++;
    if (this.lost(sim.network.requestLoss)) return;
    this.queue.push(now + sampleLatency(sim.network.latency, sim.rng), { kind: REQUEST, node: peer, exchange: ex });
  }

  private lost(p: number): boolean {
    if (p > 0 && this.sim.rng.next() < p) {
      this.stats.lost++;
      return true;
    }
    return false;
  }
}
