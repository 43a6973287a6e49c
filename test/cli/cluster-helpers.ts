/**
 * Helpers for the `peercloud cluster` tests: start a cluster on a random free port range (the
 * cluster scheme needs 2N consecutive ports, so port 0 cannot be used; a range found busy is
 * retried elsewhere), and kill whatever a failed test left running (from cluster.json, only pids
 * that are still our daemons).
 */
import { randomBasePort } from '../../src/cli/cluster/cluster-ops.js';
import { readState, isOurDaemon } from '../../src/cli/cluster/cluster-state.js';
import { type CliResult, runCli } from './node-helpers.js';

export async function clusterUp(root: string, n: number, args: string[]): Promise<{ result: CliResult; basePort: number }> {
  for (let attempt = 0; ; attempt++) {
    const basePort = randomBasePort(n);
    const result = await runCli(['cluster', 'up', '-n', String(n), '--data-root', root, '--base-port', String(basePort), '--json', ...args], {}, 90_000);
    if (result.code !== 0 && /already in use/.test(result.stderr) && attempt < 5) continue;
    return { result, basePort };
  }
}

/** SIGKILLs every daemon of the cluster in `root` still running (for `after` hooks). */
export async function killLeftovers(root: string): Promise<number> {
  let state;
  try {
    state = readState(root);
  } catch {
    return 0;
  }
  if (!state) return 0;
  let killed = 0;
  for (const n of state.nodes) {
    if (n.pid !== null && isOurDaemon(n.pid, state.script, n.dataDir)) {
      try {
        process.kill(n.pid, 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
  }
  return killed;
}

export { connected } from '../../src/cli/cluster/overlay.js';
