/**
 * The words for the graph: the canvas's accessible name (what a screen reader says for the
 * picture), the live region's announcement of the selected node, and the tooltip's lines.
 * Announcements say only what a listener needs when the selection or the node's state changes:
 * the live region must not chatter at every crawl.
 */
import type { GraphData, GraphNode } from './model.js';

export interface GraphCounts {
  readonly nodes: number;
  readonly live: number;
  readonly unreachable: number;
  readonly unknown: number;
  readonly slices: number;
  readonly viewLinks: number;
  readonly ringLinks: number;
}

export function countGraph(data: GraphData): GraphCounts {
  let live = 0;
  let unreachable = 0;
  let unknown = 0;
  for (const n of data.nodes) {
    if (n.state === 'live') live++;
    else if (n.state === 'unreachable') unreachable++;
    else unknown++;
  }
  return { nodes: data.nodes.length, live, unreachable, unknown, slices: data.slices.length, viewLinks: data.viewEdges.length, ringLinks: data.ringEdges.length };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** E.g. "Overlay graph: 12 nodes, 1 unreachable, 2 slices (10 live, 1 unknown; 40 view links)". */
export function ariaLabel(c: GraphCounts): string {
  if (c.nodes === 0) return 'Overlay graph: no nodes yet';
  return `Overlay graph: ${plural(c.nodes, 'node')}, ${c.unreachable} unreachable, ${plural(c.slices, 'slice')} (${c.live} live, ${c.unknown} unknown; ${plural(c.viewLinks, 'view link')})`;
}

function sliceName(data: GraphData, node: GraphNode): string | null {
  return node.slice === null ? null : (data.slices[node.slice]?.name ?? null);
}

/** The live region's sentence for the selection (stable while the node's state is). */
export function announceSelection(data: GraphData, selected: string | null): string {
  if (selected === null) return 'No node selected';
  const node = data.nodes.find((n) => n.id === selected);
  if (!node) return `Selected node ${selected} is no longer in the graph`;
  const slice = sliceName(data, node);
  return `Selected ${node.label}${node.self ? ' (this node)' : ''}: ${node.state}${slice ? `, in slice ${slice}` : ''}`;
}

/** Tooltip lines for node `index`: label, state and slice, links, id. */
export function describeNode(data: GraphData, index: number): string[] {
  const node = data.nodes[index];
  let view = 0;
  for (const e of data.viewEdges) if (e.source === index || e.target === index) view++;
  let successor: string | null = null;
  for (const e of data.ringEdges) if (e.source === index) successor = data.nodes[e.target]?.label ?? null;
  const slice = sliceName(data, node);
  return [
    `${node.label}${node.self ? ' (this node)' : ''}`,
    `${node.state}${slice ? ` · slice ${slice}` : ''}`,
    `${plural(view, 'view link')}${successor ? ` · ring → ${successor}` : ''}`,
    node.id,
  ];
}
