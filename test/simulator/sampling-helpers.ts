/** Shared by the peer sampling experiment tests. */
import type { ExperimentParams, ExperimentResult } from '../../src/simulator/experiments/experiment.js';
import { samplingExperiment } from '../../src/simulator/experiments/sampling.js';
import { defaultWorld } from '../../src/simulator/world.js';

/**
 * Runs the `sampling` experiment at 10^4 nodes (the paper-reproduction size of the tests) with the
 * clustering coefficient averaged over every node, so comparisons are not blurred by sampling.
 */
export function runSampling(overrides: Partial<ExperimentParams>): ExperimentResult {
  const params: ExperimentParams = {
    ...defaultWorld,
    nodes: 10_000,
    cycles: 50,
    seed: 1,
    options: { clusteringSample: '10000', observeEvery: '5' },
    ...overrides,
  };
  return samplingExperiment.run(params);
}

/** The summary's numeric field, failing loudly if it is missing. */
export function num(result: ExperimentResult, key: string): number {
  const v = result.summary[key];
  if (typeof v !== 'number') throw new Error(`summary.${key} is ${String(v)}, not a number`);
  return v;
}
