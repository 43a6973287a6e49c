/**
 * The plan of the `suite` experiment (experiments/suite.ts): its sections, the runs of each one with
 * their parameters, and the `peercloud sim` command that repeats each run alone. Kept apart from the
 * experiment so that the checks and the report can use it without importing the registry.
 */
import type { Experiment, ExperimentParams, ExperimentResult } from '../experiments/experiment.js';
import { defaultWorld } from '../world.js';
import type { Check } from './suite-checks.js';

export const suiteSections = [
  { id: 'aggregation', letter: 'a', title: 'Averaging: variance reduction per cycle', requires: [] },
  { id: 'count', letter: 'b', title: 'COUNT over Newscast', requires: [] },
  // The loss checks compare with the lossless COUNT run of (b).
  { id: 'count-robustness', letter: 'c', title: 'COUNT under sudden death and message loss', requires: ['count'] },
  { id: 'sampling', letter: 'd', title: 'Peer sampling from a star start, then 50% sudden death', requires: [] },
  { id: 'tman', letter: 'e', title: 'T-Man: sorted ring vs network size, and repair', requires: [] },
  { id: 'slicing', letter: 'f', title: 'Slicing: JK, mod-JK and ranking', requires: [] },
] as const;

export type SectionId = (typeof suiteSections)[number]['id'];

/** The world settings a run changes; everything else is the `sim` CLI default. */
type WorldOverrides = Partial<Pick<ExperimentParams, 'sampling' | 'view' | 'start' | 'kills' | 'requestLoss' | 'responseLoss' | 'churn'>>;

/** One reproduction run: an ordinary experiment with its parameters. */
export interface SuiteRunSpec {
  id: string;
  section: SectionId;
  title: string;
  experiment: string;
  nodes: number;
  cycles: number;
  world: WorldOverrides;
  options: Record<string, string>;
}

export interface SuiteConfig {
  nodes: number;
  seed: number | string;
  quick: boolean;
  sections: SectionId[];
}

/** A finished run, with the command line that repeats it alone. */
export interface SuiteRun {
  id: string;
  section: SectionId;
  title: string;
  command: string;
  result: ExperimentResult;
}

/** The suite's result document: the usual fields plus every run and every check. */
export interface SuiteResult extends ExperimentResult {
  runs: SuiteRun[];
  checks: Check[];
}

/** Default size of the suite (the papers' 10^5), and the size of `quick=1` (CI). */
export const SUITE_NODES = 100_000;
export const QUICK_NODES = 2000;

/** Cycles, kill times, loss and churn of the reproductions (from the papers' setups, not from --cycles). */
export const suiteSettings = {
  aggregation: 30,
  /** One COUNT epoch of γ = 30 cycles: the last row is the end of the epoch. */
  count: 30,
  countEarlyDeath: 5,
  countLateDeath: 25,
  loss: 0.1,
  /** Self-organisation from the star until the kill, then the recovery. */
  samplingKill: 40,
  sampling: 100,
  tman: 40,
  tmanKill: 30,
  // 60 cycles after the death: the ring over 10^5 survivors needs 37 (10^4: 27).
  tmanRepair: 90,
  slicing: 100,
  slicingChurn: 0.01,
} as const;

const algorithmName = { jk: 'JK', modjk: 'mod-JK', ranking: 'ranking' } as const;

/** Network sizes of the T-Man scaling runs: N, N/2, N/4, … down to max(250, N/64). */
export function tmanSizes(nodes: number): number[] {
  const smallest = Math.max(250, Math.floor(nodes / 64));
  const sizes: number[] = [];
  for (let n = nodes; n >= smallest && sizes.length < 12; n = Math.floor(n / 2)) sizes.unshift(n);
  return sizes;
}

/** Every run of the suite, in order. Pure: the same configuration gives the same plan. */
export function planSuite(config: SuiteConfig): SuiteRunSpec[] {
  const N = config.nodes;
  const c = suiteSettings;
  const runs: SuiteRunSpec[] = [];
  const add = (section: SectionId, id: string, title: string, experiment: string, cycles: number, world: WorldOverrides, options: Record<string, string> = {}, nodes = N) =>
    runs.push({ id, section, title, experiment, nodes, cycles, world, options });
  for (const section of config.sections) {
    switch (section) {
      case 'aggregation':
        add(section, 'a-complete', 'averaging over the complete graph (uniform random peer)', 'aggregation', c.aggregation, { sampling: 'complete' });
        add(section, 'a-newscast', 'averaging over Newscast, c=30', 'aggregation', c.aggregation, { sampling: 'newscast', view: 30 });
        add(section, 'a-static', 'averaging over a static random 20-out graph', 'aggregation', c.aggregation, { sampling: 'static', view: 20 });
        break;
      case 'count':
        add(section, 'b-count', 'COUNT over Newscast, c=30, one epoch', 'count', c.count, { sampling: 'newscast', view: 30 });
        break;
      case 'count-robustness': {
        const death = (cycle: number) => ({ sampling: 'newscast' as const, view: 30, kills: [{ fraction: 0.5, cycle }] });
        add(section, 'c-death-early', `COUNT, 50% sudden death before cycle ${c.countEarlyDeath + 1} (early in the epoch)`, 'count', c.count, death(c.countEarlyDeath));
        add(section, 'c-death-late', `COUNT, 50% sudden death before cycle ${c.countLateDeath + 1} (late in the epoch)`, 'count', c.count, death(c.countLateDeath));
        add(section, 'c-loss-symmetric', 'COUNT, 10% of exchanges lost as a whole (request lost: neither side updates)', 'count', c.count, { sampling: 'newscast', view: 30, requestLoss: c.loss });
        add(section, 'c-loss-asymmetric', 'COUNT, 10% of replies lost (the responder updated, the initiator did not)', 'count', c.count, { sampling: 'newscast', view: 30, responseLoss: c.loss });
        break;
      }
      case 'sampling': {
        // Clustering and path length need BFS and in-edge lists: every cycle at small N, every 5th above.
        const options = { observeEvery: N <= 20_000 ? '1' : '5' };
        for (const protocol of ['newscast', 'cyclon'] as const) {
          const world = { sampling: protocol, view: 30, start: 'star' as const, kills: [{ fraction: 0.5, cycle: c.samplingKill }] };
          add(section, `d-${protocol}`, `${protocol === 'newscast' ? 'Newscast' : 'Cyclon'} c=30 from a star, 50% sudden death after cycle ${c.samplingKill}`, 'sampling', c.sampling, world, options);
        }
        break;
      }
      case 'tman':
        for (const n of tmanSizes(N)) add(section, `e-ring-${n}`, `T-Man sorted ring, N=${n}`, 'tman', c.tman, {}, {}, n);
        add(section, 'e-repair', `T-Man sorted ring, 50% sudden death after cycle ${c.tmanKill}`, 'tman', c.tmanRepair, { kills: [{ fraction: 0.5, cycle: c.tmanKill }] });
        break;
      case 'slicing':
        for (const algorithm of ['jk', 'modjk', 'ranking'] as const) {
          add(section, `f-${algorithm}`, `slicing with ${algorithmName[algorithm]}`, 'slicing', c.slicing, {}, { algorithm });
        }
        // Ranking under churn, next to mod-JK under the same churn (the comparison of Fernández et al.).
        for (const algorithm of ['modjk', 'ranking'] as const) {
          add(section, `f-${algorithm}-churn`, `slicing with ${algorithmName[algorithm]} under ${c.slicingChurn * 100}% churn per cycle`, 'slicing', c.slicing, { churn: c.slicingChurn }, { algorithm });
        }
        break;
    }
  }
  return runs;
}

/**
 * The parameters of one run exactly as `peercloud sim <experiment>` would build them from the
 * command line `reproduceCommand` prints (same defaults, same merge order), so that command repeats
 * the run byte for byte.
 */
export function runParams(experiment: Experiment, spec: SuiteRunSpec, seed: number | string): ExperimentParams {
  const d = { ...defaultWorld, cycles: 50, options: {}, ...experiment.defaults };
  return { ...d, ...spec.world, nodes: spec.nodes, cycles: spec.cycles, seed, options: { ...d.options, ...spec.options } };
}

export function reproduceCommand(spec: SuiteRunSpec, seed: number | string): string {
  const w = spec.world;
  const args = ['peercloud', 'sim', spec.experiment, '--nodes', String(spec.nodes), '--cycles', String(spec.cycles), '--seed', String(seed)];
  if (w.sampling !== undefined) args.push('--sampling', w.sampling);
  if (w.view !== undefined) args.push('--view', String(w.view));
  if (w.start !== undefined) args.push('--start', w.start);
  for (const k of w.kills ?? []) args.push('--kill', `${k.fraction * 100}%@${k.cycle}`);
  if (w.requestLoss !== undefined) args.push('--request-loss', String(w.requestLoss));
  if (w.responseLoss !== undefined) args.push('--response-loss', String(w.responseLoss));
  if (w.churn !== undefined) args.push('--churn', String(w.churn));
  for (const [k, v] of Object.entries(spec.options)) args.push('--opt', `${k}=${v}`);
  return args.join(' ');
}

