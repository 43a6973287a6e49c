/**
 * One time-series chart (uPlot: canvas, ~50 KiB, fast with thousands of points). The latest values
 * are also written out as text under the chart, for screen readers and for reading at a glance.
 */
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
  readonly format: (v: number | null) => string;
  /** Tick labels of the y axis (default: uPlot's, which adapts its precision to the range). */
  readonly axis?: (v: number) => string;
}

export interface TimeChartProps {
  readonly title: string;
  /** Sample times, Unix ms. */
  readonly t: readonly number[];
  readonly series: readonly ChartSeries[];
  readonly height?: number;
}

export function TimeChart({ title, t, series, height = 160 }: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{ stroke: '#444', grid: { stroke: '#eee' } }, { stroke: '#444', grid: { stroke: '#eee' }, size: 72, ...(series[0].axis ? { values: (_u: uPlot, vals: number[]) => vals.map((v) => series[0].axis!(v)) } : {}) }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false, value: (_u: uPlot, v: number | null) => s.format(v) }))],
    };
    plot.current = new uPlot(opts, [[], ...series.map(() => [])] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData([t.map((x) => x / 1000), ...series.map((s) => [...s.values])] as uPlot.AlignedData);
  }, [t, series]);

  const latest = series.map((s) => `${s.label}: ${s.format(s.values.length > 0 ? s.values[s.values.length - 1] : null)}`).join('; ');
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title} over time. Latest: ${latest}`} />
      <p class="chart-latest">{latest}</p>
    </figure>
  );
}
