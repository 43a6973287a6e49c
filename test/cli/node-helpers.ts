/**
 * Real daemons as child processes for the CLI integration tests: `peercloud` runs from bin/, data
 * directories live in a temp dir, every port is chosen by the OS (port 0) and read back from the
 * daemon's "node started" log line. `killAll` must be called in an `after` hook.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/peercloud.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Daemon {
  readonly child: ChildProcess;
  readonly dataDir: string;
  nodeId: string;
  api: string;
  listen: string;
  readonly lines: Record<string, unknown>[];
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

const children = new Set<ChildProcess>();

/** Starts `peercloud node start` and resolves once it logged "node started". */
export function startDaemon(dataDir: string, extraArgs: string[], timeoutMs = 15_000, env: NodeJS.ProcessEnv = {}): Promise<Daemon> {
  const child = spawn(process.execPath, [BIN, 'node', 'start', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.add(child);
  const daemon: Daemon = { child, dataDir, nodeId: '', api: '', listen: '', lines: [], exited: undefined };
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon in ${dataDir} did not start within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    let buffer = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          parsed = { notJson: line };
        }
        daemon.lines.push(parsed);
        if (parsed.msg === 'node started') {
          daemon.nodeId = String(parsed.nodeId);
          daemon.api = String(parsed.api);
          daemon.listen = String(parsed.listen);
          clearTimeout(timer);
          resolve(daemon);
        }
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('exit', (code, signal) => {
      daemon.exited = { code, signal };
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`daemon in ${dataDir} exited (${code ?? signal}) before starting; stderr: ${stderr}`));
    });
  });
}

export function alive(d: Daemon): boolean {
  return d.exited === undefined && d.child.exitCode === null && d.child.signalCode === null;
}

export function waitExit(d: Daemon): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (d.exited) return Promise.resolve(d.exited);
  return new Promise((resolve) => d.child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** SIGKILLs every daemon still running and waits for them to exit. */
export async function killAll(): Promise<void> {
  const waits = [...children].map(
    (c) =>
      new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      }),
  );
  await Promise.all(waits);
  children.clear();
}

export async function getJson<T>(base: string, path: string): Promise<T> {
  const res = await fetch(new URL(path, base), { signal: AbortSignal.timeout(3_000) });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes (then throws with `describe()`). */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, describe: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = await check();
    } catch {
      value = undefined;
    }
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${describe()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
