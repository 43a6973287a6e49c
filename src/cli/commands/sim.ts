import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { ExperimentParams, ExperimentResult } from '../../simulator/experiments/experiment.js';
import { getExperiment, listExperiments } from '../../simulator/experiments/index.js';
import '../../simulator/experiments/all.js';
import { parseLatency } from '../../simulator/network.js';
import { defaultWorld } from '../../simulator/world.js';
import { formatTable } from '../output.js';
import { parseChoice, parseFraction, parseInteger, parseKill, parseOption, parseOscillation } from '../parse.js';
import { writeResultFiles } from '../../simulator/report/files.js';

export function simCommand(): Command {
  const cmd = new Command('sim')
    .description('Run a gossip protocol experiment in the deterministic simulator (same seed, same output)')
    .argument('<experiment>', 'experiment to run (see the list below)')
    .option('-n, --nodes <N>', 'number of nodes', parseInteger('--nodes', 2, 10_000_000))
    .option('-c, --cycles <C>', 'number of cycles to run', parseInteger('--cycles', 1, 100_000))
    .option('-s, --seed <S>', 'random seed (number or text)', String(defaultWorld.seed))
    .addOption(new Option('--sampling <protocol>', 'peer sampling: newscast, cyclon, static (fixed random k-out graph) or complete (ideal uniform sampling)').choices(['newscast', 'cyclon', 'static', 'complete']))
    .option('--view <c>', 'view size c (out-degree for --sampling static)', parseInteger('--view', 2, 255))
    .option('--shuffle-length <l>', 'Cyclon shuffle length l', parseInteger('--shuffle-length', 1, 255))
    .addOption(new Option('--start <topology>', 'initial overlay').choices(['random', 'lattice', 'star']))
    .option('--grow <K>', 'start from one node and add K nodes per cycle up to --nodes', parseInteger('--grow', 1))
    .addOption(new Option('--mode <mode>', 'cycle-driven (atomic exchanges) or event-driven (latency, loss, reordering)').choices(['cycle', 'event']))
    .option('--period <ms>', 'event mode: cycle length Δ in ms', parseInteger('--period', 1))
    .option('--latency <spec>', 'event mode: one-way latency in ms: 50, 10-100 (uniform) or exp:50', (t) => parseLatency(t))
    .option('--loss <p>', 'symmetric loss: an exchange is lost as a whole (neither side updates); same as --request-loss', parseFraction('--loss'))
    .option('--request-loss <p>', 'loss probability of requests (the peer never hears of the exchange)', parseFraction('--request-loss'))
    .option('--response-loss <p>', 'asymmetric loss: the reply is lost after the peer has updated', parseFraction('--response-loss'))
    .option('--churn <rate>', 'fraction of nodes replaced per cycle, e.g. 1%', parseFraction('--churn', false))
    .option('--kill <fraction@cycle>', 'sudden death of a fraction of nodes before a cycle, e.g. 50%@30 (repeatable)', parseKill)
    .option('--oscillate <min:max:period>', 'network size oscillates between min and max nodes', parseOscillation)
    .option('--opt <key=value>', 'experiment-specific option (repeatable; see below)', parseOption)
    .option('--out <dir>', 'write result.json, cycles.csv and plots (SVG) to this directory')
    .option('--json', 'print one JSON document (parameters, cycles, summary) to stdout')
    .option('-q, --quiet', 'no progress output on stderr')
    .action((name: string, opts: Record<string, unknown>) => runSim(name, opts));
  cmd.addHelpText('after', () => {
    const lines = ['', 'Experiments:'];
    for (const e of listExperiments()) {
      lines.push(`  ${e.name.padEnd(12)} ${e.description}`);
      for (const [k, v] of Object.entries(e.optionHelp ?? {})) lines.push(`  ${''.padEnd(12)}   --opt ${k}: ${v}`);
    }
    lines.push('', 'Examples:', '  peercloud sim aggregation --nodes 10000 --cycles 30 --seed 7', '  peercloud sim sampling --start star --kill 50%@40 --cycles 80 --json', '  peercloud sim suite --out report/');
    return lines.join('\n');
  });
  return cmd;
}

async function runSim(name: string, opts: Record<string, unknown>): Promise<void> {
  const experiment = getExperiment(name);
  if (!experiment) {
    const known = listExperiments().map((e) => e.name).join(', ');
    throw new UsageError(`unknown experiment "${name}"; choose one of: ${known}`);
  }
  const loss = opts.loss as number | undefined;
  const d = { ...defaultWorld, cycles: 50, options: {}, ...experiment.defaults };
  const params: ExperimentParams = {
    ...d,
    nodes: (opts.nodes as number) ?? d.nodes,
    cycles: (opts.cycles as number) ?? d.cycles,
    seed: normalizeSeed(opts.seed as string),
    sampling: (opts.sampling as ExperimentParams['sampling']) ?? d.sampling,
    view: (opts.view as number) ?? d.view,
    shuffleLength: (opts.shuffleLength as number) ?? d.shuffleLength,
    start: (opts.start as ExperimentParams['start']) ?? d.start,
    growth: (opts.grow as number) ?? d.growth,
    mode: (opts.mode as ExperimentParams['mode']) ?? d.mode,
    periodMs: (opts.period as number) ?? d.periodMs,
    latency: (opts.latency as ExperimentParams['latency']) ?? d.latency,
    requestLoss: (opts.requestLoss as number) ?? loss ?? d.requestLoss,
    responseLoss: (opts.responseLoss as number) ?? d.responseLoss,
    churn: (opts.churn as number) ?? d.churn,
    kills: (opts.kill as ExperimentParams['kills']) ?? d.kills,
    oscillation: (opts.oscillate as ExperimentParams['oscillation']) ?? d.oscillation,
    options: { ...d.options, ...((opts.opt as Record<string, string>) ?? {}) },
  };
  for (const k of params.kills) {
    if (k.cycle > params.cycles) throw new UsageError(`--kill at cycle ${k.cycle} is after the last cycle (${params.cycles})`);
  }
  if (opts.out) params.options.out ??= resolve(String(opts.out));
  const quiet = Boolean(opts.quiet);
  const started = Date.now();
  let lastReport = 0;
  let lastStage: string | undefined;
  const result = experiment.run(params, (done, total, row, stage) => {
    if (quiet) return;
    const now = Date.now();
    if (now - lastReport < 1000 && done !== total && stage === lastStage) return;
    lastReport = now;
    lastStage = stage;
    const shown = Object.entries(row)
      .filter(([k]) => k !== 'cycle')
      .slice(0, 3)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toPrecision(4) : v}`)
      .join(' ');
    process.stderr.write(`[${name}${stage ? ` ${stage}` : ''}] cycle ${done}/${total} (${((now - started) / 1000).toFixed(1)} s) ${shown}\n`);
  });
  if (opts.out) {
    const dir = resolve(String(opts.out));
    mkdirSync(dir, { recursive: true });
    const files = await (experiment.report ? experiment.report(result, dir) : writeResultFiles(result, dir));
    if (!quiet) process.stderr.write(`wrote ${files.map((f) => join(dir, f)).join(', ')}\n`);
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  printHuman(result);
}

function normalizeSeed(text: string): number | string {
  return /^\d+$/.test(text) && Number(text) <= 0xffffffff ? Number(text) : text;
}

function printHuman(result: ExperimentResult): void {
  const rows = result.cycles;
  if (rows.length > 0) {
    const keys = Object.keys(rows[rows.length - 1]).filter((k) => k !== 'cycle').slice(0, 6);
    const step = Math.max(1, Math.ceil(rows.length / 25));
    const shown = rows.filter((_, i) => i % step === 0 || i === rows.length - 1);
    console.log(formatTable(['cycle', ...keys], shown.map((r) => [r.cycle, ...keys.map((k) => (r[k] ?? NaN) as number)])));
  }
  console.log('');
  console.log(`summary of ${result.experiment}:`);
  for (const [k, v] of Object.entries(result.summary)) console.log(`  ${k}: ${typeof v === 'number' ? +v.toPrecision(6) : v}`);
}

/** A mistake in the command line: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}
