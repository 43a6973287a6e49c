/**
 * Experiment `sampling`: the overlay built by the peer sampling service, as studied by Jelasity,
 * Voulgaris, Guerraoui, Kermarrec and van Steen, "Gossip-based peer sampling", ACM TOCS 25(3),
 * 2007 (§5 graph properties from random, lattice and growing-star starts; §6 robustness: sudden
 * death, churn, dead links), for Newscast (rand, healer, pushpull) and Cyclon (Voulgaris, Gavidia,
 * van Steen, JNSM 13(2), 2005).
 *
 * Per cycle: in-degree mean / std-dev / max, largest cluster, partitions, dead links, and every
 * `observeEvery` cycles the clustering coefficient and average path length next to a random graph's.
 */
import { EventDrivenEngine } from '../engine/event-driven.js';
import { type CycleRow, runCycles } from '../engine/engine.js';
import { OverlayObserver, defaultOverlayMeasure } from '../observers/graph.js';
import { createWorld, startWorld } from '../world.js';
import { type Experiment, type ExperimentParams, type ExperimentResult, type Progress, describeParams, numberOption } from './experiment.js';
import { registerExperiment } from './index.js';

const isPositiveInteger = (v: number): boolean => Number.isInteger(v) && v >= 1;

/** Fields copied from the last row into the summary (the full-observation ones from the last full row). */
const FINAL_FIELDS = [
  'liveNodes',
  'inDegreeMean',
  'inDegreeStdDev',
  'inDegreeMax',
  'largestCluster',
  'largestClusterNodes',
  'partitions',
  'deadLinks',
  'deadLinksFraction',
] as const;
const FULL_FIELDS = ['clustering', 'pathLength', 'undirectedDegreeMean', 'randomGraphClustering', 'randomGraphPathLength'] as const;

export const samplingExperiment: Experiment = {
  name: 'sampling',
  description: 'peer sampling overlay (newscast/cyclon): in-degree, clustering, path length, connectivity, dead links',
  defaults: { cycles: 50 },
  optionHelp: {
    observeEvery: 'clustering and path length every k cycles (and at the last cycle); default 1',
    clusteringSample: `nodes sampled for the clustering coefficient; default ${defaultOverlayMeasure.clusteringSample}`,
    pathSources: `BFS sources for the average path length; default ${defaultOverlayMeasure.pathSources}`,
  },
  run(params: ExperimentParams, progress?: Progress): ExperimentResult {
    if (params.sampling !== 'newscast' && params.sampling !== 'cyclon') {
      throw new RangeError(`the sampling experiment observes a gossiped overlay: --sampling must be newscast or cyclon, got ${params.sampling}`);
    }
    const observeEvery = numberOption(params, 'observeEvery', 1, isPositiveInteger);
    const clusteringSample = numberOption(params, 'clusteringSample', defaultOverlayMeasure.clusteringSample, isPositiveInteger);
    const pathSources = numberOption(params, 'pathSources', defaultOverlayMeasure.pathSources, isPositiveInteger);

    const world = createWorld(params);
    const sampling = world.sampling!;
    world.sim.observers.push(
      new OverlayObserver(sampling.views, { seed: params.seed, observeEvery, finalCycle: params.cycles, clusteringSample, pathSources }),
    );
    const engine = startWorld(world);
    const rows = runCycles(engine, params.cycles, (row) => progress?.(row.cycle, params.cycles, row));

    const summary: ExperimentResult['summary'] = { protocol: params.sampling };
    const last = rows[rows.length - 1];
    for (const k of FINAL_FIELDS) summary[k] = last[k] ?? null;
    const lastFull = [...rows].reverse().find((r) => r.pathLength !== undefined);
    for (const k of FULL_FIELDS) summary[k] = lastFull?.[k] ?? null;
    Object.assign(summary, afterKills(rows, params));
    const tail = rows.slice(Math.floor(rows.length / 2));
    summary.deadLinksFractionSecondHalf = tail.reduce((s, r) => s + r.deadLinksFraction, 0) / tail.length;
    if (engine instanceof EventDrivenEngine) {
      summary.requests = engine.stats.requests;
      summary.messagesLost = engine.stats.lost;
      summary.timeouts = engine.stats.timeouts;
    }
    return { experiment: 'sampling', parameters: describeParams(params), cycles: rows, summary };
  },
};

/**
 * Recovery after the last sudden death (the robustness study of TOCS 2007, §6). A kill "at cycle k"
 * happens just before cycle k runs, so row k is the last state before it and row k+1 the first after.
 */
function afterKills(rows: CycleRow[], params: ExperimentParams): Record<string, number | boolean | null> {
  const kills = params.kills.filter((k) => k.fraction > 0 && k.cycle < params.cycles);
  if (kills.length === 0) {
    return { cyclesToPurgeDeadLinks: null, cyclesToDeadLinksBelow1Percent: null, survivorsConnected: null, worstLargestClusterAfterKill: null };
  }
  const killCycle = Math.max(...kills.map((k) => k.cycle));
  const after = rows.filter((r) => r.cycle > killCycle);
  const purged = after.find((r) => r.deadLinks === 0);
  // The last few dead links linger longest (exponential decay has a long tail in absolute numbers),
  // so the time to fall below 1% is reported as well: it hardly depends on the network size.
  const mostly = after.find((r) => r.deadLinksFraction < 0.01);
  return {
    /** Cycles run after the kill until no live view holds a dead node (null: never within the run). */
    cyclesToPurgeDeadLinks: purged ? purged.cycle - killCycle : null,
    cyclesToDeadLinksBelow1Percent: mostly ? mostly.cycle - killCycle : null,
    /** The survivors formed a single cluster in every cycle after the kill. */
    survivorsConnected: after.every((r) => r.partitions === 1),
    worstLargestClusterAfterKill: Math.min(...after.map((r) => r.largestCluster)),
  };
}

registerExperiment(samplingExperiment);
