import type { PeerHandle } from '../core/handles.js';
import { SeededRandom } from '../core/random.js';
import type { Protocol } from '../protocols/exchange.js';
import { type NetworkModel, perfectNetwork, validateNetwork } from './network.js';
import { Population } from './population.js';

/** Runs before each cycle (PeerSim's "control"): scenarios that add, kill or reconfigure nodes. */
export interface Control {
  readonly name: string;
  beforeCycle(sim: Simulation, cycle: number): void;
}

/** Measures the system after each cycle (PeerSim's "observer"); returns named metrics. */
export interface Observer {
  readonly name: string;
  observe(sim: Simulation, cycle: number): Record<string, number>;
}

/** Called for every node that joins (at set-up or later), e.g. to bootstrap its view. */
export type JoinHook = (sim: Simulation, node: PeerHandle) => void;

export interface SimulationOptions {
  seed: number | string;
  /** Expected number of nodes, to size state arrays up front (they grow if needed). */
  capacity?: number;
  network?: NetworkModel;
}

/**
 * The state of one simulated world: its nodes, the protocol instances that hold all of the nodes'
 * state, the seeded random stream everything draws from, and the hooks that shape the scenario.
 * Engines (cycle-driven, event-driven) decide how exchanges are scheduled over it.
 */
export class Simulation {
  readonly rng: SeededRandom;
  readonly population: Population;
  readonly network: NetworkModel;
  readonly protocols: Protocol[] = [];
  readonly controls: Control[] = [];
  readonly observers: Observer[] = [];
  private readonly joinHooks: JoinHook[] = [];
  private readonly leaveHooks: JoinHook[] = [];
  /** Completed cycles. */
  cycle = 0;

  constructor(options: SimulationOptions) {
    this.rng = new SeededRandom(options.seed);
    this.population = new Population(options.capacity ?? 1024);
    this.network = options.network ?? perfectNetwork;
    validateNetwork(this.network);
  }

  addProtocol<P extends Protocol>(protocol: P): P {
    protocol.ensureCapacity(this.population.capacity);
    this.protocols.push(protocol);
    return protocol;
  }

  onJoin(hook: JoinHook): void {
    this.joinHooks.push(hook);
  }

  onLeave(hook: JoinHook): void {
    this.leaveHooks.push(hook);
  }

  /** Adds a node: allocates its handle, resets its protocol state, runs join hooks. */
  spawn(): PeerHandle {
    const h = this.population.spawn();
    for (const p of this.protocols) {
      p.ensureCapacity(this.population.capacity);
      p.resetNode(h);
    }
    for (const hook of this.joinHooks) hook(this, h);
    return h;
  }

  /** Crashes a node: it stops answering; others still hold its descriptor until they learn. */
  kill(h: PeerHandle): void {
    if (!this.population.isAlive(h)) return;
    this.population.kill(h);
    for (const hook of this.leaveHooks) hook(this, h);
  }

  /** Spawns `count` nodes without running join hooks per node twice; returns the first handle. */
  spawnMany(count: number): PeerHandle {
    const first = this.population.handles;
    for (let i = 0; i < count; i++) this.spawn();
    return first;
  }
}
