/**
 * Experiment `slicing`: nodes learn which slice of an attribute order they belong to, with
 * - `jk`: ordered slicing by random-value swaps (Jelasity & Kermarrec, IEEE P2P 2006),
 * - `modjk`: JK swapping with the known neighbour that reduces disorder most (same paper, §4.2),
 * - `ranking`: rank estimation from sampled attribute values (Fernández, Gramoli, Jiménez,
 *   Kermarrec, Raynal, "Distributed slicing in dynamic systems", ICDCS 2007),
 * observed by the global disorder measure (gdm), the slice disorder measure (sdm) and the fraction
 * of nodes in their true slice (accuracy), per cycle, also under --churn and --kill. The papers'
 * findings: disorder falls for all three; JK and mod-JK plateau because the r values are not an
 * exact uniform grid, and degrade under churn; ranking keeps improving and follows churn.
 */
import type { PeerHandle } from '../../core/handles.js';
import { SeededRandom } from '../../core/random.js';
import { OrderedSlicing, defaultOrderedSlicingConfig } from '../../protocols/slicing/ordered-slicing.js';
import { RankEstimation, defaultRankEstimationConfig } from '../../protocols/slicing/rank-estimation.js';
import type { AttributeSource, SliceEstimator } from '../../protocols/slicing/slices.js';
import type { Protocol } from '../../protocols/exchange.js';
import { EventDrivenEngine } from '../engine/event-driven.js';
import { runCycles } from '../engine/engine.js';
import { SlicingObserver } from '../observers/slicing.js';
import { type World, createWorld, startWorld } from '../world.js';
import { type Experiment, type ExperimentParams, type ExperimentResult, type Progress, describeParams, numberOption } from './experiment.js';
import { registerExperiment } from './index.js';

export type SlicingAlgorithm = 'jk' | 'modjk' | 'ranking';
export type AttributeDistribution = 'uniform' | 'exponential' | 'pareto';

/**
 * The simulator's attribute table: one value per node handle, drawn lazily in handle order from a
 * dedicated stream (node h gets the same value for a given seed whatever the call order).
 * `exponential` (mean 1) and `pareto` (α = 1.5, heavy tailed) give skewed distributions such as
 * CPU scores or memory sizes.
 */
export class AttributeTable {
  private values = new Float64Array(1024);
  private assigned = 0;
  private readonly rng: SeededRandom;
  /** The table as an AttributeSource (bound once, so protocols can call it without `this`). */
  readonly source: AttributeSource = (node: PeerHandle) => this.valueOf(node);

  constructor(
    seed: number | string,
    readonly distribution: AttributeDistribution = 'uniform',
  ) {
    if (!['uniform', 'exponential', 'pareto'].includes(distribution)) {
      throw new RangeError(`attribute distribution must be uniform, exponential or pareto, got ${distribution}`);
    }
    this.rng = new SeededRandom(`attributes:${seed}`);
  }

  valueOf(node: PeerHandle): number {
    if (node >= this.assigned) this.assignUpTo(node);
    return this.values[node];
  }

  /** Changes a node's attribute (e.g. its load changed); protocols read it at their next step. */
  set(node: PeerHandle, value: number): void {
    if (node >= this.assigned) this.assignUpTo(node);
    this.values[node] = value;
  }

  private assignUpTo(node: PeerHandle): void {
    if (node >= this.values.length) {
      let size = this.values.length;
      while (size <= node) size *= 2;
      const values = new Float64Array(size);
      values.set(this.values);
      this.values = values;
    }
    for (; this.assigned <= node; this.assigned++) {
      const u = this.rng.next();
      let v: number;
      if (this.distribution === 'exponential') v = -Math.log(1 - u);
      else if (this.distribution === 'pareto') v = Math.pow(1 - u, -1 / 1.5);
      else v = u;
      this.values[this.assigned] = v;
    }
  }
}

export interface SlicingOptions {
  algorithm: SlicingAlgorithm;
  slices: number;
  window: number;
  samples: number;
  attribute: AttributeDistribution;
  cache: number;
  gossip: number;
}

const isInteger = (lo: number, hi: number) => (v: number) => Number.isInteger(v) && v >= lo && v <= hi;

export function slicingOptions(params: ExperimentParams): SlicingOptions {
  const algorithm = (params.options.algorithm ?? 'ranking') as SlicingAlgorithm;
  if (!['jk', 'modjk', 'ranking'].includes(algorithm)) throw new RangeError(`option algorithm=${algorithm} is not valid: use jk, modjk or ranking`);
  const attribute = (params.options.attribute ?? 'uniform') as AttributeDistribution;
  if (!['uniform', 'exponential', 'pareto'].includes(attribute)) {
    throw new RangeError(`option attribute=${attribute} is not valid: use uniform, exponential or pareto`);
  }
  const cache = numberOption(params, 'cache', defaultOrderedSlicingConfig.cacheSize, isInteger(1, 255));
  return {
    algorithm,
    slices: numberOption(params, 'slices', 10, isInteger(1, Math.max(1, params.nodes))),
    window: numberOption(params, 'window', defaultRankEstimationConfig.window, isInteger(1, 1 << 20)),
    samples: numberOption(params, 'samples', defaultRankEstimationConfig.samplesPerCycle, isInteger(0, 1024)),
    attribute,
    cache,
    gossip: numberOption(params, 'gossip', defaultOrderedSlicingConfig.gossip, isInteger(0, cache)),
  };
}

export interface SlicingWorld {
  world: World;
  protocol: Protocol & SliceEstimator;
  attributes: AttributeTable;
  observer: SlicingObserver;
}

/** A world running peer sampling and one slicing protocol, observed for GDM, SDM and accuracy. */
export function createSlicingWorld(params: ExperimentParams, options: SlicingOptions): SlicingWorld {
  const world = createWorld(params);
  const attributes = new AttributeTable(params.seed, options.attribute);
  const rng = world.sim.rng.fork();
  const protocol: Protocol & SliceEstimator =
    options.algorithm === 'ranking'
      ? new RankEstimation(world.peers, attributes.source, rng, { window: options.window, samplesPerCycle: options.samples })
      : new OrderedSlicing(world.peers, attributes.source, rng, {
          peerSelection: options.algorithm === 'modjk' ? 'best-swap' : 'random',
          cacheSize: options.cache,
          gossip: options.gossip,
        });
  world.sim.addProtocol(protocol);
  const observer = new SlicingObserver(protocol, attributes.source, options.slices);
  world.sim.observers.push(observer);
  return { world, protocol, attributes, observer };
}

export const slicingExperiment: Experiment = {
  name: 'slicing',
  description: 'ordered slicing (jk, modjk) and rank estimation (ranking): global and slice disorder per cycle',
  defaults: { cycles: 100 },
  optionHelp: {
    algorithm: 'jk, modjk or ranking; default ranking',
    slices: 'number of equal slices s for sdm and accuracy; default 10',
    window: `ranking: sliding window of sampled values; default ${defaultRankEstimationConfig.window}`,
    samples: `ranking: attribute values read from peer sampling descriptors per cycle; default ${defaultRankEstimationConfig.samplesPerCycle}`,
    attribute: 'attribute distribution: uniform, exponential or pareto; default uniform',
    cache: `modjk: known (a, r) descriptors per node; default ${defaultOrderedSlicingConfig.cacheSize}`,
    gossip: `modjk: descriptors piggybacked per message; default ${defaultOrderedSlicingConfig.gossip}`,
  },
  run(params: ExperimentParams, progress?: Progress): ExperimentResult {
    const options = slicingOptions(params);
    const { world } = createSlicingWorld(params, options);
    const engine = startWorld(world);
    const rows = runCycles(engine, params.cycles, (row) => progress?.(row.cycle, params.cycles, row));
    const last = rows[rows.length - 1];
    const tail = rows.slice(Math.max(1, rows.length - Math.max(1, Math.floor(params.cycles / 4))));
    const mean = (key: string) => tail.reduce((s, r) => s + r[key], 0) / tail.length;
    const summary: ExperimentResult['summary'] = {
      algorithm: options.algorithm,
      slices: options.slices,
      finalGdm: last.gdm,
      finalSdm: last.sdm,
      finalAccuracy: last.accuracy,
      meanSdmLastQuarter: mean('sdm'),
      meanAccuracyLastQuarter: mean('accuracy'),
      minSdm: Math.min(...rows.map((r) => r.sdm)),
    };
    if (engine instanceof EventDrivenEngine) {
      summary.requests = engine.stats.requests;
      summary.messagesLost = engine.stats.lost;
      summary.timeouts = engine.stats.timeouts;
    }
    return { experiment: 'slicing', parameters: describeParams(params), cycles: rows, summary };
  },
};

registerExperiment(slicingExperiment);
