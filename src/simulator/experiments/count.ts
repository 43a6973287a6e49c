/**
 * Experiment `count`: network size estimation by averaging (Jelasity, Montresor, Babaoglu,
 * "Gossip-based aggregation in large dynamic networks", ACM TOCS 23(3), 2005, §4.2–4.3, §7): COUNT
 * instances started by leaders at 1 (all others 0) converge to 1/N, so every node estimates N̂ = 1/v
 * (k instances pooled: k / Σ v_i). The paper reports every node within a fraction of a percent of N
 * after about 30 cycles at 10^5..10^6 nodes.
 *
 * The first epoch starts with exactly C leaders chosen at random (as a preceding epoch's election
 * would have produced on average); in later epochs every node volunteers with probability C/N̂ using
 * the estimate it published at the end of the previous epoch, or one it heard from a peer. Nodes
 * that joined during the first epoch have neither, and use the configured initial guess, by default
 * the set-up size (the daemon's default of 1 would make each of them a leader: harmless, since only
 * the K smallest keys survive, but it fills every message with K instances).
 *
 * Metrics per cycle: see CountObserver (variance, factor, estimateMin/Max/Mean, countMin, countMax,
 * countUnknown, relativeErrorMax, instancesMax, publishedMin/Max, participants, liveNodes). The
 * estimates are the current in-epoch ones, so convergence within an epoch is visible cycle by cycle.
 * Summary: the final countMin, countMax, relativeErrorMax and `cyclesToWithin0.1pct`, the first cycle
 * at which every participating live node's N̂ is within ±0.1% of the number of live nodes (null if
 * never).
 */
import { SeededRandom } from '../../core/random.js';
import { Aggregation } from '../../protocols/aggregation/aggregation.js';
import { MAX_INSTANCES, countConfig } from '../../protocols/aggregation/config.js';
import { runCycles } from '../engine/engine.js';
import { CountObserver } from '../observers/aggregation.js';
import { createWorld, startWorld } from '../world.js';
import { engineStats, epochOption, isPositiveInteger, rejectUnknownOptions } from './aggregation.js';
import { type Experiment, type ExperimentParams, type ExperimentResult, type Progress, describeParams, numberOption } from './experiment.js';
import { registerExperiment } from './index.js';

const TOLERANCE = 0.001;

const countOptions: Record<string, string> = {
  instances: 'C, the number of COUNT leaders targeted per epoch (integer); default 1',
  epoch: 'epoch length γ in cycles; default 30',
  maxInstances: 'K, COUNT instances a node keeps (the smallest keys); default max(4, 2C)',
  initialEstimate: 'N̂ a node that knows no estimate at all uses for the leader election; default --nodes',
};

export const countExperiment: Experiment = {
  name: 'count',
  description: 'network size estimation (COUNT) by gossip averaging with epochs and leader election (TOCS 2005)',
  defaults: { cycles: 30 },
  optionHelp: countOptions,
  run(params: ExperimentParams, progress?: Progress): ExperimentResult {
    rejectUnknownOptions(params, 'count', Object.keys(countOptions));
    const leaders = numberOption(params, 'instances', 1, (v) => isPositiveInteger(v) && v <= MAX_INSTANCES);
    const gamma = epochOption(params);
    const maxInstances = numberOption(params, 'maxInstances', countConfig({ leaders }).maxInstances, (v) => isPositiveInteger(v) && v <= MAX_INSTANCES);
    if (maxInstances < leaders) throw new RangeError(`option maxInstances=${maxInstances} is below instances=${leaders}`);
    const initialEstimate = numberOption(params, 'initialEstimate', params.nodes, (v) => v >= 1);

    const world = createWorld(params);
    const sim = world.sim;
    const protocol = sim.addProtocol(
      new Aggregation(
        { epochLength: gamma, attributes: [], count: countConfig({ leaders, maxInstances, initialEstimate }) },
        world.peers,
        new SeededRandom(`${params.seed}/aggregation`),
      ),
    );
    sim.observers.push(new CountObserver(protocol));
    const engine = startWorld(world);
    const live = sim.population.live();
    // Exactly C distinct first-epoch leaders: a partial Fisher–Yates over the live handles.
    const order = Int32Array.from(live);
    const pick = new SeededRandom(`${params.seed}/count-leaders`);
    const firstLeaders = Math.min(leaders, order.length);
    for (let i = 0; i < firstLeaders; i++) {
      const j = i + pick.int(order.length - i);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (let i = 0; i < order.length; i++) protocol.beginFirstEpoch(order[i], i < firstLeaders);
    const rows = runCycles(engine, params.cycles, (row) => progress?.(row.cycle, params.cycles, row));

    const last = rows[rows.length - 1];
    const within = rows.find((r) => r.cycle > 0 && r.participants > 0 && r.relativeErrorMax <= TOLERANCE);
    const summary: ExperimentResult['summary'] = {
      instances: leaders,
      epoch: gamma,
      liveNodes: last.liveNodes,
      countMin: last.countMin ?? null,
      countMax: last.countMax ?? null,
      relativeErrorMax: Number.isFinite(last.relativeErrorMax) ? last.relativeErrorMax : null,
      'cyclesToWithin0.1pct': within ? within.cycle : null,
      publishedMin: last.publishedMin ?? null,
      publishedMax: last.publishedMax ?? null,
      ...engineStats(engine),
    };
    return { experiment: 'count', parameters: describeParams(params), cycles: rows, summary };
  },
};

registerExperiment(countExperiment);
