/**
 * Moving the selection with the keyboard: `[` / `]` step through nodes in label order (a list
 * one can learn, like Tab through a table), arrow keys jump to the nearest node in that direction
 * on screen (what a sighted keyboard user expects of a picture). Pure, tested in Node.
 */
import type { GraphNode } from './model.js';

/** Node indices sorted by label, then id (labels are names and may repeat). */
export function labelOrder(nodes: readonly GraphNode[]): number[] {
  return nodes.map((_, i) => i).sort((a, b) => compare(nodes[a].label, nodes[b].label) || compare(nodes[a].id, nodes[b].id));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The node `delta` steps from `current` in `order`, wrapping around. With nothing selected
 * (or a selection no longer in the graph), the first step lands on `start` if given (the
 * serving node), else on the first (forward) or last (backward) node.
 */
export function cycle(order: readonly number[], current: number | null, delta: number, start: number | null = null): number | null {
  if (order.length === 0) return null;
  const at = current === null ? -1 : order.indexOf(current);
  if (at < 0) return start ?? (delta >= 0 ? order[0] : order[order.length - 1]);
  const n = order.length;
  return order[(((at + delta) % n) + n) % n];
}

/**
 * The nearest node from `from` within 60° of direction (dx, dy) (y grows downwards, as on
 * screen), favouring nodes straight ahead: distance · (1 + 2·sin of the angle off course).
 * Null when there is none that way.
 */
export function nearestInDirection(xy: Float32Array, from: number, dx: number, dy: number): number | null {
  const fx = xy[2 * from];
  const fy = xy[2 * from + 1];
  const len = Math.hypot(dx, dy);
  const ux = dx / len;
  const uy = dy / len;
  const cone = Math.cos(Math.PI / 3);
  let best: number | null = null;
  let bestScore = Infinity;
  for (let i = 0; i < xy.length >> 1; i++) {
    if (i === from) continue;
    const vx = xy[2 * i] - fx;
    const vy = xy[2 * i + 1] - fy;
    const d = Math.hypot(vx, vy);
    if (!(d > 0)) continue;
    const cos = (vx * ux + vy * uy) / d;
    if (cos < cone) continue;
    const score = d * (1 + 2 * Math.sqrt(Math.max(0, 1 - cos * cos)));
    if (score < bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}
