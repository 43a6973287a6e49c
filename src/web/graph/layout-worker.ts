/**
 * The layout worker: runs the force simulation (layout-engine.ts) off the main thread, so a
 * 5000-node layout never blocks the page, and posts positions about once per display frame.
 * Each batch runs ticks for at most ~10 ms (a few ticks for small graphs, so their layout stays
 * a visible animation rather than a jump), then yields to let new graphs in.
 */
import { LayoutEngine } from './layout-engine.js';
import type { FromWorker, ToWorker } from './layout-protocol.js';

/** The parts of a dedicated worker's global scope used here (the DOM lib has no worker scope). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
const FRAME_MS = 16;
const BATCH_MS = 10;
const MAX_TICKS_PER_BATCH = 3;

const engine = new LayoutEngine();
let version = 0;
let timer: ReturnType<typeof setTimeout> | null = null;

function post(ticks: number, tickMs: number, extra: { drawOrder: Uint32Array; layoutLinks: number } | null): void {
  const xy = engine.positions();
  const transfer: Transferable[] = [xy.buffer];
  if (extra) transfer.push(extra.drawOrder.buffer);
  scope.postMessage({ type: 'positions', version, xy, alpha: engine.alpha, settled: engine.settled, ticks, tickMs, ...extra }, transfer);
}

function run(): void {
  timer = null;
  const started = performance.now();
  let ticks = 0;
  while (!engine.settled && ticks < MAX_TICKS_PER_BATCH && (ticks === 0 || performance.now() - started < BATCH_MS)) {
    engine.tick();
    ticks++;
  }
  const elapsed = performance.now() - started;
  post(ticks, elapsed, null);
  if (!engine.settled) timer = setTimeout(run, Math.max(0, FRAME_MS - elapsed));
}

scope.onmessage = (event) => {
  const msg = event.data;
  try {
    if (msg.type !== 'graph') throw new Error(`unknown message type ${(msg as { type: unknown }).type}`);
    version = msg.version;
    const update = engine.setGraph(msg);
    // The new version's positions go out at once (the page draws the new graph without waiting
    // for a tick), with the draw order it needs.
    post(0, 0, { drawOrder: update.drawOrder, layoutLinks: update.layoutLinks });
    if (!engine.settled && timer === null) timer = setTimeout(run, 0);
  } catch (err) {
    scope.postMessage({ type: 'error', message: `layout worker: ${err instanceof Error ? err.message : String(err)}` }, []);
  }
};
