/**
 * Zoom and pan: the map from layout coordinates to canvas (CSS) pixels,
 * screen = world · k + (x, y). Pure, so it is tested in Node.
 */

export interface Transform {
  readonly k: number;
  readonly x: number;
  readonly y: number;
}

export const MIN_ZOOM = 0.02;
export const MAX_ZOOM = 8;
export const IDENTITY: Transform = { k: 1, x: 0, y: 0 };

const clampZoom = (k: number) => Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, k));

export function toScreen(t: Transform, wx: number, wy: number): { x: number; y: number } {
  return { x: wx * t.k + t.x, y: wy * t.k + t.y };
}

export function toWorld(t: Transform, sx: number, sy: number): { x: number; y: number } {
  return { x: (sx - t.x) / t.k, y: (sy - t.y) / t.k };
}

/**
 * The transform that shows every position ([x0, y0, ...], NaNs ignored) in a width × height
 * canvas with `padding` pixels around; zoom capped at `maxK` so a handful of nodes is not blown
 * up to fill the screen.
 */
export function fitTransform(xy: Float32Array, width: number, height: number, padding = 24, maxK = 2): Transform {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < xy.length; i += 2) {
    const x = xy[i];
    const y = xy[i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (minX > maxX || width <= 0 || height <= 0) return { k: 1, x: width / 2, y: height / 2 };
  const w = Math.max(1, width - 2 * padding);
  const h = Math.max(1, height - 2 * padding);
  const k = clampZoom(Math.min(maxK, w / Math.max(1e-6, maxX - minX), h / Math.max(1e-6, maxY - minY)));
  return { k, x: width / 2 - ((minX + maxX) / 2) * k, y: height / 2 - ((minY + maxY) / 2) * k };
}

/** Zooms by `factor` keeping the screen point (sx, sy) fixed (under the pointer, or the centre). */
export function zoomAround(t: Transform, factor: number, sx: number, sy: number): Transform {
  const k = clampZoom(t.k * factor);
  const w = toWorld(t, sx, sy);
  return { k, x: sx - w.x * k, y: sy - w.y * k };
}

export function panBy(t: Transform, dx: number, dy: number): Transform {
  return { k: t.k, x: t.x + dx, y: t.y + dy };
}

/** Pans as little as needed for the world point to be at least `margin` pixels inside the canvas. */
export function ensureVisible(t: Transform, wx: number, wy: number, width: number, height: number, margin = 40): Transform {
  const s = toScreen(t, wx, wy);
  const m = Math.min(margin, width / 2, height / 2);
  const dx = s.x < m ? m - s.x : s.x > width - m ? width - m - s.x : 0;
  const dy = s.y < m ? m - s.y : s.y > height - m ? height - m - s.y : 0;
  return dx === 0 && dy === 0 ? t : panBy(t, dx, dy);
}

/** Moves a transform a fraction of the way to another (the fit animation while the layout runs). */
export function approach(from: Transform, to: Transform, fraction: number): Transform {
  const f = Math.min(1, Math.max(0, fraction));
  return { k: from.k + (to.k - from.k) * f, x: from.x + (to.x - from.x) * f, y: from.y + (to.y - from.y) * f };
}
