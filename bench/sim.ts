/**
 * `npm run bench -- sim`: simulator speed and memory against PeerSim's published budget, on the
 * configurations PeerSim's documentation quotes. Each configuration runs in a child process (see
 * sim-worker.ts) one after the other, never in parallel, so CPU and RSS figures are not shared.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatTable } from '../src/cli/output.js';
import { type Benchmark, integerOption, median, parseBenchArgs } from './benchmark.js';
import type { SimWorkerConfig, SimWorkerResult } from './sim-worker.js';

export interface SimBenchConfig {
  id: string;
  label: string;
  experiment: 'count' | 'aggregation';
  sampling: 'newscast' | 'static';
  view: number;
  nodes: number;
  /** PeerSim's figures for the same configuration: CPU seconds per cycle and memory. */
  reference: { cpuMinS: number; cpuMaxS: number; rssMB: number; text: string };
}

export const simBenchConfigs: readonly SimBenchConfig[] = [
  {
    id: 'newscast-count-1e5',
    label: 'Newscast c=30 + COUNT',
    experiment: 'count',
    sampling: 'newscast',
    view: 30,
    nodes: 100_000,
    reference: { cpuMinS: 0.6, cpuMaxS: 1.0, rssMB: 105, text: '0.6-1.0 s, ~105 MB' },
  },
  {
    id: 'newscast-count-1e6',
    label: 'Newscast c=30 + COUNT',
    experiment: 'count',
    sampling: 'newscast',
    view: 30,
    nodes: 1_000_000,
    reference: { cpuMinS: 8, cpuMaxS: 12, rssMB: 556, text: '8-12 s, 556 MB' },
  },
  {
    id: 'static20-avg-1e6',
    label: 'static 20-out + averaging',
    experiment: 'aggregation',
    sampling: 'static',
    view: 20,
    nodes: 1_000_000,
    reference: { cpuMinS: 1.7, cpuMaxS: 1.7, rssMB: 482, text: '~1.7 s, 482 MB' },
  },
];

export interface SimBenchRow {
  id: string;
  configuration: string;
  experiment: string;
  sampling: string;
  view: number;
  nodes: number;
  cyclesTimed: number;
  cpuPerCycleMedianS: number;
  wallPerCycleMedianS: number;
  cpuPerCycleS: number[];
  wallPerCycleS: number[];
  peakRssMB: number;
  arrayBuffersMB: number;
  setupS: number;
  setupCpuS: number;
  setupIncludesFirstCycle: boolean;
  reference: string;
  /** `meets` when median CPU/cycle and peak RSS are both within PeerSim's figures. */
  verdict: string;
}

const usage = 'sim [--cycles K] [--only 1e5,static20-avg-1e6] [--nodes N] [--seed S] [--json]';

export const simBenchmark: Benchmark = {
  name: 'sim',
  description: 'simulator CPU/cycle and peak RSS vs PeerSim (Newscast+COUNT at 10^5 and 10^6, static 20-out averaging at 10^6)',
  usage,
  main: runSimBench,
};

interface SimBenchOptions {
  help: boolean;
  cycles: number;
  only: string[] | null;
  nodes: number | null;
  seed: number;
  json: boolean;
}

export function parseSimBenchArgs(args: string[]): SimBenchOptions {
  const values = parseBenchArgs(
    args,
    {
      cycles: { type: 'string' },
      only: { type: 'string' },
      nodes: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    usage,
  );
  const int = integerOption;
  return {
    help: values.help === true,
    cycles: int('cycles', values.cycles, 5, 1, 1000),
    only: values.only === undefined ? null : values.only.split(',').map((t) => t.trim()).filter((t) => t.length > 0),
    nodes: values.nodes === undefined ? null : int('nodes', values.nodes, 0, 100, 10_000_000),
    seed: int('seed', values.seed, 1, 0, 0xffffffff),
    json: values.json === true,
  };
}

/**
 * Configurations selected by `--only`: each token is a node count ("1e5", "1000000") or part of a
 * configuration id ("static"); a token that selects nothing is an error, not an empty run.
 */
export function selectConfigs(only: string[] | null): SimBenchConfig[] {
  if (only === null) return [...simBenchConfigs];
  const chosen = new Set<SimBenchConfig>();
  for (const token of only) {
    const n = Number(token);
    const hits = simBenchConfigs.filter((c) => (Number.isFinite(n) ? c.nodes === n : c.id.includes(token)));
    if (hits.length === 0) throw new RangeError(`--only ${token} matches no configuration (have: ${simBenchConfigs.map((c) => c.id).join(', ')})`);
    for (const h of hits) chosen.add(h);
  }
  return simBenchConfigs.filter((c) => chosen.has(c));
}

const workerPath = fileURLToPath(new URL('./sim-worker.js', import.meta.url));

/** Runs one configuration in a fresh `node --expose-gc` process. */
export function runInChild(config: SimWorkerConfig, timeoutMs = 20 * 60_000, quiet = false): Promise<SimWorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', workerPath, JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`benchmark worker for ${config.experiment} N=${config.nodes} failed (${signal ? `signal ${signal}${signal === 'SIGKILL' ? ', timed out or out of memory' : ''}` : `exit code ${code}`})`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim()) as SimWorkerResult);
      } catch {
        reject(new Error(`benchmark worker printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

export function benchRow(config: SimBenchConfig, r: SimWorkerResult): SimBenchRow {
  const cpu = median(r.cpuPerCycle);
  const wall = median(r.wallPerCycle);
  let verdict: string;
  if (r.config.nodes !== config.nodes) verdict = 'n/a (not the reference size)';
  else if (r.cpuPerCycle.length === 0) verdict = 'n/a (no cycle timed)';
  else {
    const misses: string[] = [];
    if (cpu > config.reference.cpuMaxS) misses.push('CPU');
    if (r.peakRssMB > config.reference.rssMB) misses.push('RSS');
    verdict = misses.length === 0 ? 'meets' : `misses (${misses.join(', ')})`;
  }
  return {
    id: config.id,
    configuration: config.label,
    experiment: config.experiment,
    sampling: config.sampling,
    view: config.view,
    nodes: r.config.nodes,
    cyclesTimed: r.cpuPerCycle.length,
    cpuPerCycleMedianS: cpu,
    wallPerCycleMedianS: wall,
    cpuPerCycleS: r.cpuPerCycle,
    wallPerCycleS: r.wallPerCycle,
    peakRssMB: r.peakRssMB,
    arrayBuffersMB: r.arrayBuffersMB,
    setupS: r.setupWallS,
    setupCpuS: r.setupCpuS,
    setupIncludesFirstCycle: r.setupIncludesFirstCycle,
    reference: config.reference.text,
    verdict,
  };
}

export function formatBenchTable(rows: readonly SimBenchRow[]): string {
  const fixed = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
  return formatTable(
    ['configuration', 'nodes', 'cycles timed', 'CPU s/cycle (median)', 'wall s/cycle', 'peak RSS MB', 'setup s', 'PeerSim reference', 'verdict'],
    rows.map((r) => [
      r.configuration,
      r.nodes.toExponential(0).replace('+', ''),
      String(r.cyclesTimed),
      fixed(r.cpuPerCycleMedianS, 3),
      fixed(r.wallPerCycleMedianS, 3),
      fixed(r.peakRssMB, 0),
      `${fixed(r.setupS, 2)}${r.setupIncludesFirstCycle ? '*' : ''}`,
      r.reference,
      r.verdict,
    ]),
  );
}

async function runSimBench(args: string[]): Promise<number> {
  const opts = parseSimBenchArgs(args);
  if (opts.help) {
    process.stdout.write(`usage: npm run bench -- ${usage}\n\nconfigurations:\n${simBenchConfigs.map((c) => `  ${c.id.padEnd(20)} ${c.label}, N=${c.nodes}, PeerSim: ${c.reference.text}`).join('\n')}\n`);
    return 0;
  }
  const configs = selectConfigs(opts.only);
  const rows: SimBenchRow[] = [];
  for (const config of configs) {
    const nodes = opts.nodes ?? config.nodes;
    process.stderr.write(`bench sim: ${config.id} (${config.label}, N=${nodes}, ${opts.cycles} cycles) in a fresh process\n`);
    const result = await runInChild({ experiment: config.experiment, nodes, sampling: config.sampling, view: config.view, cycles: opts.cycles, seed: opts.seed }, undefined, opts.json);
    rows.push(benchRow(config, result));
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ benchmark: 'sim', cycles: opts.cycles, seed: opts.seed, node: process.version, rows }, null, 2)}\n`);
  } else {
    process.stdout.write(`${formatBenchTable(rows)}\n`);
    if (rows.some((r) => r.setupIncludesFirstCycle)) process.stdout.write('* the experiment does not report cycle 0, so set-up includes the first cycle\n');
    process.stdout.write('CPU: user+system time of the process (all threads) per cycle incl. observers; RSS: maxRSS at exit.\n');
  }
  return 0;
}
