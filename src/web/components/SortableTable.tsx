/**
 * A table with sortable columns: each header is a button (keyboard-operable) and the sorted column
 * carries aria-sort, as the WAI-ARIA sortable table pattern says.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export interface Column<Row> {
  readonly key: string;
  readonly label: string;
  readonly cell: (row: Row) => ComponentChildren;
  /** Sort value; columns without one are not sortable. */
  readonly sort?: (row: Row) => number | string;
  readonly numeric?: boolean;
}

export interface SortableTableProps<Row> {
  readonly caption: string;
  readonly columns: readonly Column<Row>[];
  readonly rows: readonly Row[];
  readonly rowKey: (row: Row) => string;
  readonly initialSort?: string;
  readonly selected?: string | null;
  readonly onSelect?: (key: string) => void;
  readonly empty?: string;
}

export function SortableTable<Row>(p: SortableTableProps<Row>) {
  const [sortKey, setSortKey] = useState(p.initialSort ?? p.columns[0].key);
  const [ascending, setAscending] = useState(true);
  const col = p.columns.find((c) => c.key === sortKey);
  const rows = col?.sort
    ? [...p.rows].sort((a, b) => {
        const x = col.sort!(a);
        const y = col.sort!(b);
        const c = x < y ? -1 : x > y ? 1 : 0;
        return ascending ? c : -c;
      })
    : p.rows;
  return (
    <div class="table-wrap">
      <table>
        <caption>{p.caption}</caption>
        <thead>
          <tr>
            {p.columns.map((c) => (
              <th scope="col" class={c.numeric ? 'num' : undefined} aria-sort={c.key === sortKey ? (ascending ? 'ascending' : 'descending') : undefined}>
                {c.sort ? (
                  <button
                    type="button"
                    class="sort"
                    onClick={() => {
                      if (c.key === sortKey) setAscending(!ascending);
                      else {
                        setSortKey(c.key);
                        setAscending(true);
                      }
                    }}
                  >
                    {c.label}
                    <span aria-hidden="true">{c.key === sortKey ? (ascending ? ' ▲' : ' ▼') : ''}</span>
                  </button>
                ) : (
                  c.label
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={p.columns.length} class="muted">
                {p.empty ?? 'Nothing yet.'}
              </td>
            </tr>
          ) : (
            rows.map((r) => {
              const key = p.rowKey(r);
              return (
                <tr key={key} class={p.selected === key ? 'selected' : undefined} aria-selected={p.onSelect ? p.selected === key : undefined}>
                  {p.columns.map((c) => (
                    <td class={c.numeric ? 'num' : undefined}>{c.cell(r)}</td>
                  ))}
                </tr>
              );
            })
          )}
        </tbody>
      </table>
    </div>
  );
}
