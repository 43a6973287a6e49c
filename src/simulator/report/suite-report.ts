/**
 * Writes the suite's report for `peercloud sim suite --out DIR`: DIR/index.html (self-contained:
 * figures inline as SVG, the table of measured vs published values with pass/fail, parameters, seed
 * and the command repeating each run), every figure as DIR/<name>.svg, and DIR/suite.json (the result
 * document, the same as `--json` prints). Deterministic: the same result gives the same files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentResult } from '../experiments/experiment.js';
import { type Cell, escapeHtml, htmlPage, htmlTable } from './html.js';
import { lineChart } from './plot.js';
import { type Check, fmt, sources } from './suite-checks.js';
import { type SuiteFigure, suiteFigures } from './suite-figures.js';
import { type SectionId, type SuiteResult, suiteSettings, suiteSections } from './suite-plan.js';

/** What each section reproduces and how, shown above its figures. */
const sectionText: Record<SectionId, string> = {
  aggregation:
    'Push-pull averaging from a peak (one node holds N, the others 0). Each node initiates one exchange per cycle; the variance of the values should shrink by 1/(2√e) ≈ 0.303 per cycle with uniformly random peers, and stay close to that over Newscast (c = 30) and over a fixed random 20-out graph. The factor is the geometric mean of variance(t)/variance(t−1) over cycles 3..30, above the floating-point floor.',
  count:
    'Network size estimation: one leader starts at 1, everyone else at 0; the average converges to 1/N, so each node estimates N as 1/value. One epoch of γ = 30 cycles over Newscast (c = 30). Published: every node within a fraction of a percent of N after about 30 cycles.',
  'count-robustness': `The same COUNT epoch under failures. Sudden death: 50% of the nodes crash before cycle ${suiteSettings.countEarlyDeath + 1} (early, the mass is still concentrated on a few nodes) or before cycle ${suiteSettings.countLateDeath + 1} (late, the values have nearly converged); the estimate refers to the size at the start of the epoch, the next epoch measures the survivors. Message loss, 10%: symmetric = the exchange fails as a whole (request lost, neither side updates: mass is conserved); asymmetric = replies lost (the responder has updated, the initiator has not: mass is not conserved).`,
  sampling: `Peer sampling (view c = 30) from a star start: every node knows only the first node. After ${suiteSettings.samplingKill} cycles, 50% of the nodes die at once. Newscast = (rand, healer, pushpull); Cyclon = (tail, swapper, pushpull) with shuffle length 8. Clustering and path length are taken on the undirected overlay, on samples of nodes and BFS sources.`,
  tman: `T-Man, with the tman experiment's default view size, message size, ψ and random sample (see peercloud sim --help), builds the sorted ring of random ring keys over Newscast; a run is complete when no node misses its successor or predecessor. Sizes halve from N down to max(250, N/64); then, at N, 50% of the nodes die after cycle ${suiteSettings.tmanKill} and the survivors' ring must be rebuilt.`,
  slicing: `Ordered slicing over Newscast: JK swaps random values with peers whose order disagrees; mod-JK picks the swap that reduces disorder most; ranking estimates each node's normalized rank from the attribute values it samples. GDM = (1/N)·Σ(α_i − ρ_i)², SDM = Σ |true slice − believed slice|. The last two runs add ${suiteSettings.slicingChurn * 100}% churn per cycle (nodes replaced by newcomers with fresh attributes) to mod-JK and to ranking.`,
};

export function asSuiteResult(result: ExperimentResult): SuiteResult {
  const r = result as Partial<SuiteResult>;
  if (result.experiment !== 'suite' || !Array.isArray(r.runs) || !Array.isArray(r.checks)) {
    throw new Error(`not a suite result (experiment ${result.experiment}): it has no runs and checks`);
  }
  return result as SuiteResult;
}

export async function writeSuiteReport(result: ExperimentResult, dir: string): Promise<string[]> {
  const suite = asSuiteResult(result);
  const figures = suiteFigures(suite);
  const svgs = new Map<string, string>();
  const files = ['index.html', 'suite.json'];
  for (const f of figures) {
    if (!f.chart) continue;
    const svg = await lineChart(f.chart);
    writeFileSync(join(dir, f.file), svg);
    svgs.set(f.file, svg);
    files.push(f.file);
  }
  writeFileSync(join(dir, 'suite.json'), `${JSON.stringify(suite, null, 2)}\n`);
  writeFileSync(join(dir, 'index.html'), renderSuiteHtml(suite, figures, svgs));
  return files;
}

function passCell(c: Check): Cell {
  return c.pass ? { html: '✔ pass', className: 'pass' } : { html: '✘ fail', className: 'fail' };
}

function checksTable(checks: readonly Check[], withSection: boolean): string {
  const letter = (s: SectionId) => suiteSections.find((x) => x.id === s)!.letter;
  const headers = [...(withSection ? ['§'] : []), 'id', 'quantity', 'measured', 'published', 'criterion', 'result', 'note'];
  return htmlTable(
    headers,
    checks.map((c) => [...(withSection ? [letter(c.section)] : []), c.id, c.quantity, c.measuredText, c.published, c.criterion, passCell(c), c.note ?? '']),
  );
}

function figureHtml(f: SuiteFigure, svgs: ReadonlyMap<string, string>): string {
  const svg = svgs.get(f.file);
  if (!svg) return `<figure><div class="missing">Figure ${escapeHtml(f.file)} not drawn: ${escapeHtml(f.missing ?? 'no data')}</div><figcaption>${escapeHtml(f.caption)}</figcaption></figure>`;
  return `<figure>${svg}<figcaption>${escapeHtml(f.caption)} <a href="${escapeHtml(f.file)}">${escapeHtml(f.file)}</a></figcaption></figure>`;
}

function summaryText(summary: ExperimentResult['summary']): string {
  return Object.entries(summary)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : String(v)}`)
    .join(', ');
}

export function renderSuiteHtml(suite: SuiteResult, figures: readonly SuiteFigure[], svgs: ReadonlyMap<string, string>): string {
  const s = suite.summary;
  const sections = suite.parameters.sections as SectionId[];
  const passed = suite.checks.filter((c) => c.pass).length;
  const options = [s.quick ? '--opt quick=1' : '', sections.length < suiteSections.length ? `--opt only=${sections.join(',')}` : ''].filter(Boolean).join(' ');
  const parts: string[] = [];
  parts.push('<h1>peercloud: reproductions of the published gossip protocol results</h1>');
  parts.push(
    `<p>Deterministic simulator, cycle-driven (atomic exchanges, nodes in a fresh random order each cycle, as in PeerSim). <strong>N = ${escapeHtml(String(s.nodes))}</strong> nodes, <strong>seed ${escapeHtml(String(s.seed))}</strong>${s.quick ? ' (quick mode)' : ''}; sections: ${escapeHtml(sections.join(', '))}.</p>`,
  );
  parts.push(`<p class="totals"><strong>${passed} of ${suite.checks.length}</strong> checks reproduce the published behaviour within the stated criterion.</p>`);
  const settings = suite.parameters.settings as Record<string, number>;
  const tmanSizes = suite.parameters.tmanSizes as number[];
  parts.push(
    htmlTable(
      ['parameter', 'value'],
      [
        ['nodes N', String(s.nodes)],
        ['seed (every run)', String(s.seed)],
        ['quick mode', s.quick ? 'yes' : 'no'],
        ...(tmanSizes.length > 0 ? [['T-Man sizes', tmanSizes.join(', ')]] : []),
        ...Object.entries(settings).map(([k, v]) => [`setting: ${k}`, String(v)]),
      ],
    ),
  );
  parts.push(`<p>Regenerate this report with</p><pre>peercloud sim suite --nodes ${escapeHtml(String(s.nodes))} --seed ${escapeHtml(String(s.seed))}${options ? ` ${escapeHtml(options)}` : ''} --out DIR</pre>`);
  parts.push('<h2>Measured vs published</h2>');
  parts.push(checksTable(suite.checks, true));
  for (const section of suiteSections) {
    if (!sections.includes(section.id)) continue;
    parts.push(`<h2 id="${section.id}">(${section.letter}) ${escapeHtml(section.title)}</h2>`);
    parts.push(`<p>${escapeHtml(sectionText[section.id])}</p>`);
    for (const f of figures.filter((x) => x.section === section.id)) parts.push(figureHtml(f, svgs));
    const checks = suite.checks.filter((c) => c.section === section.id);
    if (checks.length > 0) parts.push(checksTable(checks, false));
    const runs = suite.runs.filter((r) => r.section === section.id);
    parts.push('<p>Runs (each can be repeated alone with its command):</p>');
    parts.push(htmlTable(['run', 'what', 'command', 'summary'], runs.map((r) => [r.id, r.title, { html: `<code>${escapeHtml(r.command)}</code>` }, summaryText(r.result.summary)])));
  }
  parts.push('<h2>Sources</h2>');
  parts.push(`<ul>${Object.values(sources).map((src) => `<li>${escapeHtml(src)}</li>`).join('')}</ul>`);
  parts.push('<p>Published behaviour as summarised in the project\'s protocol notes (protocols.md); the criteria are stated per check.</p>');
  return htmlPage(`peercloud reproductions, N=${s.nodes}, seed ${s.seed}`, parts.join('\n'));
}
