/**
 * Experiment `tman`: T-Man builds the sorted ring from a random overlay (Jelasity, Montresor,
 * Babaoglu, "T-Man: Gossip-based fast overlay topology construction", Computer Networks 53(13),
 * 2009, §4–§5): the number of missing target links per cycle, the cycle at which the ring is
 * complete (O(log N), about +1.5 cycles per doubling of N in the paper) and, with --kill, how many
 * cycles the ring takes to repair itself; with --churn, how close to complete it stays.
 */
import type { PeerHandle } from '../../core/handles.js';
import { SeededRandom } from '../../core/random.js';
import { type TManConfig, defaultTManConfig } from '../../protocols/tman/config.js';
import type { RankingName } from '../../protocols/tman/ranking.js';
import { type ProfileDirectory, TMan } from '../../protocols/tman/tman.js';
import { EventDrivenEngine } from '../engine/event-driven.js';
import { type CycleRow, runCycles } from '../engine/engine.js';
import { MissingLinksObserver } from '../observers/tman.js';
import { type World, createWorld, startWorld } from '../world.js';
import { type Experiment, type ExperimentParams, type ExperimentResult, type Progress, describeParams, numberOption } from './experiment.js';
import { registerExperiment } from './index.js';

/**
 * The simulator's profile table: a random, distinct 32-bit ring key per node handle and a group per
 * handle. Keys are drawn lazily in handle order from a dedicated stream, so node h always gets the
 * same key for a given seed whatever the order of the calls. Distinct keys keep the sorted ring
 * well defined (at 10^6 random 32-bit keys about a hundred would otherwise collide).
 */
export class RingProfiles implements ProfileDirectory {
  private keys = new Uint32Array(1024);
  private groups = new Int32Array(1024);
  private assigned = 0;
  private readonly used = new Set<number>();
  private readonly rng: SeededRandom;

  /** `groupCount` > 1: each node joins one of that many groups uniformly at random (one ring each). */
  constructor(
    seed: number | string,
    readonly groupCount = 1,
  ) {
    if (!Number.isInteger(groupCount) || groupCount < 1 || groupCount > 1 << 20) {
      throw new RangeError(`groups must be an integer in 1..${1 << 20}, got ${groupCount}`);
    }
    this.rng = new SeededRandom(`ring-profiles:${seed}`);
  }

  keyOf(node: PeerHandle): number {
    if (node >= this.assigned) this.assignUpTo(node);
    return this.keys[node];
  }

  groupOf(node: PeerHandle): number {
    if (node >= this.assigned) this.assignUpTo(node);
    return this.groups[node];
  }

  /** Moves a node to another group (e.g. its slice changed). */
  setGroup(node: PeerHandle, group: number): void {
    if (node >= this.assigned) this.assignUpTo(node);
    this.groups[node] = group;
  }

  private assignUpTo(node: PeerHandle): void {
    if (node >= this.keys.length) {
      let size = this.keys.length;
      while (size <= node) size *= 2;
      const keys = new Uint32Array(size);
      keys.set(this.keys);
      const groups = new Int32Array(size);
      groups.set(this.groups);
      this.keys = keys;
      this.groups = groups;
    }
    for (; this.assigned <= node; this.assigned++) {
      let key: number;
      do key = this.rng.uint32();
      while (this.used.has(key));
      this.used.add(key);
      this.keys[this.assigned] = key;
      this.groups[this.assigned] = this.groupCount > 1 ? this.rng.int(this.groupCount) : 0;
    }
  }
}

export interface TManWorld {
  world: World;
  tman: TMan;
  profiles: RingProfiles;
  observer: MissingLinksObserver;
}

/** A world running peer sampling and T-Man over random ring keys, observed for missing links. */
export function createTManWorld(params: ExperimentParams, config: Partial<TManConfig> = {}, groupCount = 1): TManWorld {
  const world = createWorld(params);
  const profiles = new RingProfiles(params.seed, groupCount);
  const tman = world.sim.addProtocol(new TMan(world.peers, profiles, world.sim.rng.fork(), config));
  const observer = new MissingLinksObserver(world.sim, tman.views, profiles);
  world.sim.observers.push(observer);
  return { world, tman, profiles, observer };
}

const isInteger = (lo: number, hi: number) => (v: number) => Number.isInteger(v) && v >= lo && v <= hi;

/** Reads and validates the T-Man options of an experiment. */
export function tmanOptions(params: ExperimentParams): { config: TManConfig; groups: number } {
  const viewSize = numberOption(params, 'tview', defaultTManConfig.viewSize, isInteger(2, 255));
  const config: TManConfig = {
    viewSize,
    messageSize: numberOption(params, 'm', defaultTManConfig.messageSize, isInteger(1, 255)),
    psi: numberOption(params, 'psi', defaultTManConfig.psi, isInteger(1, viewSize)),
    randomSample: numberOption(params, 'sample', defaultTManConfig.randomSample, isInteger(0, 255)),
    ranking: (params.options.ranking ?? defaultTManConfig.ranking) as RankingName,
    maxAge: numberOption(params, 'maxAge', defaultTManConfig.maxAge, isInteger(1, 0xfffe)),
    failureMemory: numberOption(params, 'failureMemory', defaultTManConfig.failureMemory, isInteger(0, 255)),
    sampleAge: 0,
  };
  config.sampleAge = numberOption(params, 'sampleAge', Math.min(defaultTManConfig.sampleAge, config.maxAge), isInteger(0, config.maxAge));
  if (config.ranking !== 'sorted-ring' && config.ranking !== 'ring-distance') {
    throw new RangeError(`option ranking=${config.ranking} is not valid: use sorted-ring or ring-distance`);
  }
  const groups = numberOption(params, 'groups', 1, isInteger(1, Math.max(1, Math.floor(params.nodes / 2))));
  return { config, groups };
}

export const tmanExperiment: Experiment = {
  name: 'tman',
  description: 'T-Man builds the sorted ring from a random overlay: missing links per cycle, cycles to complete / repair',
  defaults: { cycles: 40 },
  optionHelp: {
    tview: `T-Man view size c; default ${defaultTManConfig.viewSize}`,
    m: `message size m (descriptors per message); default ${defaultTManConfig.messageSize}`,
    psi: `ψ: contact one of the ψ best-ranked view entries; default ${defaultTManConfig.psi}`,
    sample: `random peers from peer sampling added to each buffer; default ${defaultTManConfig.randomSample}`,
    ranking: 'sorted-ring (paper, direction aware) or ring-distance; default sorted-ring',
    groups: 'number of independent rings (random group per node, one ring per slice); default 1',
    maxAge: `descriptors older than this many cycles leave the views; default ${defaultTManConfig.maxAge}`,
    sampleAge: `age given to descriptors from peer sampling (≤ maxAge); default ${defaultTManConfig.sampleAge}`,
    failureMemory: `failed peers a node remembers and does not take back (0: none); default ${defaultTManConfig.failureMemory}`,
  },
  run(params: ExperimentParams, progress?: Progress): ExperimentResult {
    const { config, groups } = tmanOptions(params);
    const { world } = createTManWorld(params, config, groups);
    const engine = startWorld(world);
    const rows = runCycles(engine, params.cycles, (row) => progress?.(row.cycle, params.cycles, row));
    const summary: ExperimentResult['summary'] = { ...tmanSummary(rows, params) };
    if (engine instanceof EventDrivenEngine) {
      summary.requests = engine.stats.requests;
      summary.messagesLost = engine.stats.lost;
      summary.timeouts = engine.stats.timeouts;
    }
    return { experiment: 'tman', parameters: describeParams(params), cycles: rows, summary };
  },
};

/**
 * cyclesToComplete: first cycle with no missing link (before any kill). cyclesToRepair: cycles run
 * after the last sudden death until the survivors' ring is complete again (a kill "at cycle k" happens
 * just before cycle k runs, so row k+1 is the first state after it); cyclesToCorrectNeighbors: until
 * every survivor's closest view entries on both sides are its true neighbours again (dead ones purged).
 */
export function tmanSummary(rows: CycleRow[], params: ExperimentParams): Record<string, number | null> {
  const kills = params.kills.filter((k) => k.fraction > 0 && k.cycle < params.cycles);
  const firstKill = kills.length > 0 ? Math.min(...kills.map((k) => k.cycle)) : Infinity;
  const complete = rows.find((r) => r.cycle > 0 && r.cycle <= firstKill && r.missingLinks === 0);
  const last = rows[rows.length - 1];
  const tail = rows.slice(Math.max(1, Math.floor(rows.length / 2)));
  const correct = rows.find((r) => r.cycle > 0 && r.cycle <= firstKill && r.wrongNeighbors === 0);
  const summary: Record<string, number | null> = {
    cyclesToComplete: complete ? complete.cycle : null,
    cyclesToCorrectNeighborsFromStart: correct ? correct.cycle : null,
    finalMissingLinks: last.missingLinks,
    finalMissingLinksFraction: last.missingLinksFraction,
    meanMissingLinksFractionSecondHalf: tail.reduce((s, r) => s + r.missingLinksFraction, 0) / Math.max(1, tail.length),
    meanWrongNeighborsFractionSecondHalf: tail.reduce((s, r) => s + r.wrongNeighborsFraction, 0) / Math.max(1, tail.length),
  };
  if (kills.length > 0) {
    const killCycle = Math.max(...kills.map((k) => k.cycle));
    const repaired = rows.find((r) => r.cycle > killCycle && r.missingLinks === 0);
    summary.cyclesToRepair = repaired ? repaired.cycle - killCycle : null;
    const rightAgain = rows.find((r) => r.cycle > killCycle && r.wrongNeighbors === 0);
    summary.cyclesToCorrectNeighbors = rightAgain ? rightAgain.cycle - killCycle : null;
    const after = rows.filter((r) => r.cycle > killCycle);
    summary.worstMissingLinksFractionAfterKill = after.length > 0 ? Math.max(...after.map((r) => r.missingLinksFraction)) : null;
  }
  return summary;
}

registerExperiment(tmanExperiment);
