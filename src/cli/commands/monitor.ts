/**
 * `peercloud monitor-instances` and `peercloud unmonitor-instances`: live monitoring of the cloud
 * through a node's SSE stream (GET /v1/monitor, src/api/monitor-routes.ts).
 *
 * In the foreground the monitor redraws a small table on a terminal (one line per tick when the
 * output is not a terminal, or one JSON object per event with --json) until Ctrl-C, which is a
 * normal exit (0). With --detach it checks the API answers, starts itself again as a detached
 * background process writing to a log file, records that process in <state-dir>/monitors.json and
 * prints its id (the pid). `unmonitor-instances` stops such monitors; it only signals a recorded
 * pid whose command line still names our entry script and the monitor's random token, the check
 * `cluster down` makes for its daemons (pids are reused).
 *
 * The stream is read with node:http rather than fetch: fetch opens a spare connection after an
 * aborted response, which would keep the process (and the node's API close) waiting seconds after
 * Ctrl-C. The SSE text is parsed by eventsource-parser.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { clearScreenDown, moveCursor } from 'node:readline';
import { packageFile } from '../../core/package-files.js';
import { Command, Option } from 'commander';
import { type EventSourceMessage, createParser } from 'eventsource-parser';
import type { MonitorNode } from '../../api/monitor-routes.js';
import type { ErrorBody, NetworkAggregates } from '../../api/schemas.js';
import type { MembershipView } from '../../slices/slice-api.js';
import { isOurDaemon } from '../cluster/cluster-state.js';
import { formatNumber, formatTable } from '../output.js';
import { parseInteger } from '../parse.js';
import { defaultApiUrl } from './api-client.js';
import { CliError } from './cli-error.js';

/** The entry script the background monitor runs (and that `unmonitor-instances` looks for). */
const PEERCLOUD_SCRIPT = packageFile('bin', 'peercloud.js');
export const MONITORS_FILE = 'monitors.json';
const STATE_VERSION = 1;
const CONNECT_TIMEOUT_MS = 5_000;
/** The node sends a keep-alive comment at least every 15 s (monitor-routes.ts). */
const SERVER_KEEP_ALIVE_MS = 15_000;
/** How long unmonitor-instances waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Reading the stream

interface StreamOptions {
  readonly api: string;
  readonly intervalMs: number;
  readonly signal: AbortSignal;
  readonly onEvent: (event: EventSourceMessage) => void;
}

function monitorUrl(api: string, intervalMs: number): URL {
  let url: URL;
  try {
    url = new URL('v1/monitor', api.endsWith('/') ? api : `${api}/`);
  } catch {
    throw new CliError(`invalid --api URL ${JSON.stringify(api)}; expected e.g. ${defaultApiUrl({})}`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`invalid --api URL ${JSON.stringify(api)}: use http:// or https://`, 2);
  url.searchParams.set('interval', String(intervalMs));
  return url;
}

function readBody(res: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolveBody) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (text.length < limit) text += chunk;
    });
    res.once('end', () => resolveBody(text));
    res.once('error', () => resolveBody(text));
  });
}

/**
 * Reads the monitor stream until the server ends it ('ended') or `signal` aborts ('stopped');
 * throws a CliError naming the URL if the API cannot be reached, refuses, or goes silent.
 */
export async function readMonitorStream(o: StreamOptions): Promise<'ended' | 'stopped'> {
  const url = monitorUrl(o.api, o.intervalMs);
  if (o.signal.aborted) return 'stopped';
  const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { headers: { accept: 'text/event-stream' } });
  request.on('error', () => undefined); // a socket error after the response: 'close' reports it
  const onAbort = () => request.destroy();
  o.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await responseOf(request, url, o.signal);
    if (res === undefined) return 'stopped';
    await checkResponse(res, url);
    return await consume(res, url, o);
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    request.destroy();
  }
}

function unreachable(url: URL, why: string): CliError {
  return new CliError(`cannot reach the peercloud API at ${url.origin} (${why}); is the node running? Start it with \`peercloud node start\`, or point --api at a running node`);
}

/** The response, or undefined if the request was aborted (Ctrl-C) before it came. */
function responseOf(request: ClientRequest, url: URL, signal: AbortSignal): Promise<IncomingMessage | undefined> {
  return new Promise((resolveResponse, reject) => {
    const timer = setTimeout(() => {
      request.destroy();
      reject(unreachable(url, `no answer within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    request.once('response', (res) => {
      clearTimeout(timer);
      resolveResponse(res);
    });
    request.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (signal.aborted) resolveResponse(undefined);
      else reject(unreachable(url, err.code ?? err.message));
    });
    request.once('close', () => {
      clearTimeout(timer);
      resolveResponse(undefined); // after 'response' or 'error' this changes nothing
    });
    request.end();
  });
}

async function checkResponse(res: IncomingMessage, url: URL): Promise<void> {
  const type = res.headers['content-type'] ?? '';
  if (res.statusCode === 200 && type.startsWith('text/event-stream')) return;
  const text = await readBody(res);
  if (res.statusCode === 404) throw new CliError(`${url.origin} has no monitoring stream (404 for ${url.pathname}); is it a peercloud node of this version?`);
  let message: unknown;
  try {
    message = (JSON.parse(text) as Partial<ErrorBody> | null)?.error?.message;
  } catch {
    message = undefined;
  }
  const why = typeof message === 'string' ? message : res.statusCode === 200 ? `${type || 'no content type'}, not an event stream` : text.slice(0, 200);
  throw new CliError(`${url.href} answered ${res.statusCode}: ${why}`, res.statusCode === 400 ? 2 : 1);
}

function consume(res: IncomingMessage, url: URL, o: StreamOptions): Promise<'ended' | 'stopped'> {
  // Silence for much longer than both the tick interval and the server's keep-alive means the
  // node or the network is gone without closing the connection.
  const silenceMs = 2 * Math.max(o.intervalMs, SERVER_KEEP_ALIVE_MS) + 5_000;
  return new Promise((resolveStream, reject) => {
    let watchdog = setTimeout(onSilence, silenceMs);
    function onSilence(): void {
      res.destroy();
      reject(new CliError(`no data from ${url.origin} for ${Math.round(silenceMs / 1000)} s; the node or the network is gone`));
    }
    let failed: Error | undefined;
    const parser = createParser({
      onEvent: (event) => {
        try {
          o.onEvent(event);
        } catch (err) {
          failed = err as Error;
          res.destroy();
        }
      },
    });
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(onSilence, silenceMs);
      parser.feed(chunk);
    });
    let eof = false;
    res.once('end', () => (eof = true));
    res.once('error', () => undefined); // 'close' decides
    res.once('close', () => {
      clearTimeout(watchdog);
      if (failed) reject(failed);
      else if (o.signal.aborted) resolveStream('stopped');
      else if (eof) resolveStream('ended');
      else reject(new CliError(`the connection to ${url.origin} was lost`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Rendering

interface MonitorState {
  network?: NetworkAggregates;
  membership?: MembershipView;
}

const num = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : formatNumber(v));
const gib = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${formatNumber(v / 2 ** 30)} GiB`);
const freeOf = (agg: { averageFree: number | null; totalFree: number | null } | undefined, fmt: (v: number | null) => string): string =>
  agg === undefined ? '-' : `${fmt(agg.totalFree)} total, ${fmt(agg.averageFree)} avg`;

function membershipText(m: MembershipView | undefined): string {
  if (m === undefined) return '';
  if (m.state === 'member' && m.slice) return `member of ${m.slice.name} (${m.members.length} members known)`;
  return m.state === 'reserved' ? 'reserved for a slice being allocated' : 'in no slice';
}

function sliceText(network: NetworkAggregates | undefined, membership: MembershipView | undefined): string {
  const rank = network?.slices.mine === null || network === undefined ? 'capacity slice unknown yet' : `capacity slice ${network.slices.mine} of ${network.slices.count}`;
  const member = membershipText(membership);
  return member ? `${rank}; ${member}` : rank;
}

/** The terminal view: a small table, redrawn in place. */
export function renderMonitorTable(state: MonitorState, node: MonitorNode, header: string): string {
  const n = state.network;
  const rows: string[][] = [
    [
      'nodes',
      n === undefined ? '-' : `${n.size.estimate === null ? 'no estimate yet' : `~${formatNumber(n.size.estimate)}`} (epoch ${n.epoch.current ?? '-'}, cycle ${n.epoch.cycle}/${n.epoch.lengthCycles})`,
      `view ${node.viewSize} of ${node.viewCapacity} peers`,
    ],
    ['free cores', freeOf(n?.cores, num), `${num(node.freeCores)} of ${node.cores}`],
    ['free memory', freeOf(n?.memory, gib), gib(node.memoryFreeBytes)],
    ['free disk', freeOf(n?.disk, gib), gib(node.diskFreeBytes)],
    ['load', n?.load.average === null || n === undefined ? '-' : `${formatNumber(n.load.average)} avg`, num(node.loadAverage)],
    ['slices', n?.userSlices === undefined ? '-' : `${num(n.userSlices.total)} in the cloud`, ''],
    ['slice', n === undefined ? '-' : `${n.slices.count} capacity slices`, sliceText(n, state.membership)],
  ];
  return `${header}\n${formatTable(['', 'network (estimates)', `this node (${node.name})`], rows)}\nupdated ${new Date().toISOString()}\n`;
}

/** One line per tick, for logs and pipes. */
export function renderMonitorLine(state: MonitorState, node: MonitorNode): string {
  const n = state.network;
  const network =
    n === undefined
      ? 'network: -'
      : n.size.estimate === null
        ? `network: no estimates yet (epoch ${n.epoch.current ?? '-'}, cycle ${n.epoch.cycle} of ${n.epoch.lengthCycles})`
        : `network: ~${num(n.size.estimate)} nodes, ${num(n.cores.totalFree)} free cores, ${gib(n.memory.totalFree)} free memory, ${gib(n.disk.totalFree)} free disk, load ${num(n.load.average)}${n.userSlices === undefined ? '' : `, ${num(n.userSlices.total)} slices`}`;
  const here = `node ${node.name}: view ${node.viewSize}/${node.viewCapacity}, ${num(node.freeCores)} of ${node.cores} cores free, load ${num(node.loadAverage)}, ${sliceText(n, state.membership)}`;
  return `${new Date().toISOString()}  ${network} | ${here}\n`;
}

type Output = (event: EventSourceMessage) => void;

function parseData<T>(event: EventSourceMessage): T {
  try {
    return JSON.parse(event.data) as T;
  } catch {
    throw new CliError(`the node sent a ${event.event ?? 'message'} event that is not JSON: ${event.data.slice(0, 100)}`);
  }
}

function jsonOutput(write: (text: string) => void): Output {
  return (event) => write(`${JSON.stringify({ event: event.event ?? 'message', id: event.id === undefined ? null : Number(event.id), data: parseData(event) })}\n`);
}

/** Table on a terminal (redrawn in place), else lines. A tick is complete at its `node` event. */
function humanOutput(write: (text: string) => void, tty: boolean, header: string): Output {
  const state: MonitorState = {};
  let drawn = 0;
  return (event) => {
    switch (event.event) {
      case 'network':
        state.network = parseData<NetworkAggregates>(event);
        return;
      case 'membership':
        state.membership = parseData<MembershipView>(event);
        return;
      case 'unavailable': {
        const message = parseData<Partial<ErrorBody>>(event).error?.message ?? 'unknown error';
        write(`${new Date().toISOString()}  the node cannot answer: ${message}\n`);
        drawn = 0;
        return;
      }
      case 'node': {
        const node = parseData<MonitorNode>(event);
        if (!tty) return write(renderMonitorLine(state, node));
        if (drawn > 0) {
          moveCursor(process.stdout, 0, -drawn);
          clearScreenDown(process.stdout);
        }
        const text = renderMonitorTable(state, node, header);
        drawn = text.split('\n').length - 1;
        write(text);
        return;
      }
      default:
        return; // events of a newer node: ignored
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Background monitors and their state file

export interface MonitorRecord {
  /** The monitor's id, which is its pid. */
  readonly id: number;
  readonly pid: number;
  /** Random; on the monitor's command line, so a reused pid is never taken for it. */
  readonly token: string;
  readonly script: string;
  readonly api: string;
  readonly intervalMs: number;
  readonly json: boolean;
  readonly log: string;
  readonly startedAt: string;
}

interface MonitorsFile {
  readonly version: number;
  monitors: MonitorRecord[];
}

export function defaultStateDir(): string {
  return join(homedir(), '.peercloud');
}

export function monitorsPath(stateDir: string): string {
  return join(stateDir, MONITORS_FILE);
}

export function readMonitors(stateDir: string): MonitorsFile {
  const path = monitorsPath(stateDir);
  if (!existsSync(path)) return { version: STATE_VERSION, monitors: [] };
  let state: MonitorsFile;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as MonitorsFile;
  } catch (err) {
    throw new CliError(`${path} is not valid JSON (${(err as Error).message}); remove it if no background monitor runs`);
  }
  if (state?.version !== STATE_VERSION || !Array.isArray(state.monitors)) {
    throw new CliError(`${path} is not a peercloud monitors file (version ${STATE_VERSION}); remove it if no background monitor runs`);
  }
  return state;
}

/** Written to a temp file and renamed, so a crash never leaves half a state file. */
function writeMonitors(stateDir: string, state: MonitorsFile): void {
  const path = monitorsPath(stateDir);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

export function isOurMonitor(m: MonitorRecord): boolean {
  // The cluster's check is generic: the pid's command line names the script and the marker.
  return isOurDaemon(m.pid, m.script, m.token);
}

interface MonitorOptions {
  api?: string;
  interval: number;
  json?: boolean;
  detach?: boolean;
  log?: string;
  stateDir?: string;
  background?: string;
}

async function detach(api: string, o: MonitorOptions): Promise<void> {
  // Fail here, with the error on the user's terminal, rather than in a log nobody reads yet.
  const preflight = new AbortController();
  await readMonitorStream({ api, intervalMs: o.interval, signal: preflight.signal, onEvent: () => preflight.abort() });

  const stateDir = resolve(o.stateDir ?? defaultStateDir());
  const logDir = join(stateDir, 'monitors');
  mkdirSync(logDir, { recursive: true });
  const token = randomBytes(8).toString('hex');
  // The default log is named after the pid, known only once the child runs: it writes to a
  // temporary name that is renamed (the open descriptor follows the file).
  const startingLog = o.log !== undefined ? resolve(o.log) : join(logDir, `starting-${token}.log`);
  const args = [PEERCLOUD_SCRIPT, 'monitor-instances', '--api', api, '--interval', String(o.interval), ...(o.json ? ['--json'] : []), '--background', token];
  const fd = openSync(startingLog, 'a');
  let pid: number | undefined;
  try {
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd] });
    child.once('error', () => undefined); // reported below through the missing pid
    pid = child.pid;
    child.unref();
  } finally {
    closeSync(fd);
  }
  if (pid === undefined) throw new CliError(`could not start a background monitor (${process.execPath} ${PEERCLOUD_SCRIPT})`);
  const log = o.log !== undefined ? startingLog : join(logDir, `${pid}.log`);
  if (log !== startingLog) renameSync(startingLog, log);

  const record: MonitorRecord = { id: pid, pid, token, script: PEERCLOUD_SCRIPT, api, intervalMs: o.interval, json: o.json === true, log, startedAt: new Date().toISOString() };
  const state = readMonitors(stateDir);
  state.monitors.push(record);
  writeMonitors(stateDir, state);
  if (o.json) process.stdout.write(`${JSON.stringify({ id: pid, pid, api, intervalMs: o.interval, log })}\n`);
  else process.stdout.write(`monitor ${pid} started in the background: ${api} every ${o.interval} ms, logging to ${log}\nstop it with: peercloud unmonitor-instances ${pid}\n`);
}

async function monitor(o: MonitorOptions): Promise<void> {
  const api = o.api ?? defaultApiUrl();
  if (o.log !== undefined && !o.detach) throw new CliError('--log only applies with --detach (in the foreground the monitor writes to the terminal)', 2);
  if (o.detach && o.background !== undefined) throw new CliError('--detach and --background do not go together', 2);
  if (o.detach) return detach(api, o);

  const write = (text: string) => void process.stdout.write(text);
  const tty = process.stdout.isTTY === true && o.background === undefined;
  const header = `peercloud monitor: ${api}, every ${o.interval} ms (Ctrl-C to stop)`;
  const output = o.json ? jsonOutput(write) : humanOutput(write, tty, header);
  if (o.background !== undefined) write(`${new Date().toISOString()}  monitor ${process.pid} watching ${api} every ${o.interval} ms\n`);

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const outcome = await readMonitorStream({ api, intervalMs: o.interval, signal: stop.signal, onEvent: output });
    if (outcome === 'ended') throw new CliError(`the node at ${api} ended the monitoring stream (it is shutting down?)`);
    if (o.background !== undefined) write(`${new Date().toISOString()}  monitor ${process.pid} stopped\n`);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

// ---------------------------------------------------------------------------------------------
// Stopping background monitors

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after the grace time; resolves once none of them is still ours. */
async function stopMonitors(monitors: readonly MonitorRecord[]): Promise<void> {
  for (const m of monitors) signal(m.pid, 'SIGTERM');
  let left = [...monitors];
  const deadline = Date.now() + STOP_GRACE_MS;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = left.filter(isOurMonitor);
  }
  for (const m of left) signal(m.pid, 'SIGKILL');
  while (left.length > 0) {
    await sleep(50);
    left = left.filter(isOurMonitor);
  }
}

async function unmonitor(id: string | undefined, o: { all?: boolean; stateDir?: string; json?: boolean }): Promise<void> {
  if ((id === undefined) === (o.all !== true)) throw new CliError('name one monitor id, or --all', 2);
  const stateDir = resolve(o.stateDir ?? defaultStateDir());
  const state = readMonitors(stateDir);
  let targets: MonitorRecord[];
  if (id !== undefined) {
    const found = state.monitors.find((m) => String(m.id) === id.trim());
    if (found === undefined) {
      const known = state.monitors.map((m) => m.id).join(', ');
      throw new CliError(`unknown monitor id ${JSON.stringify(id)}: no background monitor with that id in ${monitorsPath(stateDir)}${known ? ` (known: ${known})` : ' (none are recorded)'}`);
    }
    targets = [found];
  } else {
    targets = state.monitors;
  }
  const running = targets.filter(isOurMonitor);
  await stopMonitors(running);
  const gone = new Set(targets.map((m) => m.id));
  // Re-read: another monitor may have been recorded meanwhile.
  const now = readMonitors(stateDir);
  now.monitors = now.monitors.filter((m) => !gone.has(m.id));
  writeMonitors(stateDir, now);
  const result = targets.map((m) => ({ id: m.id, stopped: running.includes(m), log: m.log }));
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ monitors: result })}\n`);
    return;
  }
  if (result.length === 0) process.stdout.write('no background monitors\n');
  for (const r of result) process.stdout.write(r.stopped ? `stopped monitor ${r.id} (log: ${r.log})\n` : `monitor ${r.id} had already exited; forgot it (log: ${r.log})\n`);
}

// ---------------------------------------------------------------------------------------------

export function monitorCommands(): Command[] {
  const stateDirOption = () => new Option('--state-dir <dir>', 'where background monitors are recorded (monitors.json) and log (default: ~/.peercloud)');
  const monitorInstances = new Command('monitor-instances')
    .description('watch the network size and free resources live (from a node\'s API) until Ctrl-C; --detach runs it in the background')
    .option('--api <url>', `the node's API (default: $PEERCLOUD_API or ${defaultApiUrl({})})`)
    .option('--interval <ms>', 'milliseconds between updates (200..60000)', parseInteger('--interval', 200, 60_000), 1000)
    .option('--json', 'print one JSON object per event ({event, id, data}), one per line')
    .option('--detach', 'run in the background; prints the monitor id for unmonitor-instances')
    .option('--log <file>', 'with --detach: where the background monitor writes (default: <state-dir>/monitors/<pid>.log)')
    .addOption(stateDirOption())
    .addOption(new Option('--background <token>', 'internal: this process is a background monitor').hideHelp())
    .action((opts: MonitorOptions) => monitor(opts));
  const unmonitorInstances = new Command('unmonitor-instances')
    .description('stop background monitors started with monitor-instances --detach')
    .argument('[id]', 'the monitor id that monitor-instances --detach printed')
    .option('--all', 'stop every recorded background monitor')
    .option('--json', 'print what was stopped as JSON')
    .addOption(stateDirOption())
    .action((id: string | undefined, opts: { all?: boolean; stateDir?: string; json?: boolean }) => unmonitor(id, opts));
  return [monitorInstances, unmonitorInstances];
}
