/**
 * The overlay graph of the dashboard: the peer sampling view's nodes and links, laid out by a
 * force simulation in a worker and drawn on a canvas, with every slice's T-Man ring as a coloured
 * cycle. Nodes keep their place across crawls (by id), so the picture changes only where the
 * overlay did: joins appear next to a neighbour, deaths turn red and fade.
 *
 * Pointer: wheel zooms, drag pans, hover shows a tooltip, click selects. Keyboard (canvas
 * focused): `[` `]` previous/next node by label, arrows nearest node that way, Home/End, Escape
 * clears, + − zoom, 0 fits. The selection is announced in a polite live region.
 *
 * Styles: graph.css (the page imports it; the canvas's focus ring needs :focus-visible).
 */
import { useId, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type GraphProbe, type GraphStatus, GraphController, type HoverInfo } from './graph-controller.js';
import { announceSelection, ariaLabel, countGraph } from './graph-summary.js';
import type { GraphData } from './model.js';

export interface OverlayGraphProps {
  data: GraphData;
  selected: string | null;
  onSelect(id: string | null): void;
  showViewEdges: boolean;
  /** Height of the drawing area in CSS pixels (the width follows the container). */
  height?: number;
  /** Instrumentation for tests and benchmarks (frame and layout stats, positions). */
  probe?: GraphProbe;
  /** Where the layout worker's bundle is (default: layout-worker.js next to this bundle). */
  workerUrl?: string | URL;
}

export function OverlayGraph({ data, selected, onSelect, showViewEdges, height = 480, probe, workerUrl }: OverlayGraphProps) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const linkCanvasRef = useRef<HTMLCanvasElement>(null);
  const controller = useRef<GraphController | null>(null);
  // The controller lives as long as the component; it always calls the latest onSelect.
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;
  const [hover, setHover] = useState<HoverInfo | null>(null);
  const [status, setStatus] = useState<GraphStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const ids = { help: `${id}-help`, status: `${id}-status` };

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    const linkCanvas = linkCanvasRef.current;
    const wrap = wrapRef.current;
    if (!canvas || !linkCanvas || !wrap) return;
    let c: GraphController;
    try {
      c = new GraphController(
        canvas,
        linkCanvas,
        wrap,
        { onSelect: (id) => onSelectRef.current(id), onHover: setHover, onStatus: setStatus, onError: setError, probe },
        workerUrl,
      );
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      return;
    }
    controller.current = c;
    return () => {
      controller.current = null;
      c.dispose();
    };
    // The controller is made once; data and options reach it through the effects below.
  }, []);
  // Layout effects: props reach the controller right after the render, before the next input
  // event (plain effects wait for a frame, and a quick second key press would see stale props).
  useLayoutEffect(() => controller.current?.setData(data), [data]);
  useLayoutEffect(() => controller.current?.setSelected(selected), [selected]);
  useLayoutEffect(() => controller.current?.setShowViewEdges(showViewEdges), [showViewEdges]);

  const counts = useMemo(() => countGraph(data), [data]);
  const announcement = useMemo(() => announceSelection(data, selected), [data, selected]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (controller.current?.handleKey(e.key)) e.preventDefault();
  };

  const subset = status && showViewEdges && status.drawnViewLinks < status.totalViewLinks;
  return (
    <div class="pc-graph">
      <div class="pc-graph__stage" ref={wrapRef} style={{ height: `${height}px` }}>
        {/* The view links' layer, under the interactive node layer (renderer.ts). */}
        <canvas ref={linkCanvasRef} class="pc-graph__links" aria-hidden="true" />
        <canvas
          ref={canvasRef}
          class="pc-graph__canvas"
          tabIndex={0}
          role="img"
          aria-label={ariaLabel(counts)}
          aria-describedby={`${ids.help} ${ids.status}`}
          onKeyDown={onKeyDown}
        />
        <div class="pc-graph__toolbar">
          <button type="button" onClick={() => controller.current?.zoomBy(1.25)} aria-label="Zoom in" title="Zoom in (+)">
            +
          </button>
          <button type="button" onClick={() => controller.current?.zoomBy(0.8)} aria-label="Zoom out" title="Zoom out (−)">
            −
          </button>
          <button type="button" onClick={() => controller.current?.fit()} title="Fit the whole graph (0)">
            Fit
          </button>
        </div>
        {hover && (
          <div class="pc-graph__tooltip" style={{ left: `${hover.x + 12}px`, top: `${hover.y + 12}px` }} role="tooltip">
            {hover.lines.map((line, i) => (
              <div key={i} class={i === 0 ? 'pc-graph__tooltip-title' : i === hover.lines.length - 1 ? 'pc-graph__tooltip-id' : undefined}>
                {line}
              </div>
            ))}
          </div>
        )}
      </div>
      <p class="pc-graph__status" id={ids.status}>
        {error
          ? `Graph unavailable: ${error}`
          : data.nodes.length === 0
            ? 'Waiting for the first crawl…'
            : status?.layout === 'running'
              ? `Laying out…${subset ? ` (${status.drawnViewLinks.toLocaleString('en')} of ${status.totalViewLinks.toLocaleString('en')} view links drawn while it moves)` : ''}`
              : ''}
      </p>
      <p class="pc-visually-hidden" id={ids.help}>
        Keys: [ and ] step through nodes by name, Home and End go to the first and last, arrow keys move to the nearest node in that direction, Escape clears the selection, plus and minus zoom, 0 fits the graph.
      </p>
      <div class="pc-visually-hidden" aria-live="polite" aria-atomic="true" data-testid="graph-announcer">
        {announcement}
      </div>
    </div>
  );
}
