/** The headline numbers: nodes crawled, the size estimate, slices and free resources. */
import type { HistoryReport, OverlayReport } from '../api.js';
import { bytes, num } from '../format.js';

function last(values: readonly (number | null)[] | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
  return null;
}

export function Summary({ overlay, history, sliceCount }: { overlay: OverlayReport | null; history: HistoryReport | null; sliceCount: number }) {
  const live = overlay?.nodes.filter((n) => n.state === 'live').length ?? 0;
  const down = overlay?.nodes.filter((n) => n.state === 'unreachable').length ?? 0;
  const s = history?.series;
  const cards: [string, string, string][] = [
    ['nodes-live', 'Nodes answering', String(live)],
    ['nodes-down', 'Unreachable', String(down)],
    ['size', 'Size estimate', num(last(s?.size), 1)],
    ['slices', 'Slices', String(sliceCount)],
    ['cores', 'Free cores', num(last(s?.totalFreeCores), 1)],
    ['memory', 'Free memory', bytes(last(s?.totalFreeMemoryBytes))],
    ['disk', 'Free disk', bytes(last(s?.totalFreeDiskBytes))],
    ['load', 'Average load', num(last(s?.averageLoad), 2)],
  ];
  return (
    <section aria-label="Summary" class="summary">
      {cards.map(([id, title, value]) => (
        <div class="card" key={id} data-testid={`summary-${id}`}>
          <span class="card-title">{title}</span>
          <span class="card-value">{value}</span>
        </div>
      ))}
    </section>
  );
}
