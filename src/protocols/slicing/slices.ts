/**
 * What a slicing protocol answers (Jelasity & Kermarrec, "Ordered slicing of very large-scale
 * overlay networks", IEEE P2P 2006, §2): every node estimates its normalized position in the order
 * of an attribute (0 = lowest value, 1 = highest) and derives from it which of s equal slices it
 * belongs to and whether it is in the top fraction p.
 *
 * Conventions shared by all slicing protocols, so their answers are mutually consistent:
 * - slice(s) = min(s − 1, ⌊rank · s⌋): slice k holds the ranks in [k/s, (k+1)/s), the last one
 *   also rank 1 (JK's r values live in (0, 1]);
 * - inTopFraction(p) ⇔ rank ≥ 1 − p; for p = k/s with s a power of two this is exactly
 *   slice(s) ≥ s − k (for other s, floating point may differ by one ulp at a boundary).
 */
import type { PeerHandle } from '../../core/handles.js';

export interface SliceEstimator {
  /** The node's estimate of its normalized rank in [0, 1] by the attribute. */
  estimatedRank(self: PeerHandle): number;
  /** Which of `s` equal slices the node believes it is in, 0-based (s − 1 = highest values). */
  slice(self: PeerHandle, s: number): number;
  /** Whether the node believes it is in the top fraction `p` (e.g. 0.05: top 5%) by the attribute. */
  inTopFraction(self: PeerHandle, p: number): boolean;
}

/** The node's attribute value (simulator: a random draw; daemon: CPU score, memory, …). */
export type AttributeSource = (node: PeerHandle) => number;

export function sliceOfRank(rank: number, s: number): number {
  if (!Number.isInteger(s) || s < 1) throw new RangeError(`number of slices must be a positive integer, got ${s}`);
  const k = Math.floor(rank * s);
  return k < 0 ? 0 : k >= s ? s - 1 : k;
}

export function rankInTop(rank: number, p: number): boolean {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`top fraction p must be in [0, 1], got ${p}`);
  return rank >= 1 - p;
}

/** Reads an attribute value and rejects what cannot be ordered. */
export function readAttribute(source: AttributeSource, node: PeerHandle): number {
  const a = source(node);
  if (!Number.isFinite(a)) throw new RangeError(`attribute of node ${node} must be a finite number, got ${a}`);
  return a;
}
