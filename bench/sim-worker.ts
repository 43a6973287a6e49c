/**
 * One benchmark configuration of `npm run bench -- sim`, run in its own process so that every
 * configuration starts from a fresh heap and its peak RSS is its own. Usage (internal):
 *   node --expose-gc dist/bench/sim-worker.js '<SimWorkerConfig as JSON>'
 * Prints one line of JSON (a SimWorkerResult) on stdout; progress goes to stderr.
 *
 * What is measured: process CPU time (user + system, all threads, so garbage collection counts) and
 * wall time between consecutive progress callbacks of the experiment, i.e. per simulated cycle
 * including its observers, excluding set-up (world creation, spawning, start topology), which is
 * reported separately as the time until the first callback.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import '../src/simulator/experiments/all.js';
import type { ExperimentParams } from '../src/simulator/experiments/experiment.js';
import { getExperiment } from '../src/simulator/experiments/index.js';
import { defaultWorld } from '../src/simulator/world.js';

export interface SimWorkerConfig {
  experiment: string;
  nodes: number;
  sampling: ExperimentParams['sampling'];
  view: number;
  /** Cycles to run (all of them timed). */
  cycles: number;
  seed: number;
}

export interface SimWorkerResult {
  config: SimWorkerConfig;
  /** Per timed cycle, in seconds. */
  cpuPerCycle: number[];
  wallPerCycle: number[];
  /** Time from the start of `run` to the first progress callback (cycle 0 observed). */
  setupWallS: number;
  setupCpuS: number;
  /** True when the experiment did not report cycle 0, so set-up also contains cycle 1. */
  setupIncludesFirstCycle: boolean;
  /** process.resourceUsage().maxRSS at the end, in MiB. */
  peakRssMB: number;
  /** Typed-array memory at the end (where the node state lives), in MiB. */
  arrayBuffersMB: number;
}

interface Mark {
  done: number;
  cpuUs: number;
  wallMs: number;
}

function cpuNowUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export function runWorker(config: SimWorkerConfig): SimWorkerResult {
  const experiment = getExperiment(config.experiment);
  if (!experiment) throw new Error(`experiment "${config.experiment}" is not registered (is src/simulator/experiments/${config.experiment}.ts in all.ts?)`);
  const d = { ...defaultWorld, cycles: config.cycles, options: {}, ...experiment.defaults };
  const params: ExperimentParams = {
    ...d,
    nodes: config.nodes,
    sampling: config.sampling,
    view: config.view,
    cycles: config.cycles,
    seed: config.seed,
    options: { ...d.options },
  };
  (globalThis as { gc?: () => void }).gc?.();
  const marks: Mark[] = [];
  const startCpu = cpuNowUs();
  const startWall = performance.now();
  experiment.run(params, (done) => {
    marks.push({ done, cpuUs: cpuNowUs(), wallMs: performance.now() });
    process.stderr.write(`  ${config.experiment} N=${config.nodes}: cycle ${done}/${config.cycles}\n`);
  });
  if (marks.length === 0) throw new Error(`experiment "${config.experiment}" never reported progress, so its cycles cannot be timed`);
  const cpuPerCycle: number[] = [];
  const wallPerCycle: number[] = [];
  for (let i = 1; i < marks.length; i++) {
    // An experiment that reports less often than every cycle: spread the interval over its cycles.
    const cycles = marks[i].done - marks[i - 1].done;
    if (cycles <= 0) continue;
    cpuPerCycle.push((marks[i].cpuUs - marks[i - 1].cpuUs) / 1e6 / cycles);
    wallPerCycle.push((marks[i].wallMs - marks[i - 1].wallMs) / 1e3 / cycles);
  }
  const mem = process.memoryUsage();
  return {
    config,
    cpuPerCycle,
    wallPerCycle,
    setupWallS: (marks[0].wallMs - startWall) / 1e3,
    setupCpuS: (marks[0].cpuUs - startCpu) / 1e6,
    setupIncludesFirstCycle: marks[0].done !== 0,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    arrayBuffersMB: mem.arrayBuffers / (1024 * 1024),
  };
}

// Run only as a script, not when imported (tests import the types and `runWorker`).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = JSON.parse(process.argv[2] ?? 'null') as SimWorkerConfig | null;
  if (!config) {
    process.stderr.write('usage: sim-worker.js <config JSON>\n');
    process.exit(2);
  }
  try {
    process.stdout.write(`${JSON.stringify(runWorker(config))}\n`);
  } catch (err) {
    process.stderr.write(`sim-worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
