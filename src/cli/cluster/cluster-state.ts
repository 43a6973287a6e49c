/**
 * The state file of a local cluster (<data-root>/cluster.json) and the checks that keep
 * `cluster down` from signalling a process that is not ours: a pid counts as one of our daemons
 * only while its command line (/proc/<pid>/cmdline, or `ps` without /proc) names our entry script
 * and that node's data directory (pids are reused after a reboot or a long uptime).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../commands/cli-error.js';

export const STATE_FILE = 'cluster.json';
export const STATE_VERSION = 1;

export interface ClusterNode {
  readonly name: string;
  readonly dataDir: string;
  readonly nodeId: string;
  /** Node-to-node address, host:port. */
  readonly listen: string;
  readonly api: string;
  readonly log: string;
  /** null once stopped. */
  pid: number | null;
}

export interface ClusterState {
  readonly version: number;
  /** The peercloud entry script the daemons run (checked in /proc/<pid>/cmdline). */
  readonly script: string;
  readonly startedAt: string;
  readonly nodes: ClusterNode[];
}

export function statePath(dataRoot: string): string {
  return join(dataRoot, STATE_FILE);
}

export function readState(dataRoot: string): ClusterState | undefined {
  const path = statePath(dataRoot);
  if (!existsSync(path)) return undefined;
  let state: ClusterState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as ClusterState;
  } catch (err) {
    throw new CliError(`${path} is not valid JSON (${(err as Error).message}); remove it if no cluster runs`);
  }
  if (state?.version !== STATE_VERSION || !Array.isArray(state.nodes) || typeof state.script !== 'string') {
    throw new CliError(`${path} is not a peercloud cluster state file (version ${STATE_VERSION}); remove it if no cluster runs`);
  }
  return state;
}

/** Written to a temp file and renamed, so a crash never leaves half a state file. */
export function writeState(dataRoot: string, state: ClusterState): void {
  const path = statePath(dataRoot);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/**
 * True if `pid` runs our script for `dataDir`: Linux /proc/<pid>/cmdline, elsewhere `ps`. A zombie
 * or a pid reused by another program is not ours.
 */
export function isOurDaemon(pid: number, script: string, dataDir: string): boolean {
  if (existsSync('/proc/self/cmdline')) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args.includes(script) && args.includes(dataDir);
    } catch {
      return false;
    }
  }
  try {
    const command = execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return command.includes(script) && command.includes(dataDir);
  } catch {
    return false;
  }
}

/** The nodes whose recorded pid is still one of our daemons. */
export function runningNodes(state: ClusterState): ClusterNode[] {
  return state.nodes.filter((n) => n.pid !== null && isOurDaemon(n.pid, state.script, n.dataDir));
}
