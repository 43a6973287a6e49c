import type { Control, Simulation } from '../simulation.js';

/**
 * Scenario controls: they change who is in the network between cycles. Joining nodes get their
 * contacts through the simulation's join hooks, exactly like nodes present at the start.
 */

/** Kills `fraction` of the live nodes, chosen uniformly, just before cycle `atCycle`. */
export class SuddenDeath implements Control {
  readonly name = 'sudden-death';
  constructor(
    readonly fraction: number,
    readonly atCycle: number,
  ) {
    if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`kill fraction must be in [0, 1], got ${fraction}`);
    if (!Number.isInteger(atCycle) || atCycle < 0) throw new RangeError(`kill cycle must be a non-negative integer, got ${atCycle}`);
  }
  beforeCycle(sim: Simulation, cycle: number): void {
    if (cycle !== this.atCycle) return;
    killRandom(sim, Math.round(sim.population.size * this.fraction));
  }
}

/** Steady churn: each cycle, `rate` of the nodes leave (crash) and as many new nodes join. */
export class Churn implements Control {
  readonly name = 'churn';
  private debt = 0;
  constructor(
    readonly rate: number,
    readonly fromCycle = 0,
  ) {
    if (!(rate >= 0 && rate < 1)) throw new RangeError(`churn rate must be in [0, 1), got ${rate}`);
  }
  beforeCycle(sim: Simulation, cycle: number): void {
    if (cycle < this.fromCycle || this.rate === 0) return;
    // Carry fractional nodes over so that small networks still see the configured average rate.
    this.debt += sim.population.size * this.rate;
    const k = Math.floor(this.debt);
    this.debt -= k;
    killRandom(sim, k);
    for (let i = 0; i < k; i++) sim.spawn();
  }
}

/** Growing network: `perCycle` nodes join each cycle until `target` are live. */
export class Growth implements Control {
  readonly name = 'growth';
  constructor(
    readonly perCycle: number,
    readonly target: number,
  ) {
    if (!Number.isInteger(perCycle) || perCycle < 1) throw new RangeError(`growth per cycle must be a positive integer, got ${perCycle}`);
  }
  beforeCycle(sim: Simulation): void {
    const k = Math.min(this.perCycle, this.target - sim.population.size);
    for (let i = 0; i < k; i++) sim.spawn();
  }
}

/**
 * Size oscillation (Jelasity et al. TOCS 2005, §7): the network size follows a sine between
 * `min` and `max` nodes with a period of `period` cycles; nodes leave by crashing.
 */
export class Oscillation implements Control {
  readonly name = 'oscillation';
  constructor(
    readonly min: number,
    readonly max: number,
    readonly period: number,
  ) {
    if (!(min >= 1 && max >= min)) throw new RangeError(`oscillation needs 1 <= min <= max, got ${min}..${max}`);
    if (!(period >= 2)) throw new RangeError(`oscillation period must be at least 2 cycles, got ${period}`);
  }
  beforeCycle(sim: Simulation, cycle: number): void {
    const mid = (this.min + this.max) / 2;
    const amp = (this.max - this.min) / 2;
    const target = Math.round(mid + amp * Math.sin((2 * Math.PI * cycle) / this.period));
    const size = sim.population.size;
    if (target > size) for (let i = size; i < target; i++) sim.spawn();
    else if (target < size) killRandom(sim, size - target);
  }
}

/** Kills `count` distinct uniformly chosen live nodes. */
export function killRandom(sim: Simulation, count: number): void {
  const k = Math.min(count, sim.population.size);
  for (let i = 0; i < k; i++) sim.kill(sim.population.randomLive(sim.rng));
}
