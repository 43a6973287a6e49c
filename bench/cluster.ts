/**
 * `npm run bench -- cluster`: real daemons, one process each, on 127.0.0.1 — the issue's anchor is
 * HashiCorp Serf 0.9 (SWIM) measured on this machine with the same N on loopback.
 *
 * For each N and each kill fraction, a fresh cluster (`peercloud cluster up`, default 1 s cycles):
 *  - join: from `cluster up` returning (every daemon's API live) until the views form one connected
 *    overlay and every view is full (min(c, N − 1) peers) — our "every agent has joined";
 *  - size: until every node's network-size estimate is within ±5% of N (needs an aggregation epoch
 *    to end, so it is bounded below by the epoch length);
 *  - idle (first scenario of each N only, over --idle seconds once the size estimates converged and
 *    at least --warmup seconds after `cluster up` returned): CPU per daemon from /proc, RSS, and
 *    transport payload bytes per daemon per second from /metrics. The warm-up leaves out a one-time
 *    cost: in its first minute a daemon fetches the descriptor (~140 bytes) of every node it hears
 *    of (src/node/descriptor-store.ts), ~100 bytes/s more at N = 100 than it sends from then on;
 *  - detect: kill -9 of a random fraction of the nodes, then the time until no survivor's view holds
 *    a killed node (polling every survivor's /v1/peers), and whether the survivors stay connected.
 * The polling costs the daemons some CPU of their own; idle figures are taken without it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterDown, clusterUp, randomBasePort } from '../src/cli/cluster/cluster-ops.js';
import type { ClusterState } from '../src/cli/cluster/cluster-state.js';
import { connected } from '../src/cli/cluster/overlay.js';
import { formatTable } from '../src/cli/output.js';
import { type Benchmark, integerOption, median, parseBenchArgs } from './benchmark.js';

const usage = 'cluster [--sizes 10,50,100] [--kills 10,50] [--cycle-ms 1000] [--idle 20] [--warmup 90] [--timeout 120] [--json]';

export const clusterBenchmark: Benchmark = {
  name: 'cluster',
  description: 'N daemon processes on loopback: join convergence, dead-node detection after kill -9, idle CPU, RSS, bytes/s',
  usage,
  main: runClusterBench,
};

/** Serf 0.9 on this machine (from the issue): same N on loopback. */
const SERF: Record<number, { join: number; detect10: number; detect50: number }> = {
  10: { join: 0.2, detect10: 5.7, detect50: 14 },
  50: { join: 0.7, detect10: 9.7, detect50: 22 },
  100: { join: 1.6, detect10: 13, detect50: 25 },
};

interface Options {
  sizes: number[];
  kills: number[];
  cycleMs: number;
  idleS: number;
  warmupS: number;
  timeoutS: number;
  json: boolean;
}

function parseOptions(args: string[]): Options {
  const v = parseBenchArgs(
    args,
    {
      sizes: { type: 'string' },
      kills: { type: 'string' },
      'cycle-ms': { type: 'string' },
      idle: { type: 'string' },
      warmup: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
    },
    usage,
  );
  const list = (name: string, text: string | undefined, fallback: number[], min: number, max: number): number[] =>
    text === undefined ? fallback : text.split(',').map((t) => integerOption(name, t.trim(), 0, min, max));
  return {
    sizes: list('sizes', v.sizes, [10, 50, 100], 2, 200),
    kills: list('kills', v.kills, [10, 50], 1, 90),
    cycleMs: integerOption('cycle-ms', v['cycle-ms'], 1000, 50, 60_000),
    idleS: integerOption('idle', v.idle, 20, 1, 600),
    warmupS: integerOption('warmup', v.warmup, 90, 0, 3600),
    timeoutS: integerOption('timeout', v.timeout, 120, 5, 3600),
    json: v.json === true,
  };
}

interface Scenario {
  nodes: number;
  killPercent: number;
  joinS: number | null;
  sizeS: number | null;
  detectS: number | null;
  connectedAfterKill: boolean | null;
  idle: Idle | null;
}

interface Idle {
  cpuPercent: number;
  rssMiB: number;
  privateMiB: number;
  bytesOutPerS: number;
  bytesInPerS: number;
  framesOutPerS: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`bench cluster: ${line}\n`);

async function getJson<T>(api: string, path: string): Promise<T | null> {
  try {
    const res = await fetch(new URL(path, api), { signal: AbortSignal.timeout(3_000) });
    return res.ok ? ((await res.json()) as T) : null;
  } catch {
    return null;
  }
}

interface Snapshot {
  views: Map<string, string[]>;
  viewSize: number;
  estimates: (number | null)[];
}

/** Every node's view and, with `withNetwork`, its size estimate (the join and detect phases need only views). */
async function snapshot(nodes: ClusterState['nodes'], withNetwork: boolean): Promise<Snapshot> {
  const views = new Map<string, string[]>();
  let viewSize = 0;
  const estimates = await Promise.all(
    nodes.map(async (n) => {
      const [peers, network] = await Promise.all([
        getJson<{ viewSize: number; peers: { id: string }[] }>(n.api, '/v1/peers?limit=1000'),
        withNetwork ? getJson<{ size: { estimate: number | null } }>(n.api, '/v1/network') : null,
      ]);
      if (peers) {
        views.set(n.nodeId, peers.peers.map((p) => p.id));
        viewSize = peers.viewSize;
      }
      return network?.size.estimate ?? null;
    }),
  );
  return { views, viewSize, estimates };
}

/**
 * Polls until `done` holds for a snapshot; seconds since `since`, or null at the timeout. Polling
 * costs the daemons CPU (an HTTP request each, on the cores they share), so it asks only for what
 * `done` looks at.
 */
async function until(nodes: ClusterState['nodes'], since: number, timeoutS: number, withNetwork: boolean, done: (s: Snapshot) => boolean): Promise<number | null> {
  for (;;) {
    const s = await snapshot(nodes, withNetwork);
    if (done(s)) return (performance.now() - since) / 1000;
    if (performance.now() - since > timeoutS * 1000) return null;
    await sleep(100);
  }
}

function procCpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15 of stat)
}

function procStatusKiB(pid: number, field: 'VmRSS' | 'RssAnon'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

/**
 * From /v1/transport, not /metrics: the first scrape loads the Prometheus exporter into the daemon
 * (~2 MiB, and its event-loop monitor's CPU), which would be measured as the daemon's idle cost.
 */
async function transportCounters(api: string): Promise<{ out: number; in: number; framesOut: number } | null> {
  const stats = await getJson<{ bytesOut: number; bytesIn: number; framesOut: number }>(api, '/v1/transport');
  return stats && { out: stats.bytesOut, in: stats.bytesIn, framesOut: stats.framesOut };
}

/** Linux's USER_HZ: /proc times are in 1/100 s on every architecture Node runs on. */
const TICKS_PER_S = 100;

async function measureIdle(state: ClusterState, seconds: number): Promise<Idle> {
  const nodes = state.nodes.filter((n) => n.pid !== null);
  const c0 = await Promise.all(nodes.map((n) => transportCounters(n.api)));
  const t0 = performance.now();
  const cpu0 = nodes.map((n) => procCpuTicks(n.pid!));
  await sleep(seconds * 1000);
  const cpu1 = nodes.map((n) => procCpuTicks(n.pid!));
  const elapsed = (performance.now() - t0) / 1000;
  const c1 = await Promise.all(nodes.map((n) => transportCounters(n.api)));
  const rss = nodes.map((n) => procStatusKiB(n.pid!, 'VmRSS') / 1024);
  // Private memory: RSS minus the node binary's code pages, which every daemon shares.
  const anon = nodes.map((n) => procStatusKiB(n.pid!, 'RssAnon') / 1024);
  const per = (f: (a: NonNullable<(typeof c0)[number]>, b: NonNullable<(typeof c0)[number]>) => number) =>
    median(nodes.map((_, i) => (c0[i] && c1[i] ? f(c0[i]!, c1[i]!) / elapsed : Number.NaN)).filter((x) => Number.isFinite(x)));
  return {
    cpuPercent: median(cpu0.map((c, i) => ((cpu1[i] - c) / TICKS_PER_S / elapsed) * 100)),
    rssMiB: median(rss),
    privateMiB: median(anon),
    bytesOutPerS: per((a, b) => b.out - a.out),
    bytesInPerS: per((a, b) => b.in - a.in),
    framesOutPerS: per((a, b) => b.framesOut - a.framesOut),
  };
}

async function startCluster(n: number, root: string, cycleMs: number): Promise<ClusterState> {
  for (let attempt = 0; ; attempt++) {
    const basePort = randomBasePort(n);
    try {
      return await clusterUp({ nodes: n, dataRoot: root, basePort, cyclePeriodMs: cycleMs, readyTimeoutMs: 180_000, progress: (line) => log(`  ${line}`) });
    } catch (err) {
      if (attempt < 5 && /already in use/.test((err as Error).message)) continue;
      throw err;
    }
  }
}

async function runScenario(n: number, killPercent: number, o: Options, withIdle: boolean): Promise<Scenario> {
  const root = mkdtempSync(join(tmpdir(), `peercloud-bench-${n}-`));
  const result: Scenario = { nodes: n, killPercent, joinS: null, sizeS: null, detectS: null, connectedAfterKill: null, idle: null };
  let kept = false;
  try {
    log(`N=${n}, kill ${killPercent}%: starting ${n} daemons`);
    const state = await startCluster(n, root, o.cycleMs);
    const up = performance.now();
    const ids = state.nodes.map((x) => x.nodeId);
    result.joinS = await until(state.nodes, up, o.timeoutS, false, (s) => {
      const full = Math.min(s.viewSize, n - 1);
      return s.views.size === n && [...s.views.values()].every((v) => v.length >= full) && connected(ids, s.views);
    });
    log(`  join: ${fmt(result.joinS)} s`);
    result.sizeS = await until(state.nodes, up, o.timeoutS, true, (s) => s.estimates.every((e) => e !== null && Math.abs(e - n) <= 0.05 * n));
    log(`  size estimates within 5%: ${fmt(result.sizeS)} s`);
    if (withIdle) {
      const wait = o.warmupS * 1000 - (performance.now() - up);
      if (wait > 0) {
        log(`  warming up for ${fmt(wait / 1000)} s more`);
        await sleep(wait);
      }
      log(`  measuring idle cost over ${o.idleS} s`);
      result.idle = await measureIdle(state, o.idleS);
    }
    const k = Math.max(1, Math.round((n * killPercent) / 100));
    const order = [...state.nodes].sort(() => Math.random() - 0.5);
    const victims = order.slice(0, k);
    const survivors = order.slice(k);
    const dead = new Set(victims.map((v) => v.nodeId));
    const killedAt = performance.now();
    for (const v of victims) {
      try {
        process.kill(v.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    log(`  killed ${k} of ${n}`);
    result.detectS = await until(survivors, killedAt, o.timeoutS, false, (s) => s.views.size === survivors.length && [...s.views.values()].every((v) => v.every((id) => !dead.has(id))));
    const after = await snapshot(survivors, false);
    result.connectedAfterKill = connected(survivors.map((x) => x.nodeId), after.views);
    log(`  every survivor's view free of killed nodes: ${fmt(result.detectS)} s; survivors connected: ${result.connectedAfterKill}`);
  } catch (err) {
    kept = true; // the daemons' logs say why
    throw new Error(`${(err as Error).message} (logs kept in ${root})`, { cause: err });
  } finally {
    await clusterDown(root, 5_000).catch((err: unknown) => log(`cluster down failed: ${(err as Error).message}`));
    if (!kept) rmSync(root, { recursive: true, force: true });
  }
  return result;
}

function fmt(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

async function runClusterBench(args: string[]): Promise<number> {
  const o = parseOptions(args);
  const scenarios: Scenario[] = [];
  for (const n of o.sizes) {
    for (const [i, kill] of o.kills.entries()) {
      // One failed start (a port taken meanwhile, a daemon that exited) is retried once; a second
      // failure is reported in the table instead of losing the runs already made.
      let result: Scenario | null = null;
      for (let attempt = 0; attempt < 2 && result === null; attempt++) {
        try {
          result = await runScenario(n, kill, o, i === 0);
        } catch (err) {
          log(`N=${n}, kill ${kill}%: ${(err as Error).message}${attempt === 0 ? '; retrying once' : ''}`);
        }
      }
      scenarios.push(result ?? { nodes: n, killPercent: kill, joinS: null, sizeS: null, detectS: null, connectedAfterKill: null, idle: null });
    }
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ cycleMs: o.cycleMs, scenarios }, null, 2)}\n`);
    return 0;
  }
  const rows: string[][] = [];
  for (const n of o.sizes) {
    const mine = scenarios.filter((s) => s.nodes === n);
    const idle = mine.find((s) => s.idle !== null)?.idle ?? null;
    const detect = (p: number) => fmt(mine.find((s) => s.killPercent === p)?.detectS);
    const serf = SERF[n];
    rows.push([
      String(n),
      `${fmt(median(mine.map((s) => s.joinS ?? Number.NaN).filter(Number.isFinite)))}${serf ? ` (${serf.join})` : ''}`,
      fmt(median(mine.map((s) => s.sizeS ?? Number.NaN).filter(Number.isFinite))),
      ...o.kills.map((p) => `${detect(p)}${serf && (p === 10 || p === 50) ? ` (${p === 10 ? serf.detect10 : serf.detect50})` : ''}`),
      mine.every((s) => s.connectedAfterKill !== false) ? 'yes' : 'NO',
      idle ? fmt(idle.cpuPercent, 2) : '—',
      idle ? `${fmt(idle.rssMiB, 1)} / ${fmt(idle.privateMiB, 1)}` : '—',
      idle ? `${fmt(idle.bytesOutPerS, 0)} / ${fmt(idle.bytesInPerS, 0)}` : '—',
      idle ? fmt(idle.framesOutPerS, 1) : '—',
    ]);
  }
  process.stdout.write(
    `${formatTable(
      ['N', 'join s (Serf)', 'size ±5% s', ...o.kills.map((p) => `detect ${p}% s (Serf)`), 'connected', 'idle CPU %', 'RSS / private MiB', 'bytes/s out / in', 'frames/s out'],
      rows,
    )}\n`,
  );
  process.stdout.write(
    `cycle ${o.cycleMs} ms; idle figures over ${o.idleS} s from ${o.warmupS} s after cluster up at the earliest; medians over the daemons; bytes are transport payload (TLS adds ~22 bytes per frame, TCP/IP headers not counted); Serf 0.9 figures from the issue in parentheses (its agents idle at 0.3% CPU, ~300 B/s, ~15 MiB); target: RSS at most 60 MiB per daemon.\n`,
  );
  return 0;
}
