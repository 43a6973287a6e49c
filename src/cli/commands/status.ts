import { Command } from 'commander';
import type { NetworkAggregates, NodeInfo, PeerView } from '../../api/schemas.js';
import { formatNumber, formatTable } from '../output.js';
import { defaultApiUrl, getJson } from './api-client.js';

interface ClientOptions {
  api?: string;
  json?: boolean;
}

function clientCommand(name: string, description: string, path: string, render: (body: unknown) => string): Command {
  return new Command(name)
    .description(description)
    .option('--api <url>', `the node's API (default: $PEERCLOUD_API or ${defaultApiUrl({})})`)
    .option('--json', 'print the API\'s JSON answer instead of a table')
    .action(async (opts: ClientOptions) => {
      const body = await getJson(opts.api ?? defaultApiUrl(), path);
      process.stdout.write(opts.json ? `${JSON.stringify(body, null, 2)}\n` : render(body));
    });
}

const bytes = (v: number | null): string => (v === null ? '-' : `${formatNumber(v / 2 ** 30)} GiB`);
const num = (v: number | null): string => (v === null ? '-' : formatNumber(v));
const time = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

export function renderStatus(n: NodeInfo): string {
  const a = n.attributes;
  const addr = (x: { host: string; port: number } | null) => (x ? `${x.host}:${x.port}` : '-');
  const rows: [string, string][] = [
    ['id', n.id],
    ['name', n.name],
    ['version', n.version],
    ['uptime', `${formatNumber(n.uptimeMs / 1000)} s`],
    ['listen', addr(n.addresses.listen)],
    ['advertise', addr(n.addresses.advertise)],
    ['api', addr(n.addresses.api)],
    ['cores', `${a.cores} (free ${formatNumber(a.freeCores)}, load ${formatNumber(a.loadAverage)})`],
    ['cpu score', formatNumber(a.cpuScore)],
    ['memory', `${bytes(a.memoryFreeBytes)} free of ${bytes(a.memoryTotalBytes)}`],
    ['disk', `${bytes(a.diskFreeBytes)} free of ${bytes(a.diskTotalBytes)}`],
    ['availability', `day ${formatNumber(a.availability.day)}, week ${formatNumber(a.availability.week)}`],
    ['labels', Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '-'],
  ];
  return `${formatTable(['field', 'value'], rows)}\n`;
}

export function renderPeers(v: PeerView): string {
  const head = `${v.count} peers in the ${v.protocol} view (capacity ${v.viewSize})\n`;
  if (v.peers.length === 0) return `${head}(the view is empty: the node has not joined yet)\n`;
  return `${head}${formatTable(['id', 'address', 'age'], v.peers.map((p) => [p.id, `${p.address.host}:${p.address.port}`, p.age]))}\n`;
}

export function renderNetwork(n: NetworkAggregates): string {
  const rows: [string, string, string][] = [
    ['nodes (estimate)', num(n.size.estimate), ''],
    ['free cores', num(n.cores.averageFree), num(n.cores.totalFree)],
    ['free memory', bytes(n.memory.averageFree), bytes(n.memory.totalFree)],
    ['free disk', bytes(n.disk.averageFree), bytes(n.disk.totalFree)],
    ['load', num(n.load.average), ''],
    // Absent from nodes older than the aggregate; null until an epoch has summed it.
    ['slices', '', n.userSlices === undefined ? '-' : num(n.userSlices.total)],
  ];
  const epoch = `epoch ${n.epoch.current ?? '-'} (cycle ${n.epoch.cycle} of ${n.epoch.lengthCycles}); estimates computed at ${time(n.computedAt)}\n`;
  return `${formatTable(['aggregate', 'average', 'total'], rows)}\n${epoch}`;
}

export function statusCommands(): Command[] {
  return [
    clientCommand('status', 'show the node\'s identity, addresses and attributes (from its API)', '/v1/node', (b) => renderStatus(b as NodeInfo)),
    clientCommand('peers', 'show the node\'s current peer sampling view', '/v1/peers', (b) => renderPeers(b as PeerView)),
    clientCommand('network', 'show the network aggregates the node estimates: size, free cores, memory, disk, load, slices', '/v1/network', (b) => renderNetwork(b as NetworkAggregates)),
  ];
}
