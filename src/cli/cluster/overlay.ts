/**
 * Checks on an overlay read from the nodes' APIs: used by `cluster` tests and the cluster benchmark
 * to decide when a cloud has formed (views of node ids, by node id).
 */

/** True if the undirected union of `edges` connects all of `ids` (edges to other ids are ignored). */
export function connected(ids: readonly string[], edges: ReadonlyMap<string, readonly string[]>): boolean {
  if (ids.length === 0) return true;
  const adj = new Map<string, Set<string>>(ids.map((id) => [id, new Set()]));
  for (const [from, tos] of edges) {
    for (const to of tos) {
      if (adj.has(from) && adj.has(to)) {
        adj.get(from)!.add(to);
        adj.get(to)!.add(from);
      }
    }
  }
  const seen = new Set([ids[0]]);
  const stack = [ids[0]];
  while (stack.length > 0) {
    for (const next of adj.get(stack.pop()!)!) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return seen.size === ids.length;
}
