/**
 * The aggregates over time: cloud-wide (what the serving node estimates, from /v1/history) and
 * per node (the selected node's load and free cores, as successive crawls reported them).
 */
import type { HistoryReport } from '../api.js';
import type { NodeSeries } from '../data.js';
import { bytes, num } from '../format.js';
import { TimeChart } from './TimeChart.js';

const f1 = (v: number | null) => num(v);
const fb = (v: number | null) => bytes(v);

export function CloudCharts({ history }: { history: HistoryReport | null }) {
  if (!history || history.t.length === 0) return <p class="muted">Collecting samples…</p>;
  const s = history.series;
  return (
    <div class="charts">
      <TimeChart title="Network size (estimate)" t={history.t} series={[{ label: 'nodes', color: '#0072b2', values: s.size, format: (v) => num(v, 1) }]} />
      <TimeChart title="Free cores (total)" t={history.t} series={[{ label: 'free cores', color: '#009e73', values: s.totalFreeCores, format: f1 }]} />
      <TimeChart
        title="Free memory and disk (total)"
        t={history.t}
        series={[
          { label: 'memory', color: '#cc79a7', values: s.totalFreeMemoryBytes, format: fb, axis: fb },
          { label: 'disk', color: '#8c6d31', values: s.totalFreeDiskBytes, format: fb },
        ]}
      />
      <TimeChart title="Load (average over nodes)" t={history.t} series={[{ label: 'load', color: '#d55e00', values: s.averageLoad, format: (v) => num(v, 2) }]} />
    </div>
  );
}

export function NodeCharts({ name, series }: { name: string; series: NodeSeries | undefined }) {
  if (!series || series.t.length === 0) return <p class="muted">No samples of {name} yet.</p>;
  return (
    <div class="charts">
      <TimeChart title={`${name}: load`} t={series.t} series={[{ label: 'load', color: '#d55e00', values: series.load, format: (v) => num(v, 2) }]} />
      <TimeChart title={`${name}: free cores`} t={series.t} series={[{ label: 'free cores', color: '#009e73', values: series.freeCores, format: f1 }]} />
    </div>
  );
}
