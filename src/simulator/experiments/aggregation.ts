/**
 * Experiment `aggregation`: push-pull averaging as in Jelasity, Montresor, Babaoglu, "Gossip-based
 * aggregation in large dynamic networks", ACM TOCS 23(3), 2005 (§3, Fig. 3–5): the variance of the
 * values across nodes shrinks by about 1/(2·sqrt(e)) ≈ 0.303 per cycle when each node exchanges
 * with a uniformly random peer, and stays close to that over a gossiped (Newscast) or static sample.
 *
 * Initial values (`--opt init=`): `peak` (one node holds N, all others 0, the paper's worst case),
 * `uniform` (uniform in [0, 1)) or `linear` (node i holds i). Nodes that join later (churn) hold 0,
 * a fresh uniform value, or their index respectively.
 *
 * Summary: `meanFactor`, the geometric mean of the per-cycle factor variance(t)/variance(t−1), over
 * cycles 3..min(cycles, γ) (the first epoch; cycles 1 and 2 are skipped because from a peak the first
 * exchanges move the single non-zero value around rather than mixing, so the factor there is not the
 * asymptotic one) and only while variance(t) > 1e-25 × variance(0), above the floor where rounding
 * noise of the doubles dominates; `theoreticalFactor` = 1/(2·sqrt(e)).
 */
import { SeededRandom } from '../../core/random.js';
import { Aggregation } from '../../protocols/aggregation/aggregation.js';
import { defaultEpochLength } from '../../protocols/aggregation/config.js';
import { EventDrivenEngine } from '../engine/event-driven.js';
import type { Engine } from '../engine/engine.js';
import { type CycleRow, runCycles } from '../engine/engine.js';
import { AverageObserver } from '../observers/aggregation.js';
import { createWorld, startWorld } from '../world.js';
import { type Experiment, type ExperimentParams, type ExperimentResult, type Progress, describeParams, numberOption } from './experiment.js';
import { registerExperiment } from './index.js';

export const theoreticalFactor = 1 / (2 * Math.sqrt(Math.E));

/** Variance below this fraction of the initial variance is rounding noise, not convergence. */
const VARIANCE_FLOOR = 1e-25;
/** Per-cycle factors of the first cycles (from a peak) are not the asymptotic rate. */
const FIRST_FACTOR_CYCLE = 3;

const initKinds = ['peak', 'uniform', 'linear'] as const;
type InitKind = (typeof initKinds)[number];

export const isPositiveInteger = (v: number): boolean => Number.isInteger(v) && v >= 1;

/** Rejects options the experiment does not know (`out` is set by the CLI for --out). */
export function rejectUnknownOptions(params: ExperimentParams, experiment: string, known: readonly string[]): void {
  for (const key of Object.keys(params.options)) {
    if (key !== 'out' && !known.includes(key)) {
      throw new RangeError(`option ${key} is not known to the ${experiment} experiment (known: ${known.join(', ')})`);
    }
  }
}

/** The epoch length γ from `--opt epoch=`, default 30. */
export function epochOption(params: ExperimentParams): number {
  return numberOption(params, 'epoch', defaultEpochLength, (v) => isPositiveInteger(v) && v <= 1_000_000);
}

/** Message statistics of the event-driven engine, for the summary (empty in cycle mode). */
export function engineStats(engine: Engine): Record<string, number> {
  if (!(engine instanceof EventDrivenEngine)) return {};
  return { requests: engine.stats.requests, messagesLost: engine.stats.lost, timeouts: engine.stats.timeouts };
}

/** A number per node handle, growing with the population (inputs of simulated nodes). */
export class NodeValues {
  private values = new Float64Array(1024);
  get(h: number): number {
    return h < this.values.length ? this.values[h] : 0;
  }
  set(h: number, v: number): void {
    if (h >= this.values.length) {
      let size = this.values.length;
      while (size <= h) size *= 2;
      const grown = new Float64Array(size);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[h] = v;
  }
}

/** Geometric mean of factor(t) over cycles FIRST_FACTOR_CYCLE..lastCycle above the variance floor. */
export function meanVarianceFactor(rows: readonly CycleRow[], lastCycle: number): number | null {
  const v0 = rows[0]?.variance;
  if (!(typeof v0 === 'number' && v0 > 0)) return null;
  let logSum = 0;
  let count = 0;
  for (let t = FIRST_FACTOR_CYCLE; t <= lastCycle && t < rows.length; t++) {
    const v = rows[t].variance;
    const previous = rows[t - 1].variance;
    if (!(v > VARIANCE_FLOOR * v0 && previous > 0)) break;
    logSum += Math.log(v / previous);
    count++;
  }
  return count > 0 ? Math.exp(logSum / count) : null;
}

const aggregationOptions: Record<string, string> = {
  init: 'initial values: peak (one node N, others 0; default), uniform in [0,1), or linear (node i holds i)',
  epoch: `epoch length γ in cycles (the computation restarts every γ cycles); default ${defaultEpochLength}`,
};

export const aggregationExperiment: Experiment = {
  name: 'aggregation',
  description: 'push-pull averaging (Jelasity et al. TOCS 2005): variance reduction per cycle vs 1/(2·sqrt(e))',
  defaults: { cycles: 30 },
  optionHelp: aggregationOptions,
  run(params: ExperimentParams, progress?: Progress): ExperimentResult {
    rejectUnknownOptions(params, 'aggregation', Object.keys(aggregationOptions));
    const init = (params.options.init ?? 'peak') as InitKind;
    if (!initKinds.includes(init)) throw new RangeError(`option init=${init} is not valid: expected one of ${initKinds.join(', ')}`);
    const gamma = epochOption(params);

    const world = createWorld(params);
    const sim = world.sim;
    // Own random streams, derived from the seed, so the values do not depend on other components' draws.
    const valueRng = new SeededRandom(`${params.seed}/aggregation-values`);
    const inputs = new NodeValues();
    let first = -1;
    sim.onJoin((_s, node) => {
      if (first < 0) first = node;
      inputs.set(node, init === 'peak' ? (node === first ? params.nodes : 0) : init === 'uniform' ? valueRng.next() : node);
    });
    const protocol = sim.addProtocol(
      new Aggregation(
        { epochLength: gamma, attributes: [{ name: 'value', input: (h) => inputs.get(h), aggregates: ['average'] }], count: null },
        world.peers,
        new SeededRandom(`${params.seed}/aggregation`),
      ),
    );
    sim.observers.push(new AverageObserver(protocol, 'value'));
    const engine = startWorld(world);
    let trueAverage = 0;
    const live = sim.population.live();
    for (let i = 0; i < live.length; i++) {
      protocol.beginFirstEpoch(live[i]);
      trueAverage += inputs.get(live[i]);
    }
    trueAverage /= live.length;
    const rows = runCycles(engine, params.cycles, (row) => progress?.(row.cycle, params.cycles, row));

    const last = rows[rows.length - 1];
    const summary: ExperimentResult['summary'] = {
      init,
      epoch: gamma,
      meanFactor: meanVarianceFactor(rows, Math.min(params.cycles, gamma)),
      theoreticalFactor,
      initialVariance: rows[0].variance ?? null,
      finalVariance: last.variance ?? null,
      trueAverage,
      estimateMin: last.estimateMin ?? null,
      estimateMax: last.estimateMax ?? null,
      errorMax: last.estimateMin === undefined ? null : Math.max(Math.abs(last.estimateMax - trueAverage), Math.abs(last.estimateMin - trueAverage)),
      participants: last.participants,
      liveNodes: last.liveNodes,
      ...engineStats(engine),
    };
    return { experiment: 'aggregation', parameters: describeParams(params), cycles: rows, summary };
  },
};

registerExperiment(aggregationExperiment);
