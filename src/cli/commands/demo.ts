/**
 * `peercloud demo` (`npm run demo`, the first command of the README): a real local cloud to watch
 * in the browser. It starts N daemon processes on 127.0.0.1 (`cluster up`), prints the dashboard's
 * URL, creates a user and two slices through the CLI, and after a while kills a third of the nodes
 * with SIGKILL so the viewer sees the dead nodes turn red, the rings repair and the `--keep-size`
 * slice refill. Then it keeps the cloud running until Ctrl-C (or `--duration`), and stops every
 * daemon and removes its files on the way out — unless `--keep` asks to leave the cloud running.
 *
 * `--short` is the CI mode: a small, fast cloud; the demo exits by itself once the rings have
 * repaired, with status 1 if they did not within the time limit.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { ringHealth } from '../../monitoring/ring-health.js';
import type { OverlayReport } from '../../monitoring/overlay-crawler.js';
import { DEFAULT_BASE_PORT, PEERCLOUD_SCRIPT, clusterDown, clusterUp, portFree, portsOf, randomBasePort } from '../cluster/cluster-ops.js';
import type { ClusterNode, ClusterState } from '../cluster/cluster-state.js';
import { parseInteger } from '../parse.js';
import { CliError } from './cli-error.js';

interface DemoOptions {
  nodes?: number;
  cyclePeriodMs?: number;
  killAfter: number;
  duration?: number;
  basePort?: number;
  dataRoot?: string;
  keep?: boolean;
  short?: boolean;
  open?: boolean;
}

interface DemoSlice {
  readonly name: string;
  readonly args: readonly string[];
  readonly size: number;
  readonly keepSize: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function demoCommand(): Command {
  return new Command('demo')
    .description('start a local cloud of real daemons with the web dashboard, create two slices, kill a third of the nodes and watch the rings repair')
    .option('-n, --nodes <N>', 'daemons to start (default 16; 6 with --short)', parseInteger('--nodes', 3, 100))
    .option('--cycle-period-ms <ms>', 'gossip cycle period (default 1000; 400 with --short)', parseInteger('--cycle-period-ms', 100, 60_000))
    .option('--kill-after <s>', 'seconds between creating the slices and killing a third of the nodes (0: never kill)', parseInteger('--kill-after', 0, 86_400), 30)
    .option('--duration <s>', 'stop after this many seconds (default: run until Ctrl-C)', parseInteger('--duration', 1, 30 * 86_400))
    .option('--base-port <P>', `first port (default ${DEFAULT_BASE_PORT}, or a free range if it is taken); node i uses P+2i and its API P+2i+1`, parseInteger('--base-port', 1024, 65_000))
    .option('--data-root <dir>', 'where the daemons keep their data (default: a temporary directory, removed at the end)')
    .option('--keep', 'leave the cloud running when the demo ends (stop it with `peercloud cluster down --data-root DIR`)')
    .option('--short', 'CI mode: 6 fast nodes; exits once the rings have repaired (status 1 if they do not)')
    .option('--open', 'open the dashboard in the default browser (xdg-open / open)')
    .addHelpText(
      'after',
      '\nThe dashboard is served by node-1 at the printed URL. To create slices from the dashboard, sign in with the demo user\'s key file (its path is printed).\nCtrl-C stops every daemon; a second Ctrl-C kills them at once.',
    )
    .action(async (opts: DemoOptions) => {
      process.exitCode = await runDemo(opts);
    });
}

async function runDemo(opts: DemoOptions): Promise<number> {
  const short = opts.short === true;
  const n = opts.nodes ?? (short ? 6 : 16);
  const cyclePeriodMs = opts.cyclePeriodMs ?? (short ? 400 : 1000);
  const killAfterMs = (short ? Math.min(opts.killAfter, 2) : opts.killAfter) * 1000;
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const ownRoot = opts.dataRoot === undefined;
  const root = ownRoot ? mkdtempSync(join(tmpdir(), 'peercloud-demo-')) : resolve(opts.dataRoot!);
  const basePort = opts.basePort ?? (await firstFreeBase(n));

  let state: ClusterState | undefined;
  let stopping: Promise<void> | undefined;
  let interrupted = false;
  const stop = (why: string) => {
    stopping ??= (async () => {
      if (opts.keep && state) {
        say(`\n${why}; the cloud keeps running (--keep). Stop it with: peercloud cluster down --data-root ${root}`);
        return;
      }
      say(`\n${why}; stopping ${n} daemons…`);
      if (state) await clusterDown(root, 5_000).catch((err: unknown) => say(`stopping the daemons failed: ${(err as Error).message}`));
      if (ownRoot) rmSync(root, { recursive: true, force: true });
      say('stopped; nothing is left running.');
    })();
    return stopping;
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) {
      // Second Ctrl-C: do not wait for graceful shutdowns.
      if (state) for (const node of state.nodes) if (node.pid) try { process.kill(node.pid, 'SIGKILL'); } catch { /* gone */ }
      process.exit(130);
    }
    interrupted = true;
    void stop(sig === 'SIGINT' ? 'interrupted' : `got ${sig}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    say(`peercloud demo: starting ${n} daemons on 127.0.0.1 (ports ${basePort}..${portsOf(basePort, n - 1).api}, cycle ${cyclePeriodMs} ms, data in ${root})`);
    state = await clusterUp({
      nodes: n,
      dataRoot: root,
      basePort,
      cyclePeriodMs,
      epochLength: short ? 10 : 20,
      readyTimeoutMs: 120_000,
      // Short leases, so the members of a coordinator that dies go free quickly in the demo too.
      extraArgs: ['--slice-lease-ms', String(Math.max(3_000, 10 * cyclePeriodMs))],
      progress: (line) => say(`  ${line}`),
    });
    if (interrupted) return (await stopping, 130);
    const dashboard = `${state.nodes[0].api}/`;
    say('');
    say(`  Dashboard: ${dashboard}`);
    say('');
    if (opts.open) openBrowser(dashboard);

    const live = await waitFor(() => overlay(state!.nodes[0]), (o) => liveCount(o) === n, 60_000, () => interrupted);
    if (interrupted) return (await stopping, 130);
    say(`the overlay is connected: node-1 reaches ${live ? liveCount(live) : '?'} of ${n} nodes`);

    const userDir = join(root, 'users');
    // A --data-root reused from an earlier demo already has the user (and maybe its slices).
    if (!existsSync(join(userDir, 'demo.key'))) await cli(['user', 'create', 'demo', '--user-dir', userDir]);
    say(`created user "demo"; to create slices from the dashboard, sign in with ${join(userDir, 'demo.key')}`);
    const slices: DemoSlice[] = [
      { name: 'alpha', size: Math.max(2, Math.round(n / 4)), keepSize: false, args: ['--rank', 'cpu:desc'] },
      { name: 'beta', size: Math.max(2, Math.round(n / 5)), keepSize: true, args: ['--keep-size'] },
    ];
    for (const s of slices) {
      if (interrupted) break;
      say(`creating slice ${s.name}: ${s.size} nodes${s.keepSize ? ', keep size' : ''}${s.args.includes('--rank') ? ', the fastest' : ''}`);
      try {
        await cli(['slice', 'create', s.name, '--nodes', String(s.size), ...s.args, '--api', state.nodes[0].api, '--user', 'demo', '--user-dir', userDir, '--json']);
      } catch (err) {
        if (!/already exists/.test((err as Error).message)) throw err;
        say(`  slice ${s.name} already exists (kept from an earlier run in ${root})`);
      }
    }
    if (interrupted) return (await stopping, 130);
    const formed = await waitFor(() => overlay(state!.nodes[0]), (o) => ringsHealthy(o, slices), 60_000, () => interrupted);
    if (formed) say(`both rings formed: ${describeRings(formed, slices)}`);

    const started = Date.now();
    const deadline = opts.duration === undefined ? Infinity : started + opts.duration * 1000;
    let ok = true;
    if (killAfterMs > 0 && !interrupted) {
      if (!short) say(`in ${killAfterMs / 1000} s, a third of the nodes will be killed (kill -9); watch the dashboard`);
      await sleepUnless(Math.min(killAfterMs, Math.max(0, deadline - Date.now())), () => interrupted);
      if (!interrupted && Date.now() < deadline) ok = await killAndWatch(state, slices, short, say, () => interrupted);
    }
    if (short) {
      await stop(ok ? 'short demo done' : 'short demo failed');
      return ok ? 0 : 1;
    }
    if (!interrupted) say(opts.duration === undefined ? 'the cloud keeps running: press Ctrl-C to stop it' : `running until ${opts.duration} s have passed`);
    await sleepUnless(Math.max(0, deadline - Date.now()), () => interrupted);
    await stop(interrupted ? 'interrupted' : 'time is up');
    return interrupted ? 130 : 0;
  } catch (err) {
    await stop('the demo failed');
    if (err instanceof CliError) throw err;
    throw new CliError(`demo failed: ${(err as Error).message}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Kills a third of the nodes (never node-1, which serves the dashboard and coordinates the slices), then reports the repair. */
async function killAndWatch(state: ClusterState, slices: readonly DemoSlice[], short: boolean, say: (line: string) => void, interrupted: () => boolean): Promise<boolean> {
  const before = await overlay(state.nodes[0]);
  const candidates = state.nodes.slice(1).filter((x) => x.pid !== null);
  // Members first, one from each slice at least, so the viewer sees rings repair.
  const members = new Set(before?.nodes.filter((x) => x.snapshot?.slice).map((x) => x.id) ?? []);
  const ordered = [...candidates.filter((x) => members.has(x.nodeId)), ...candidates.filter((x) => !members.has(x.nodeId))];
  shuffleBySlice(ordered, before);
  const victims = ordered.slice(0, Math.floor(state.nodes.length / 3));
  for (const v of victims) {
    try {
      process.kill(v.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const killedAt = Date.now();
  say(`killed ${victims.length} of ${state.nodes.length} nodes with SIGKILL: ${victims.map((v) => v.name).join(', ')}`);
  const dead = new Set(victims.map((v) => v.nodeId));
  const seen = await waitFor(() => overlay(state.nodes[0]), (o) => [...dead].every((id) => o.nodes.find((x) => x.id === id)?.state !== 'live'), 60_000, interrupted);
  if (seen) say(`  the dashboard shows them unreachable after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
  const repaired = await waitFor(
    () => overlay(state.nodes[0]),
    (o) => ringsHealthy(o, slices, dead) && slices.filter((s) => s.keepSize).every((s) => sliceSize(o, s.name) >= s.size),
    short ? 90_000 : 120_000,
    interrupted,
  );
  if (!repaired) {
    if (!interrupted()) say('  the rings did not repair within the time limit');
    return false;
  }
  say(`  rings repaired after ${((Date.now() - killedAt) / 1000).toFixed(1)} s: ${describeRings(repaired, slices)}`);
  return true;
}

/** Puts one member of each slice first (a deterministic spread; the set is small). */
function shuffleBySlice(nodes: ClusterNode[], o: OverlayReport | null): void {
  if (!o) return;
  const sliceOf = new Map(o.nodes.map((x) => [x.id, x.snapshot?.slice?.name ?? null]));
  const firsts: ClusterNode[] = [];
  const seen = new Set<string>();
  for (const x of nodes) {
    const s = sliceOf.get(x.nodeId);
    if (s && !seen.has(s)) {
      seen.add(s);
      firsts.push(x);
    }
  }
  const rest = nodes.filter((x) => !firsts.includes(x));
  nodes.splice(0, nodes.length, ...firsts, ...rest);
}

function liveCount(o: OverlayReport): number {
  return o.nodes.filter((x) => x.state === 'live').length;
}

function sliceSize(o: OverlayReport, name: string): number {
  return o.nodes.filter((x) => x.state === 'live' && x.snapshot?.slice?.name === name).length;
}

function healthOf(o: OverlayReport, exclude: ReadonlySet<string> = new Set()) {
  return ringHealth(
    o.nodes.map((x) => ({
      id: x.id,
      live: x.state === 'live' && !exclude.has(x.id),
      sliceId: x.snapshot?.slice?.sliceId ?? null,
      predecessor: x.snapshot?.ring.predecessor ?? null,
      successor: x.snapshot?.ring.successor ?? null,
    })),
  );
}

/** Every slice's live members form one ring with the right neighbours (and, before any kill, are all there). */
function ringsHealthy(o: OverlayReport, slices: readonly DemoSlice[], dead?: ReadonlySet<string>): boolean {
  const health = healthOf(o, dead ?? new Set());
  const byName = (name: string) => o.nodes.find((x) => x.snapshot?.slice?.name === name)?.snapshot?.slice?.sliceId;
  return slices.every((s) => {
    const h = health.find((x) => x.sliceId === byName(s.name));
    return h !== undefined && (dead !== undefined || h.members === s.size) && h.whole && h.correct === h.members;
  });
}

function describeRings(o: OverlayReport, slices: readonly DemoSlice[]): string {
  const health = healthOf(o);
  return slices
    .map((s) => {
      const id = o.nodes.find((x) => x.snapshot?.slice?.name === s.name)?.snapshot?.slice?.sliceId;
      const h = health.find((x) => x.sliceId === id);
      return h ? `${s.name} ${h.members} members, ${h.correct} with the right neighbours` : `${s.name} not seen`;
    })
    .join('; ');
}

async function overlay(node: ClusterNode): Promise<OverlayReport | null> {
  try {
    const res = await fetch(`${node.api}/v1/overlay`, { signal: AbortSignal.timeout(5_000) });
    return res.ok ? ((await res.json()) as OverlayReport) : null;
  } catch {
    return null;
  }
}

async function waitFor<T>(get: () => Promise<T | null>, done: (value: T) => boolean, timeoutMs: number, cancelled: () => boolean): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !cancelled()) {
    const value = await get();
    if (value !== null && done(value)) return value;
    await sleep(500);
  }
  return null;
}

async function sleepUnless(ms: number, cancelled: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !cancelled()) await sleep(Math.min(250, until - Date.now()));
}

/** Runs this same CLI (a user would type these commands); fails with its error output. */
function cli(args: readonly string[]): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [PEERCLOUD_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(out) : fail(new CliError(`\`peercloud ${args.slice(0, 3).join(' ')}\` failed: ${err.trim() || `exit ${code}`}`))));
  });
}

/** The default base port if its whole range is free, else a random free-looking range. */
async function firstFreeBase(n: number): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const base = attempt === 0 ? DEFAULT_BASE_PORT : randomBasePort(n);
    let ok = true;
    for (let i = 0; i < n && ok; i++) for (const p of Object.values(portsOf(base, i))) if (!(await portFree(p))) ok = false;
    if (ok) return base;
  }
  return randomBasePort(n);
}

function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'start' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => process.stderr.write(`could not run ${command}; open ${url} yourself\n`));
    child.unref();
  } catch {
    process.stderr.write(`could not open a browser; open ${url} yourself\n`);
  }
}

