/** Every crawled node with its attributes, availability and slice; a node's name selects it. */
import type { OverlayReport } from '../api.js';
import { UNKNOWN, bytes, duration, num, percent, shortId } from '../format.js';
import { type Column, SortableTable } from './SortableTable.js';

type Row = OverlayReport['nodes'][number];

export function NodesTable({ overlay, selected, onSelect }: { overlay: OverlayReport | null; selected: string | null; onSelect(id: string): void }) {
  const rows = overlay?.nodes ?? [];
  const a = (r: Row) => r.snapshot?.attributes;
  const columns: Column<Row>[] = [
    {
      key: 'name',
      label: 'Node',
      sort: (r) => r.snapshot?.name ?? r.id,
      cell: (r) => (
        <button type="button" class="link" onClick={() => onSelect(r.id)} title={r.id} aria-pressed={selected === r.id}>
          {r.snapshot?.name || shortId(r.id)}
          {r.id === overlay?.self ? ' (this node)' : ''}
        </button>
      ),
    },
    { key: 'state', label: 'State', sort: (r) => r.state, cell: (r) => <span class={`state state-${r.state}`}>{r.state}</span> },
    { key: 'address', label: 'Address', sort: (r) => `${r.address.host}:${String(r.address.port).padStart(5, '0')}`, cell: (r) => `${r.address.host}:${r.address.port}` },
    { key: 'cores', label: 'Cores', numeric: true, sort: (r) => a(r)?.cores ?? -1, cell: (r) => a(r)?.cores ?? UNKNOWN },
    { key: 'cpu', label: 'CPU score', numeric: true, sort: (r) => a(r)?.cpuScore ?? -1, cell: (r) => num(a(r)?.cpuScore, 0) },
    { key: 'load', label: 'Load', numeric: true, sort: (r) => a(r)?.loadAverage ?? -1, cell: (r) => num(a(r)?.loadAverage, 2) },
    { key: 'mem', label: 'Memory free', numeric: true, sort: (r) => a(r)?.memoryFreeBytes ?? -1, cell: (r) => (a(r) ? `${bytes(a(r)!.memoryFreeBytes)} / ${bytes(a(r)!.memoryTotalBytes)}` : UNKNOWN) },
    { key: 'disk', label: 'Disk free', numeric: true, sort: (r) => a(r)?.diskFreeBytes ?? -1, cell: (r) => bytes(a(r)?.diskFreeBytes) },
    { key: 'avail', label: 'Availability (day / week)', numeric: true, sort: (r) => a(r)?.availabilityWeek ?? -1, cell: (r) => (a(r) ? `${percent(a(r)!.availabilityDay)} / ${percent(a(r)!.availabilityWeek)}` : UNKNOWN) },
    { key: 'uptime', label: 'Uptime', numeric: true, sort: (r) => r.snapshot?.uptimeMs ?? -1, cell: (r) => (r.snapshot ? duration(r.snapshot.uptimeMs) : UNKNOWN) },
    { key: 'slice', label: 'Slice', sort: (r) => r.snapshot?.slice?.name ?? '', cell: (r) => r.snapshot?.slice?.name ?? '' },
    {
      key: 'labels',
      label: 'Labels',
      cell: (r) =>
        Object.entries(r.snapshot?.labels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
    },
  ];
  return <SortableTable caption={`Nodes (${rows.length})`} columns={columns} rows={rows} rowKey={(r) => r.id} selected={selected} empty="Crawling the overlay…" />;
}
