import type { PeerHandle, PeerSampler } from '../core/handles.js';
import { Bootstrap } from '../protocols/bootstrap/bootstrap.js';
import { type PeerSamplingPreset, presetConfig } from '../protocols/peer-sampling/config.js';
import { PeerSampling } from '../protocols/peer-sampling/peer-sampling.js';
import { CycleDrivenEngine } from './engine/cycle-driven.js';
import type { Engine } from './engine/engine.js';
import { EventDrivenEngine } from './engine/event-driven.js';
import type { LatencyDistribution } from './network.js';
import { Churn, Growth, Oscillation, SuddenDeath } from './scenarios/dynamics.js';
import { type StartTopology, seedTopology } from './scenarios/topology.js';
import { Simulation } from './simulation.js';
import { StaticGraph } from './static-graph.js';
import { CompleteGraphSampler } from './complete-graph.js';

/** Everything that shapes a simulated world, shared by all experiments and the `sim` CLI. */
export interface WorldParams {
  nodes: number;
  seed: number | string;
  /**
   * Peer sampling protocol; or `static`, a fixed random k-out graph (k = view); or `complete`, a
   * uniformly random live node (the ideal sampler, as if every node knew all others).
   */
  sampling: PeerSamplingPreset | 'static' | 'complete';
  /** c, the view size (out-degree of the static graph). */
  view: number;
  /** Cyclon's shuffle length l. */
  shuffleLength: number;
  start: StartTopology;
  /** Nodes added per cycle, starting from one node, until `nodes` are live (0: all from the start). */
  growth: number;
  mode: 'cycle' | 'event';
  /** Event-driven mode: cycle length Δ and one-way latency. */
  periodMs: number;
  latency: LatencyDistribution;
  requestLoss: number;
  responseLoss: number;
  /** Fraction of nodes replaced per cycle. */
  churn: number;
  /** Sudden deaths: kill `fraction` of the live nodes just before `cycle`. */
  kills: { fraction: number; cycle: number }[];
  oscillation: { min: number; max: number; period: number } | null;
  /** How many random live nodes a joining node gets as contacts. */
  joinContacts: number;
}

export const defaultWorld: WorldParams = {
  nodes: 10_000,
  seed: 1,
  sampling: 'newscast',
  view: 30,
  shuffleLength: 8,
  start: 'random',
  growth: 0,
  mode: 'cycle',
  periodMs: 1000,
  latency: { kind: 'constant', ms: 0 },
  requestLoss: 0,
  responseLoss: 0,
  churn: 0,
  kills: [],
  oscillation: null,
  joinContacts: 3,
};

export interface World {
  params: WorldParams;
  sim: Simulation;
  /** The gossiped peer sampling service, when `sampling` is not `static`. */
  sampling: PeerSampling | null;
  /** Where other protocols get random peers from (the sampling service or the static graph). */
  peers: PeerSampler;
  bootstrap: Bootstrap | null;
}

/**
 * Step 1: the simulation with its peer sampling layer and scenario controls, but no nodes yet, so
 * experiments can add their protocols, hooks and observers before anyone joins.
 */
export function createWorld(params: WorldParams): World {
  validateWorld(params);
  const capacity = Math.max(params.nodes, params.oscillation?.max ?? 0) + 16;
  const sim = new Simulation({
    seed: params.seed,
    capacity,
    network: { requestLoss: params.requestLoss, responseLoss: params.responseLoss, latency: params.latency },
  });
  let sampling: PeerSampling | null = null;
  let peers: PeerSampler;
  let bootstrap: Bootstrap | null = null;
  if (params.sampling === 'static') {
    peers = new StaticGraph(params.nodes, Math.min(params.view, params.nodes - 1), sim.rng.fork());
  } else if (params.sampling === 'complete') {
    peers = new CompleteGraphSampler(sim.population, sim.rng.fork());
  } else {
    sampling = sim.addProtocol(new PeerSampling(presetConfig(params.sampling, params.view, params.shuffleLength), sim.rng.fork()));
    peers = sampling;
    bootstrap = new Bootstrap(sampling);
  }
  for (const k of params.kills) sim.controls.push(new SuddenDeath(k.fraction, k.cycle));
  if (params.churn > 0) sim.controls.push(new Churn(params.churn));
  if (params.oscillation) sim.controls.push(new Oscillation(params.oscillation.min, params.oscillation.max, params.oscillation.period));
  if (params.growth > 0) sim.controls.push(new Growth(params.growth, params.nodes));
  return { params, sim, sampling, peers, bootstrap };
}

/** Step 2: spawns the initial nodes, wires the start topology and returns the engine. */
export function startWorld(world: World): Engine {
  const { sim, params, sampling } = world;
  const initial = params.growth > 0 ? 1 : params.nodes;
  const first = sim.spawnMany(initial);
  const handles = Int32Array.from({ length: initial }, (_, i) => first + i);
  if (sampling) seedTopology(params.start, handles, params.view, sampling, sim.rng);
  const boot = world.bootstrap;
  if (boot && sampling) {
    // Nodes that join later know a few random live nodes (what the bootstrapping service would hand
    // them); set-up nodes were wired by the start topology instead. With growth from a single node,
    // joiners contact the first node, the "star-growing" scenario of the peer sampling paper.
    const contacts: PeerHandle[] = [];
    const pickContacts = (s: Simulation, node: PeerHandle): PeerHandle[] => {
      contacts.length = 0;
      if (params.growth > 0 && params.start === 'star' && s.population.isAlive(first)) {
        contacts.push(first);
        return contacts;
      }
      const want = Math.min(params.joinContacts, s.population.size - 1);
      for (let tries = 0; contacts.length < want && tries < want * 10; tries++) {
        const c = s.population.randomLive(s.rng);
        if (c !== node && !contacts.includes(c)) contacts.push(c);
      }
      return contacts;
    };
    sim.onJoin((s, node) => boot.join(node, pickContacts(s, node)));
    // A node whose view has emptied (every peer it knew is gone, or Cyclon dropped its only contact
    // after a lost message) goes back to the bootstrapping service, as the daemon re-contacts its
    // seeds. Without this such a node stays isolated forever.
    sim.controls.push({
      name: 'rebootstrap',
      beforeCycle(s: Simulation): void {
        const live = s.population.live();
        const orphans: PeerHandle[] = [];
        for (let i = 0; i < live.length; i++) if (boot.needsContacts(live[i])) orphans.push(live[i]);
        for (const node of orphans) boot.join(node, pickContacts(s, node));
      },
    });
  }
  return params.mode === 'event' ? new EventDrivenEngine(sim, { periodMs: params.periodMs }) : new CycleDrivenEngine(sim);
}

export function validateWorld(p: WorldParams): void {
  if (!Number.isInteger(p.nodes) || p.nodes < 2) throw new RangeError(`--nodes must be an integer >= 2, got ${p.nodes}`);
  if (p.nodes > 10_000_000) throw new RangeError(`--nodes ${p.nodes} is more than this simulator supports (10^7)`);
  if (!Number.isInteger(p.view) || p.view < 2 || p.view > 255) throw new RangeError(`--view must be an integer in 2..255, got ${p.view}`);
  if (p.sampling === 'static' && p.view >= p.nodes) throw new RangeError(`--view ${p.view} must be below --nodes ${p.nodes} for a static graph`);
  if (!Number.isInteger(p.growth) || p.growth < 0) throw new RangeError(`--grow must be a non-negative integer, got ${p.growth}`);
  if (p.sampling === 'static' && (p.churn > 0 || p.kills.length > 0 || p.growth > 0 || p.oscillation)) {
    throw new RangeError('a static graph cannot have churn, kills, growth or oscillation: use --sampling newscast or cyclon');
  }
  if (p.oscillation && p.oscillation.max > p.nodes * 10) throw new RangeError('oscillation maximum is unreasonably large');
  if (!Number.isInteger(p.joinContacts) || p.joinContacts < 1) throw new RangeError(`join contacts must be a positive integer, got ${p.joinContacts}`);
}
