/**
 * Experiment `suite`: the paper reproductions, run one after the other with the same seed, compared
 * with the published figures (see /work/shared/protocols.md and report/suite-checks.ts):
 *   (a) averaging: variance reduction per cycle over the complete graph, Newscast and a static
 *       20-out graph vs 1/(2·sqrt(e)) (Jelasity, Montresor, Babaoglu, ACM TOCS 23(3), 2005);
 *   (b) COUNT over Newscast: every estimate within ±0.1% of N by cycle 30 (same paper);
 *   (c) COUNT under sudden death of 50% early vs late in an epoch, and under symmetric vs asymmetric
 *       10% message loss (same paper);
 *   (d) peer sampling from a star start, Newscast vs Cyclon, then 50% sudden death (Jelasity et al.,
 *       "Gossip-based peer sampling", ACM TOCS 25(3), 2007);
 *   (e) T-Man: cycles to a complete sorted ring vs N over halvings of N, and ring repair after 50%
 *       death (Jelasity, Montresor, Babaoglu, Computer Networks 53(13), 2009);
 *   (f) slicing: GDM/SDM per cycle for JK, mod-JK and ranking, and ranking under churn (Jelasity &
 *       Kermarrec, P2P 2006; Fernández, Gramoli, Jiménez, Kermarrec, Raynal, 2007).
 *
 * Design: every reproduction is a run of an ordinary registered experiment (so each one can be
 * repeated alone with the `peercloud sim …` command the report prints), planned by `planSuite`.
 * `run` is synchronous and pure like every experiment: it returns one document holding the sub-runs'
 * results and the checks (measured vs published, pass/fail), so the `--json` output is
 * deterministic. Rendering (SVG figures and index.html) is asynchronous and needs no simulation, so it
 * lives in the `report` hook the CLI calls for `--out DIR`; its module (and Vega) is loaded only then.
 */
import { evaluateChecks } from '../report/suite-checks.js';
import {
  QUICK_NODES,
  SUITE_NODES,
  type SectionId,
  type SuiteConfig,
  type SuiteResult,
  type SuiteRun,
  planSuite,
  reproduceCommand,
  runParams,
  suiteSettings,
  suiteSections,
  tmanSizes,
} from '../report/suite-plan.js';
import { defaultWorld } from '../world.js';
import type { Experiment, ExperimentParams, ExperimentResult, Progress } from './experiment.js';
import { getExperiment, registerExperiment } from './index.js';

/** World parameters each reproduction sets itself: giving them to the suite is a mistake. */
const fixedByReproductions: (keyof ExperimentParams)[] = [
  'sampling', 'view', 'shuffleLength', 'start', 'growth', 'mode', 'periodMs', 'latency', 'requestLoss', 'responseLoss', 'churn', 'kills', 'oscillation', 'joinContacts',
];

/**
 * Reads quick=, only= (out= is set by the CLI for --out). Only --nodes and --seed shape the suite;
 * the cycles of each reproduction are those of its paper (`suiteSettings`), so --cycles is not used.
 */
export function suiteConfig(params: ExperimentParams): SuiteConfig {
  for (const key of fixedByReproductions) {
    if (JSON.stringify(params[key]) !== JSON.stringify(defaultWorld[key as keyof typeof defaultWorld])) {
      throw new RangeError(`${key} cannot be set for the suite: each reproduction uses the setting of its paper (only --nodes and --seed apply)`);
    }
  }
  for (const key of Object.keys(params.options)) {
    if (key !== 'quick' && key !== 'only' && key !== 'out') throw new RangeError(`option ${key} is not known to the suite (known: quick, only)`);
  }
  const quickText = params.options.quick ?? '0';
  if (quickText !== '0' && quickText !== '1') throw new RangeError(`option quick=${quickText} is not valid: use 0 or 1`);
  const quick = quickText === '1';
  let sections: SectionId[] = suiteSections.map((s) => s.id);
  if (params.options.only !== undefined) {
    const wanted = new Set<SectionId>();
    for (const token of params.options.only.split(',').map((t) => t.trim())) {
      const section = suiteSections.find((s) => s.id === token || s.letter === token);
      if (!section) throw new RangeError(`option only=${params.options.only} is not valid: "${token}" is not one of ${suiteSections.map((s) => `${s.letter}|${s.id}`).join(', ')}`);
      wanted.add(section.id);
      for (const r of section.requires) wanted.add(r);
    }
    sections = sections.filter((s) => wanted.has(s));
  }
  // quick=1 caps the size for CI; an explicit smaller --nodes still applies.
  const nodes = quick ? Math.min(params.nodes, QUICK_NODES) : params.nodes;
  if (nodes < 250) throw new RangeError(`--nodes ${nodes} is too small for the suite (at least 250)`);
  return { nodes, seed: params.seed, quick, sections };
}

/** `lookup` finds experiments by name (the registry; tests pass their own). */
export function runSuite(params: ExperimentParams, progress?: Progress, lookup: (name: string) => Experiment | undefined = getExperiment): SuiteResult {
  const config = suiteConfig(params);
  const plan = planSuite(config);
  // Every experiment the plan needs must exist before anything runs: a missing one is an error,
  // never a silently shorter report.
  const missing = [...new Set(plan.map((r) => r.experiment))].filter((name) => !lookup(name));
  if (missing.length > 0) {
    throw new Error(`the suite needs the experiment(s) ${missing.join(', ')}, which are not registered (src/simulator/experiments/all.ts)`);
  }
  const runs: SuiteRun[] = [];
  plan.forEach((spec, i) => {
    const experiment = lookup(spec.experiment)!;
    const section = suiteSections.find((s) => s.id === spec.section)!;
    const stage = `(${section.letter}) ${spec.id} [${i + 1}/${plan.length}]`;
    const result = experiment.run(runParams(experiment, spec, config.seed), progress && ((done, total, row) => progress(done, total, row, stage)));
    runs.push({ id: spec.id, section: spec.section, title: spec.title, command: reproduceCommand(spec, config.seed), result });
  });
  const checks = evaluateChecks(config, runs);
  const passed = checks.filter((c) => c.pass).length;
  const summary: ExperimentResult['summary'] = {
    nodes: config.nodes,
    seed: config.seed,
    quick: config.quick,
    sections: config.sections.join(','),
    runs: runs.length,
    checks: checks.length,
    checksPassed: passed,
    checksFailed: checks.length - passed,
    failedChecks: checks.filter((c) => !c.pass).map((c) => c.id).join(','),
  };
  for (const c of checks) summary[c.key] = c.measured;
  return {
    experiment: 'suite',
    parameters: { nodes: config.nodes, seed: config.seed, quick: config.quick, sections: config.sections, settings: { ...suiteSettings }, tmanSizes: config.sections.includes('tman') ? tmanSizes(config.nodes) : [] },
    cycles: [],
    summary,
    runs,
    checks,
  };
}

export const suiteExperiment: Experiment = {
  name: 'suite',
  description: 'all paper reproductions at 10^5 nodes, compared with the published figures; --out DIR writes an HTML report with SVG plots',
  defaults: { nodes: SUITE_NODES },
  optionHelp: {
    quick: `1: CI mode, at most ${QUICK_NODES} nodes (T-Man sizes down to 250); default 0`,
    only: 'comma-separated sections to run: a|aggregation, b|count, c|count-robustness (needs b), d|sampling, e|tman, f|slicing; default all',
  },
  run: (params, progress) => runSuite(params, progress),
  async report(result: ExperimentResult, dir: string): Promise<string[]> {
    const { writeSuiteReport } = await import('../report/suite-report.js');
    return writeSuiteReport(result, dir);
  },
};

registerExperiment(suiteExperiment);
