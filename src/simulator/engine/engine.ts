import type { Simulation } from '../simulation.js';

/** One row of observations: the cycle number and every observer's metrics. */
export type CycleRow = { cycle: number } & Record<string, number>;

/** Drives a Simulation cycle by cycle; the two implementations differ in how exchanges happen. */
export interface Engine {
  readonly sim: Simulation;
  readonly mode: 'cycle' | 'event';
  /** Observes the initial state (cycle 0) without running anything. */
  observe(): CycleRow;
  /** Runs controls, one cycle of every node's active steps, then observers. */
  runCycle(): CycleRow;
}

export function observeAll(sim: Simulation): CycleRow {
  const row: CycleRow = { cycle: sim.cycle };
  for (const o of sim.observers) Object.assign(row, o.observe(sim, sim.cycle));
  return row;
}

/** Runs `cycles` cycles, returning cycle 0 (initial state) plus one row per cycle. */
export function runCycles(engine: Engine, cycles: number, onCycle?: (row: CycleRow) => void): CycleRow[] {
  const rows: CycleRow[] = [engine.observe()];
  onCycle?.(rows[0]);
  for (let i = 0; i < cycles; i++) {
    const row = engine.runCycle();
    rows.push(row);
    onCycle?.(row);
  }
  return rows;
}
