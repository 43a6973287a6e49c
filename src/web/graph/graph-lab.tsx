/**
 * The graph lab: a page with only the overlay graph, fed synthetic overlays (synthetic.ts), for
 * the end-to-end tests (test/web/graph-*.test.ts), the benchmark (bench/dashboard.ts) and for
 * looking at the graph without a cloud. Not part of the dashboard.
 *
 * URL: graph-lab.html?nodes=500&view=20&slices=3&sliceSize=12&unreachable=0.02&seed=1
 * (`wait` instead: nothing is drawn until a script calls window.graphLab.show()).
 * window.graphLab lets scripts swap the data, read positions and collect stats.
 */
import { render } from 'preact';
import { useState } from 'preact/hooks';
import type { FrameStats, GraphProbeApi, LayoutStats } from './graph-controller.js';
import type { GraphData } from './model.js';
import { OverlayGraph } from './OverlayGraph.js';
import { type Mutation, mutateGraph, type SyntheticOptions, syntheticGraph } from './synthetic.js';

export interface GraphLab {
  /** Makes a synthetic overlay and keeps it for show() (so its cost is not measured with it). */
  prepare(options: SyntheticOptions): { nodes: number; viewLinks: number; ringLinks: number };
  /** Draws the prepared (or given) data; resets the stats. */
  show(data?: GraphData): void;
  /** The next crawl of the shown data (deaths, joins, another order), shown at once. */
  mutate(m: Mutation): GraphData;
  /** Like mutate, but only prepared: show() shows it (so its making is not measured). */
  prepareNext(m: Mutation): { nodes: number; viewLinks: number };
  data(): GraphData | null;
  api(): GraphProbeApi | null;
  setShowViewEdges(show: boolean): void;
  /** Every onSelect call, in order. */
  readonly selections: (string | null)[];
  readonly stats: { shownAt: number | null; frames: FrameStats[]; layouts: LayoutStats[] };
}

declare global {
  interface Window {
    graphLab: GraphLab;
  }
}

let setters: { data(d: GraphData): void; showViewEdges(s: boolean): void } | null = null;
let prepared: GraphData | null = null;
let current: GraphData | null = null;
let probeApi: GraphProbeApi | null = null;

const lab: GraphLab = {
  prepare(options) {
    prepared = syntheticGraph(options);
    return { nodes: prepared.nodes.length, viewLinks: prepared.viewEdges.length, ringLinks: prepared.ringEdges.length };
  },
  show(data) {
    const d = data ?? prepared;
    if (!d) throw new Error('graphLab.show: nothing prepared');
    lab.stats.frames.length = 0;
    lab.stats.layouts.length = 0;
    lab.stats.shownAt = performance.now();
    current = d;
    setters?.data(d);
  },
  mutate(m) {
    if (!current) throw new Error('graphLab.mutate: nothing shown');
    const next = mutateGraph(current, m);
    lab.show(next);
    return next;
  },
  prepareNext(m) {
    if (!current) throw new Error('graphLab.prepareNext: nothing shown');
    prepared = mutateGraph(current, m);
    return { nodes: prepared.nodes.length, viewLinks: prepared.viewEdges.length };
  },
  data: () => current,
  api: () => probeApi,
  setShowViewEdges: (s) => setters?.showViewEdges(s),
  selections: [],
  stats: { shownAt: null, frames: [], layouts: [] },
};
window.graphLab = lab;

const probe = {
  frame: (s: FrameStats) => lab.stats.frames.push(s),
  layout: (s: LayoutStats) => lab.stats.layouts.push(s),
  attach: (api: GraphProbeApi) => {
    probeApi = api;
  },
};

const EMPTY: GraphData = { nodes: [], viewEdges: [], ringEdges: [], slices: [] };

function Lab({ initial }: { initial: GraphData }) {
  const [data, setData] = useState(initial);
  const [selected, setSelected] = useState<string | null>(null);
  const [showViewEdges, setShowViewEdges] = useState(true);
  setters = { data: setData, showViewEdges: setShowViewEdges };
  return (
    <main>
      <h1>Overlay graph lab</h1>
      <label>
        <input type="checkbox" checked={showViewEdges} onChange={(e) => setShowViewEdges((e.currentTarget as HTMLInputElement).checked)} /> view links
      </label>
      <OverlayGraph
        data={data}
        selected={selected}
        onSelect={(id) => {
          lab.selections.push(id);
          setSelected(id);
        }}
        showViewEdges={showViewEdges}
        height={Number(new URLSearchParams(location.search).get('height') ?? 600)}
        probe={probe}
      />
      <p data-testid="selected">{selected ?? 'none'}</p>
    </main>
  );
}

const q = new URLSearchParams(location.search);
const num = (name: string, fallback: number) => (q.has(name) ? Number(q.get(name)) : fallback);
let initial = EMPTY;
if (!q.has('wait')) {
  initial = syntheticGraph({
    nodes: num('nodes', 300),
    view: num('view', 20),
    slices: num('slices', 3),
    sliceSize: num('sliceSize', 12),
    unreachable: num('unreachable', 0.02),
    unknown: num('unknown', 0.01),
    seed: num('seed', 1),
  });
  current = initial;
  lab.stats.shownAt = performance.now();
}
const root = document.getElementById('root');
if (!root) throw new Error('graph-lab.html has no #root');
render(<Lab initial={initial} />, root);
