/**
 * Which links the layout pulls on and which links get drawn first, for graphs too big to use them
 * all. A 5000-node overlay with views of 20 has ~100 000 links: the link force over all of them
 * costs more than the charge force, and stroking them all blows the frame budget. Both subsets are
 * chosen by a hash of the two node ids, not by position in the crawl, so the same link stays
 * chosen from one crawl to the next (a new crawl every 2 s lists nodes and edges in another order)
 * and the picture does not flicker.
 *
 * Links are given as pairs of node indices in a flat array: [source0, target0, source1, ...].
 */

/** FNV-1a of a node id: cheap, stable across crawls, good enough to spread links. */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A symmetric rank for the link between two hashed ids (same for a→b and b→a), 31 bits. */
export function linkRank(ha: number, hb: number): number {
  const lo = ha < hb ? ha : hb;
  const hi = ha < hb ? hb : ha;
  // murmur3's finaliser over a mix of both: nearby hashes give unrelated ranks.
  let h = (Math.imul(lo, 0x9e3779b1) ^ hi) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 1;
}

/**
 * Link indices sorted by rank. Sorting a Float64Array of rank·2^21 + index uses the engine's
 * native numeric sort (no comparator calls): 100 000 links in a few milliseconds.
 */
export function rankOrder(pairs: Uint32Array, hashes: Uint32Array): Uint32Array {
  const count = pairs.length >> 1;
  const out = new Uint32Array(count);
  if (count < 1 << 21) {
    const keys = new Float64Array(count);
    for (let e = 0; e < count; e++) keys[e] = linkRank(hashes[pairs[2 * e]], hashes[pairs[2 * e + 1]]) * (1 << 21) + e;
    keys.sort();
    for (let e = 0; e < count; e++) out[e] = keys[e] % (1 << 21);
    return out;
  }
  const ranks = new Uint32Array(count);
  for (let e = 0; e < count; e++) {
    ranks[e] = linkRank(hashes[pairs[2 * e]], hashes[pairs[2 * e + 1]]);
    out[e] = e;
  }
  return out.sort((a, b) => ranks[a] - ranks[b] || a - b);
}

/** How many links per node the layout keeps: all of them for small graphs, fewer as n grows. */
export function layoutLinksPerNode(nodeCount: number): number {
  if (nodeCount <= 1000) return Number.POSITIVE_INFINITY;
  return Math.max(3, Math.round(20_000 / nodeCount));
}

/**
 * The links the layout uses: walking links in rank order, a link is kept while either end has
 * fewer than `maxPerNode` kept links. So every node with a link keeps at least one (no node
 * drifts off alone), a node keeps at most about `maxPerNode` (plus links its busier neighbours
 * needed), and there are at most maxPerNode · n links in all.
 */
export function boundedLinks(pairs: Uint32Array, order: Uint32Array, nodeCount: number, maxPerNode: number): Uint32Array {
  const count = pairs.length >> 1;
  if (!Number.isFinite(maxPerNode)) return order.slice();
  const degree = new Uint32Array(nodeCount);
  const kept: number[] = [];
  for (let i = 0; i < count; i++) {
    const e = order[i];
    const a = pairs[2 * e];
    const b = pairs[2 * e + 1];
    if (degree[a] < maxPerNode || degree[b] < maxPerNode) {
      degree[a]++;
      degree[b]++;
      kept.push(e);
    }
  }
  return Uint32Array.from(kept);
}

/**
 * The order in which links are drawn when only some fit in a frame: the layout's links first
 * (they are the ones the picture's shape comes from), then the rest, each in rank order. Drawing
 * the first k of this order gives a stable, spread-out sample for any k.
 */
export function drawOrder(order: Uint32Array, layoutLinks: Uint32Array): Uint32Array {
  if (layoutLinks.length === order.length) return order.slice();
  const inLayout = new Uint8Array(order.length);
  for (const e of layoutLinks) inLayout[e] = 1;
  const out = new Uint32Array(order.length);
  out.set(layoutLinks);
  let k = layoutLinks.length;
  for (const e of order) if (!inLayout[e]) out[k++] = e;
  return out;
}
