/**
 * Every slice seen in the crawl: owner, coordinator, size and ring health (members whose ring
 * neighbours are right; whether the ring is whole). Slices coordinated by the serving node also
 * show their target and spec, and their owner, when signed in, can grow, shrink or delete them.
 */
import { useState } from 'preact/hooks';
import { ringHealth } from '../../monitoring/ring-health.js';
import { type OverlayReport, type SliceView, api } from '../api.js';
import type { GraphSlice } from '../graph/model.js';
import { shortId } from '../format.js';
import type { BrowserUser } from '../signing.js';
import { type Column, SortableTable } from './SortableTable.js';

interface Row {
  readonly sliceId: string;
  readonly name: string;
  readonly ownerUser: string;
  readonly ownerNode: string;
  readonly members: number;
  readonly correct: number;
  readonly whole: boolean;
  readonly owned: SliceView | null;
  readonly color: string | null;
}

export function sliceRows(overlay: OverlayReport | null, owned: readonly SliceView[], colors: readonly GraphSlice[]): Row[] {
  const nodes = overlay?.nodes ?? [];
  const health = ringHealth(
    nodes.map((n) => ({
      id: n.id,
      live: n.state === 'live',
      sliceId: n.snapshot?.slice?.sliceId ?? null,
      predecessor: n.snapshot?.ring.predecessor ?? null,
      successor: n.snapshot?.ring.successor ?? null,
    })),
  );
  const refs = new Map<string, { name: string; ownerUser: string; ownerNode: string }>();
  for (const n of nodes) if (n.state === 'live' && n.snapshot?.slice) refs.set(n.snapshot.slice.sliceId, n.snapshot.slice);
  const rows: Row[] = health.map((h) => {
    const ref = refs.get(h.sliceId)!;
    return { sliceId: h.sliceId, ...ref, members: h.members, correct: h.correct, whole: h.whole, owned: owned.find((s) => s.sliceId === h.sliceId) ?? null, color: colors.find((c) => c.sliceId === h.sliceId)?.color ?? null };
  });
  for (const s of owned) {
    if (rows.some((r) => r.sliceId === s.sliceId)) continue;
    rows.push({ sliceId: s.sliceId, name: s.name, ownerUser: s.ownerUser, ownerNode: overlay?.self ?? '', members: 0, correct: 0, whole: false, owned: s, color: null });
  }
  return rows;
}

export interface SlicesTableProps {
  readonly overlay: OverlayReport | null;
  readonly owned: readonly SliceView[];
  readonly colors: readonly GraphSlice[];
  readonly user: BrowserUser | null;
  readonly onChanged: () => void;
  readonly announce: (message: string) => void;
}

export function SlicesTable(p: SlicesTableProps) {
  const rows = sliceRows(p.overlay, p.owned, p.colors);
  const columns: Column<Row>[] = [
    {
      key: 'name',
      label: 'Slice',
      sort: (r) => r.name,
      cell: (r) => (
        <span>
          {r.color && <span class="swatch" style={{ background: r.color }} aria-hidden="true" />}
          {r.name}
        </span>
      ),
    },
    { key: 'owner', label: 'Owner', sort: (r) => r.ownerUser, cell: (r) => <span title={r.ownerUser}>{p.user?.userId === r.ownerUser ? 'you' : shortId(r.ownerUser)}</span> },
    { key: 'coord', label: 'Coordinator', sort: (r) => r.ownerNode, cell: (r) => <span title={r.ownerNode}>{r.ownerNode === p.overlay?.self ? 'this node' : shortId(r.ownerNode)}</span> },
    { key: 'size', label: 'Members', numeric: true, sort: (r) => r.members, cell: (r) => (r.owned ? `${r.members} / ${r.owned.target}` : r.members) },
    {
      key: 'ring',
      label: 'Ring health',
      numeric: true,
      sort: (r) => (r.members === 0 ? 0 : r.correct / r.members),
      cell: (r) => (
        <span class={r.whole && r.correct === r.members ? 'ok' : 'warn'}>
          {r.correct}/{r.members} right{r.whole ? ', whole' : ', repairing'}
        </span>
      ),
    },
    { key: 'spec', label: 'Request', cell: (r) => r.owned?.spec.text ?? '' },
    { key: 'actions', label: 'Actions', cell: (r) => <SliceActions row={r} {...p} /> },
  ];
  return <SortableTable caption={`Slices (${rows.length})`} columns={columns} rows={rows} rowKey={(r) => r.sliceId} empty="No slices yet." />;
}

function SliceActions({ row, user, overlay, onChanged, announce }: { row: Row } & SlicesTableProps) {
  const [busy, setBusy] = useState(false);
  const [count, setCount] = useState('1');
  // Slices are changed through the node that coordinates them (it renews the leases).
  if (!row.owned) return <span class="muted">{row.ownerNode === overlay?.self ? '' : "on its coordinator's dashboard"}</span>;
  if (!user) return <span class="muted">sign in to change</span>;
  if (user.userId !== row.ownerUser) return <span class="muted">not yours</span>;
  const act = async (what: string, fn: () => Promise<unknown>) => {
    setBusy(true);
    announce(`${what} slice ${row.name}…`);
    try {
      await fn();
      announce(`${what} slice ${row.name}: done`);
      onChanged();
    } catch (err) {
      announce(`${what} slice ${row.name} failed: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const n = Number(count);
  const valid = Number.isInteger(n) && n >= 1;
  return (
    <span class="actions">
      <label>
        <span class="visually-hidden">Nodes to add or remove from {row.name}</span>
        <input type="number" min={1} value={count} onInput={(e) => setCount((e.target as HTMLInputElement).value)} disabled={busy} size={3} />
      </label>
      <button type="button" disabled={busy || !valid} onClick={() => act('Growing', () => api.growSlice(user, row.name, n))}>
        Grow
      </button>
      <button type="button" disabled={busy || !valid} onClick={() => act('Shrinking', () => api.shrinkSlice(user, row.name, n))}>
        Shrink
      </button>
      <button
        type="button"
        class="danger"
        disabled={busy}
        onClick={() => {
          if (confirm(`Delete slice ${row.name}? Its ${row.members} nodes are released.`)) void act('Deleting', () => api.deleteSlice(user, row.name));
        }}
      >
        Delete
      </button>
    </span>
  );
}
