import type { Experiment } from './experiment.js';

/**
 * All experiments `peercloud sim` can run, by name. Each module registers itself here; the suite
 * runs the paper reproductions among them.
 */
const registry = new Map<string, Experiment>();

export function registerExperiment(e: Experiment): void {
  if (registry.has(e.name)) throw new Error(`experiment ${e.name} registered twice`);
  registry.set(e.name, e);
}

export function getExperiment(name: string): Experiment | undefined {
  return registry.get(name);
}

export function listExperiments(): Experiment[] {
  return [...registry.values()];
}
