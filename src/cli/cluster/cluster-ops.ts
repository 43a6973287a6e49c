/**
 * `peercloud cluster up|down|status`: a local cloud of N separate daemon processes on 127.0.0.1,
 * so a newcomer can try peercloud on one machine. Node i (1-based) listens on base + 2(i−1) for
 * peers and base + 2(i−1) + 1 for its API; node-1 is the seed every other node joins (its id is
 * pinned in the join address, so no trust on first use is needed). Daemons are detached, log to
 * <dir>/node.log, and outlive the CLI; <data-root>/cluster.json records them.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { packageFile } from '../../core/package-files.js';
import type { NetworkAggregates, PeerView } from '../../api/schemas.js';
import { readCpuScore, thisMachine, writeCpuScore } from '../../node/cpu-score-file.js';
import { measureCpuScore } from '../../node/cpu-score.js';
import { createIdentity, identityPath, loadIdentity } from '../../node/identity.js';
import { CliError } from '../commands/cli-error.js';
import { DAEMON_NODE_FLAGS } from '../daemon-tuning.js';
import { type ClusterNode, type ClusterState, STATE_VERSION, isOurDaemon, readState, runningNodes, statePath, writeState } from './cluster-state.js';

export const MAX_NODES = 200;
export const DEFAULT_BASE_PORT = 7946;
export const DEFAULT_DATA_ROOT = '.peercloud-cluster';
const HOST = '127.0.0.1';

/** The `peercloud` entry script every daemon of the cluster runs. */
export const PEERCLOUD_SCRIPT = packageFile('bin', 'peercloud.js');

export interface UpOptions {
  readonly nodes: number;
  readonly dataRoot: string;
  readonly basePort: number;
  readonly cyclePeriodMs?: number;
  readonly epochLength?: number;
  readonly viewSize?: number;
  /** Extra `node start` arguments for every daemon (`--daemon-arg`; checkDaemonArgs). */
  readonly extraArgs?: readonly string[];
  readonly readyTimeoutMs: number;
  readonly progress: (line: string) => void;
}

/**
 * A random base port for a cluster of `nodes` below the kernel's ephemeral port range (where the
 * daemons' own outgoing connections take their ports: a cluster placed there can find a port taken
 * between the check and the start). For tests and benchmarks that start clusters side by side.
 */
export function randomBasePort(nodes: number, random: () => number = Math.random): number {
  let ephemeralLow = 32_768;
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && low > 2_048) ephemeralLow = low;
  } catch {
    // Not Linux: keep the IANA default start of the ephemeral range.
  }
  const low = 10_000;
  const high = Math.max(low + 2, ephemeralLow - 2 * nodes);
  return low + 2 * Math.floor((random() * (high - low)) / 2);
}

export function portsOf(basePort: number, index: number): { listen: number; api: number } {
  return { listen: basePort + 2 * index, api: basePort + 2 * index + 1 };
}

/** Whether `port` on 127.0.0.1 can be listened on now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ host: HOST, port, exclusive: true }, () => server.close(() => done(true)));
  });
}

async function isLive(api: string): Promise<boolean> {
  try {
    // Generous: twenty daemons starting at once on two cores can take a while to answer.
    const res = await fetch(new URL('/health/live', api), { signal: AbortSignal.timeout(3_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `node start` flags `cluster up` sets for each daemon itself: passing them through would fight it. */
const CLUSTER_FLAGS = ['--data-dir', '--name', '--listen', '--api', '--join', '--config'] as const;

/**
 * Checks the extra `node start` arguments of `cluster up --daemon-arg` (a flag and its value as
 * one argument, `--slice-lease-ms=3000`, or as two). Throws a CliError (exit 2) for the flags the
 * cluster sets itself and for arguments that are not flags or their values.
 */
export function checkDaemonArgs(args: readonly string[]): readonly string[] {
  for (const [i, arg] of args.entries()) {
    const flag = arg.split('=', 1)[0];
    const taken = CLUSTER_FLAGS.find((f) => flag === f);
    if (taken !== undefined) throw new CliError(`--daemon-arg ${arg}: cluster up sets ${taken} for every daemon itself`, 2);
    if (!arg.startsWith('--') && (i === 0 || !args[i - 1].startsWith('--') || args[i - 1].includes('='))) {
      throw new CliError(`--daemon-arg ${arg}: expected a \`node start\` flag such as --slice-lease-ms=3000, or the value right after a flag`, 2);
    }
  }
  return args;
}

/**
 * Gives every data dir without a score for this machine the CPU score, measured once here (the
 * CLI runs with V8's normal flags; a daemon measuring under its own would score several times too
 * low, see node/cpu-score-file.ts). All daemons share this machine, so one measurement serves all.
 */
async function storeCpuScores(dataDirs: readonly string[]): Promise<void> {
  const machine = thisMachine();
  let score: number | undefined;
  for (const dir of dataDirs) {
    if ((await readCpuScore(dir, machine)).kind === 'ok') continue;
    score ??= measureCpuScore().score;
    await writeCpuScore(dir, score, machine);
  }
}

export async function clusterUp(o: UpOptions): Promise<ClusterState> {
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > MAX_NODES) throw new CliError(`-n must be between 1 and ${MAX_NODES}, got ${o.nodes}`, 2);
  checkDaemonArgs(o.extraArgs ?? []);
  const root = resolve(o.dataRoot);
  const previous = readState(root);
  if (previous && runningNodes(previous).length > 0) {
    throw new CliError(`a cluster is already running in ${root} (${runningNodes(previous).length} daemons); stop it with \`peercloud cluster down --data-root ${o.dataRoot}\``);
  }
  const lastPort = portsOf(o.basePort, o.nodes - 1).api;
  if (o.basePort < 1024 || lastPort > 65_535) throw new CliError(`ports ${o.basePort}..${lastPort} are out of range; choose a --base-port between 1024 and ${65_535 - 2 * o.nodes + 1}`, 2);
  const busy: number[] = [];
  for (let i = 0; i < o.nodes; i++) for (const p of Object.values(portsOf(o.basePort, i))) if (!(await portFree(p))) busy.push(p);
  if (busy.length > 0) throw new CliError(`port${busy.length > 1 ? 's' : ''} ${busy.slice(0, 10).join(', ')}${busy.length > 10 ? ', …' : ''} on ${HOST} already in use; choose another --base-port (the cluster needs ${o.basePort}..${lastPort})`);

  mkdirSync(root, { recursive: true });
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < o.nodes; i++) {
    const name = `node-${i + 1}`;
    const dataDir = join(root, name);
    const identity = existsSync(identityPath(dataDir)) ? await loadIdentity(dataDir) : await createIdentity(dataDir);
    const ports = portsOf(o.basePort, i);
    nodes.push({ name, dataDir, nodeId: identity.nodeId, listen: `${HOST}:${ports.listen}`, api: `http://${HOST}:${ports.api}`, log: join(dataDir, 'node.log'), pid: null });
  }
  await storeCpuScores(nodes.map((n) => n.dataDir));
  const state: ClusterState = { version: STATE_VERSION, script: PEERCLOUD_SCRIPT, startedAt: new Date().toISOString(), nodes };
  const seed = `${nodes[0].nodeId}@${nodes[0].listen}`;
  const common = [
    ...(o.cyclePeriodMs !== undefined ? ['--cycle-period-ms', String(o.cyclePeriodMs)] : []),
    ...(o.epochLength !== undefined ? ['--epoch-length', String(o.epochLength)] : []),
    ...(o.viewSize !== undefined ? ['--view-size', String(o.viewSize)] : []),
    ...(o.extraArgs ?? []),
  ];
  try {
    for (const [i, n] of nodes.entries()) {
      // The V8 flags come first, so every daemon starts with its small-heap settings (see daemon-tuning.ts).
      const args = [...DAEMON_NODE_FLAGS, PEERCLOUD_SCRIPT, 'node', 'start', '--data-dir', n.dataDir, '--name', n.name, '--listen', n.listen, '--api', n.api.slice('http://'.length), ...common];
      if (i > 0) args.push('--join', seed, '--join-retry-interval-ms', '500');
      const fd = openSync(n.log, 'a');
      try {
        const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd] });
        if (child.pid === undefined) throw new CliError(`could not start the daemon of ${n.name}`);
        n.pid = child.pid;
        child.unref();
      } finally {
        closeSync(fd);
      }
      writeState(root, state); // after every spawn, so `cluster down` finds even a half-started cluster
    }
    o.progress(`started ${nodes.length} daemons; waiting for their APIs to answer /health/live`);
    const deadline = Date.now() + o.readyTimeoutMs;
    const live = new Set<string>();
    let reported = -1;
    while (live.size < nodes.length) {
      await Promise.all(nodes.filter((n) => !live.has(n.name)).map(async (n) => {
        if (await isLive(n.api)) live.add(n.name);
      }));
      const dead = nodes.filter((n) => !live.has(n.name) && !isOurDaemon(n.pid!, state.script, n.dataDir));
      if (dead.length > 0) throw new CliError(`${dead.map((n) => n.name).join(', ')} exited during start; see ${dead[0].log}`);
      if (live.size !== reported) {
        reported = live.size;
        o.progress(`${live.size}/${nodes.length} nodes live`);
      }
      if (live.size === nodes.length) break;
      if (Date.now() > deadline) throw new CliError(`only ${live.size} of ${nodes.length} nodes answered /health/live within ${o.readyTimeoutMs} ms; see the node.log files under ${root}`);
      await sleep(200);
    }
  } catch (err) {
    o.progress('start failed; stopping the daemons already started');
    await stopNodes(state, 5_000);
    writeState(root, state);
    throw err;
  }
  return state;
}

/** SIGTERM, then SIGKILL after `graceMs`, for every recorded pid that is still one of ours. */
async function stopNodes(state: ClusterState, graceMs: number): Promise<{ stopped: number; killed: number }> {
  const ours = runningNodes(state);
  for (const n of ours) signal(n.pid!, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = ours;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = left.filter((n) => isOurDaemon(n.pid!, state.script, n.dataDir));
  }
  for (const n of left) signal(n.pid!, 'SIGKILL');
  while (left.length > 0) {
    await sleep(50);
    left = left.filter((n) => isOurDaemon(n.pid!, state.script, n.dataDir));
  }
  for (const n of state.nodes) n.pid = null;
  return { stopped: ours.length, killed: left.length };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function requireState(dataRoot: string): { root: string; state: ClusterState } {
  const root = resolve(dataRoot);
  const state = readState(root);
  if (!state) throw new CliError(`no cluster in ${root} (no ${statePath(root)}); start one with \`peercloud cluster up -n 5 --data-root ${dataRoot}\``);
  return { root, state };
}

export async function clusterDown(dataRoot: string, graceMs: number): Promise<{ state: ClusterState; stopped: number }> {
  const { root, state } = requireState(dataRoot);
  const { stopped } = await stopNodes(state, graceMs);
  writeState(root, state);
  return { state, stopped };
}

export interface NodeStatus {
  readonly name: string;
  readonly nodeId: string;
  readonly api: string;
  readonly pid: number | null;
  /** The process runs (one of ours). */
  readonly running: boolean;
  /** Its API answered /health/live. */
  readonly live: boolean;
  readonly viewSize: number | null;
  readonly sizeEstimate: number | null;
}

export async function clusterStatus(dataRoot: string): Promise<{ root: string; nodes: NodeStatus[] }> {
  const { root, state } = requireState(dataRoot);
  const get = async <T>(api: string, path: string): Promise<T | null> => {
    try {
      const res = await fetch(new URL(path, api), { signal: AbortSignal.timeout(2_000) });
      return res.ok ? ((await res.json()) as T) : null;
    } catch {
      return null;
    }
  };
  const nodes = await Promise.all(
    state.nodes.map(async (n): Promise<NodeStatus> => {
      const running = n.pid !== null && isOurDaemon(n.pid, state.script, n.dataDir);
      const [live, view, net] = running ? await Promise.all([isLive(n.api), get<PeerView>(n.api, '/v1/peers'), get<NetworkAggregates>(n.api, '/v1/network')]) : [false, null, null];
      return { name: n.name, nodeId: n.nodeId, api: n.api, pid: running ? n.pid : null, running, live, viewSize: view?.count ?? null, sizeEstimate: net?.size.estimate ?? null };
    }),
  );
  return { root, nodes };
}
