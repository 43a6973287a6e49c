import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Server-side SVG line charts for experiment reports. The chart is described in Vega-Lite, compiled
 * to Vega and rendered by a headless `View` with the `none` renderer straight to an SVG string: no
 * canvas, no DOM, no network (the data is inlined). Text widths are estimated by Vega without a
 * canvas, which is good enough for axis labels and legends.
 */

export interface Series {
  name: string;
  /** [x, y] pairs; non-finite y, and y <= 0 on a log scale, are drawn as gaps in the line. */
  points: readonly (readonly [number, number])[];
  /** Draw dashed, e.g. a theoretical or published reference next to measured series. */
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  /** Optional second title line (e.g. parameters and seed). */
  subtitle?: string;
  series: readonly Series[];
  xLabel: string;
  yLabel: string;
  yScale?: 'linear' | 'log';
  xScale?: 'linear' | 'log';
  /** Fixed y range; points outside are clipped (e.g. to show a 1% bias next to early huge values). */
  yDomain?: [number, number];
  width?: number;
  height?: number;
}

/**
 * Renders a line chart to an SVG document. Throws a RangeError when there is nothing to draw (no
 * series, or a series without any drawable point) rather than producing an empty figure: a report
 * must never hide a missing measurement behind a blank plot.
 */
export async function lineChart(chart: LineChart): Promise<string> {
  const spec = lineChartSpec(chart);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The Vega-Lite specification of a chart (exported for tests and for embedding elsewhere). */
export function lineChartSpec(chart: LineChart): TopLevelSpec {
  if (chart.series.length === 0) throw new RangeError(`chart "${chart.title}" has no series`);
  const logY = chart.yScale === 'log';
  const logX = chart.xScale === 'log';
  const values: { x: number; y: number | null; series: string; dashed: boolean }[] = [];
  for (const s of chart.series) {
    let drawable = 0;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || (logX && x <= 0)) continue;
      // A log axis cannot show zero or negative values (e.g. no dead link left), nor can any axis
      // show NaN or infinity: such points become gaps (null), so the line breaks there instead of
      // bridging the interval as if the values in between were known.
      const valid = Number.isFinite(y) && !(logY && y <= 0);
      values.push({ x, y: valid ? y : null, series: s.name, dashed: s.dashed === true });
      if (valid) drawable++;
    }
    if (drawable === 0) throw new RangeError(`chart "${chart.title}": series "${s.name}" has no drawable point`);
  }
  const names = chart.series.map((s) => s.name);
  if (new Set(names).size !== names.length) throw new RangeError(`chart "${chart.title}" has two series with the same name`);
  // Colour and dash both encode the series, so Vega-Lite draws a single legend whose symbols show
  // the dashing; points mark the measured values only, not the reference lines.
  const seriesScale = { domain: names };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.subtitle ? { text: chart.title, subtitle: chart.subtitle } : chart.title,
    width: chart.width ?? 520,
    height: chart.height ?? 300,
    background: 'white',
    data: { values },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: chart.xLabel, scale: logX ? { type: 'log' } : { zero: false, nice: true } },
      y: {
        field: 'y',
        type: 'quantitative',
        title: chart.yLabel,
        scale: { ...(logY ? { type: 'log' as const } : { zero: false, nice: true }), ...(chart.yDomain ? { domain: chart.yDomain, nice: false } : {}) },
      },
      color: { field: 'series', type: 'nominal', title: null, scale: seriesScale, legend: { orient: 'right', labelLimit: 260, symbolType: 'stroke', symbolStrokeWidth: 2 } },
    },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 1.6, clip: chart.yDomain !== undefined },
        encoding: {
          strokeDash: {
            field: 'series',
            type: 'nominal',
            title: null,
            scale: { domain: names, range: chart.series.map((x) => (x.dashed ? [5, 3] : [1, 0])) },
          },
          // Lines connect points in x order within a series.
          order: { field: 'x', type: 'quantitative' },
        },
      },
      {
        transform: [{ filter: 'datum.dashed === false && datum.y !== null' }],
        mark: { type: 'point', filled: true, size: 16, clip: chart.yDomain !== undefined },
      },
    ],
  };
}
