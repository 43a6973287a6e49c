/**
 * The dashboard's data: polls the serving daemon (overlay every 2 s, history every 2 s, the slices
 * it coordinates every 3 s) and keeps, per node, a short history of what each crawl said (load,
 * free cores), since only the serving node keeps a history of its own.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { type HistoryReport, type NodeInfo, type OverlayReport, type SliceView, api } from './api.js';

export interface NodeSeries {
  readonly t: number[];
  readonly load: number[];
  readonly freeCores: number[];
}

export interface DashboardData {
  readonly node: NodeInfo | null;
  readonly overlay: OverlayReport | null;
  readonly history: HistoryReport | null;
  readonly slices: readonly SliceView[];
  readonly nodeSeries: ReadonlyMap<string, NodeSeries>;
  /** The last error talking to the daemon, or null while it answers. */
  readonly error: string | null;
  readonly updatedAt: number | null;
}

const MAX_NODE_POINTS = 450;
const MAX_HISTORY_POINTS = 900;

function mergeHistory(old: HistoryReport | null, add: HistoryReport): HistoryReport {
  if (!old) return add;
  const keep = Math.max(0, old.t.length + add.t.length - MAX_HISTORY_POINTS);
  const series = Object.fromEntries(
    Object.entries(old.series).map(([k, v]) => [k, [...v, ...(add.series as Record<string, readonly (number | null)[]>)[k]].slice(keep)]),
  ) as unknown as HistoryReport['series'];
  return { sampleMs: add.sampleMs, t: [...old.t, ...add.t].slice(keep), series };
}

export function useDashboardData(): DashboardData & { refreshSlices(): void } {
  const [data, setData] = useState<DashboardData>({ node: null, overlay: null, history: null, slices: [], nodeSeries: new Map(), error: null, updatedAt: null });
  const series = useRef(new Map<string, NodeSeries>());
  const lastHistory = useRef<number | undefined>(undefined);
  const refreshSlices = useRef(() => {});

  useEffect(() => {
    let stopped = false;
    const fail = (err: unknown) => !stopped && setData((d) => ({ ...d, error: (err as Error).message }));
    const loop = (fn: () => Promise<void>, ms: number) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const run = async () => {
        try {
          await fn();
        } catch (err) {
          fail(err);
        }
        if (!stopped) timer = setTimeout(run, ms);
      };
      void run();
      return () => clearTimeout(timer);
    };
    const stops = [
      loop(async () => {
        const node = await api.node();
        if (!stopped) setData((d) => ({ ...d, node }));
      }, 30_000),
      loop(async () => {
        const overlay = await api.overlay();
        for (const n of overlay.nodes) {
          if (n.state !== 'live' || !n.snapshot) continue;
          let s = series.current.get(n.id);
          if (!s) series.current.set(n.id, (s = { t: [], load: [], freeCores: [] }));
          if (s.t.length > 0 && s.t[s.t.length - 1] >= n.snapshot.takenAt) continue;
          s.t.push(n.snapshot.takenAt);
          s.load.push(n.snapshot.attributes.loadAverage);
          s.freeCores.push(n.snapshot.attributes.freeCores);
          if (s.t.length > MAX_NODE_POINTS) for (const a of [s.t, s.load, s.freeCores]) a.shift();
        }
        const present = new Set(overlay.nodes.map((n) => n.id));
        for (const id of series.current.keys()) if (!present.has(id)) series.current.delete(id);
        if (!stopped) setData((d) => ({ ...d, overlay, nodeSeries: new Map(series.current), error: null, updatedAt: Date.now() }));
      }, 2_000),
      loop(async () => {
        const add = await api.history(lastHistory.current);
        if (add.t.length > 0) lastHistory.current = add.t[add.t.length - 1];
        if (!stopped) setData((d) => ({ ...d, history: mergeHistory(d.history, add) }));
      }, 2_000),
    ];
    const loadSlices = async () => {
      const { slices } = await api.slices();
      if (!stopped) setData((d) => ({ ...d, slices }));
    };
    refreshSlices.current = () => void loadSlices().catch(fail);
    stops.push(loop(loadSlices, 3_000));
    return () => {
      stopped = true;
      for (const s of stops) s();
    };
  }, []);
  return { ...data, refreshSlices: () => refreshSlices.current() };
}
