/**
 * slices.maxShare: the share of its machine a node lets a slice use (the "caps on the share
 * of the machine a slice may use"). A node with 16 cores and 64 GiB at maxShare 0.5 offers itself
 * to slice queries as a node of 8 cores and 32 GiB: `--where` is evaluated against the capped
 * values (so `cores>=12` does not pick it), and its offer reports them to the slice's owner.
 * Free cores and free memory are capped by the same limits; everything else (CPU score, load,
 * disk, availability, labels) is what the node measures.
 */
import type { NodeAttributes } from '../node/attributes.js';

/** What a slice may use of a node, as its offer reports it. */
export interface SliceResources {
  readonly cores: number;
  readonly memoryBytes: number;
}

/** `attributes` as slice queries see them on a node sharing `maxShare` (0 < maxShare ≤ 1) of itself. */
export function shareOf(attributes: NodeAttributes, maxShare: number): NodeAttributes {
  if (!(maxShare > 0 && maxShare <= 1)) throw new RangeError(`slices.maxShare must be more than 0 and at most 1, got ${maxShare}`);
  if (maxShare === 1) return attributes;
  const cores = Math.floor(maxShare * attributes.cores);
  const memoryTotalBytes = Math.floor(maxShare * attributes.memoryTotalBytes);
  return {
    ...attributes,
    cores,
    freeCores: Math.min(attributes.freeCores, cores),
    memoryTotalBytes,
    memoryFreeBytes: Math.min(attributes.memoryFreeBytes, memoryTotalBytes),
  };
}

/** The resources an offer reports (attributes already capped by shareOf). */
export function resourcesOf(attributes: NodeAttributes): SliceResources {
  return { cores: Math.max(0, Math.floor(attributes.cores)), memoryBytes: Math.max(0, Math.floor(attributes.memoryTotalBytes)) };
}
