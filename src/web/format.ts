/** Number formatting for the dashboard: binary units like the CLI, and "—" for unknown. */
export const UNKNOWN = '—';

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return UNKNOWN;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 || u === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

export function num(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return UNKNOWN;
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(digits);
}

export function percent(f: number | null | undefined): string {
  if (f === null || f === undefined || !Number.isFinite(f)) return UNKNOWN;
  return `${(f * 100).toFixed(f >= 0.995 || f === 0 ? 0 : 1)}%`;
}

export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** Node and user ids are long: the first characters after the prefix tell them apart. */
export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 10)}…` : id;
}
