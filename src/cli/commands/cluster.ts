import { Command } from 'commander';
import { DEFAULT_BASE_PORT, DEFAULT_DATA_ROOT, MAX_NODES, clusterDown, clusterStatus, clusterUp } from '../cluster/cluster-ops.js';
import { formatNumber, formatTable } from '../output.js';
import { parseInteger } from '../parse.js';

const dataRootHelp = `directory holding node-1..node-N and cluster.json`;
const out = (text: string): void => {
  process.stdout.write(text);
};
const progress = (line: string) => process.stderr.write(`peercloud: ${line}\n`);

/** `peercloud cluster up|down|status`: a local cloud of N daemon processes on 127.0.0.1. */
export function clusterCommand(): Command {
  const up = new Command('up')
    .description('start a local cloud of N separate daemon processes on 127.0.0.1 (node-1 is the seed the others join)')
    .requiredOption('-n, --nodes <count>', `number of daemons (1..${MAX_NODES})`, parseInteger('-n', 1, MAX_NODES))
    .option('--data-root <dir>', dataRootHelp, DEFAULT_DATA_ROOT)
    .option('--base-port <port>', `node i listens on P+2(i-1) for peers and P+2(i-1)+1 for its API`, parseInteger('--base-port', 1024, 65_535), DEFAULT_BASE_PORT)
    .option('--cycle-period-ms <ms>', 'gossip cycle period of every node (default: the node default, 1000)', parseInteger('--cycle-period-ms', 50, 600_000))
    .option('--epoch-length <cycles>', 'aggregation epoch length in cycles (default: the node default)', parseInteger('--epoch-length', 5, 100_000))
    .option('--view-size <c>', 'peer sampling view size (default: the node default)', parseInteger('--view-size', 2, 255))
    .option('--daemon-arg <arg>', 'extra `node start` argument for every daemon, e.g. --daemon-arg=--slice-lease-ms=3000 (repeatable)', (arg: string, all: string[]) => [...all, arg], [] as string[])
    .option('--ready-timeout-ms <ms>', 'how long to wait for every API to answer', parseInteger('--ready-timeout-ms', 1_000, 3_600_000), 60_000)
    .option('--json', 'print the cluster state as JSON')
    .addHelpText('after', `\nEach node's data dir is <data-root>/node-i (created with \`init\` if missing), its log <data-root>/node-i/node.log.\nExample: peercloud cluster up -n 20 && peercloud cluster status && peercloud cluster down\nAny other daemon setting (docs/CONFIG.md) goes through --daemon-arg: peercloud cluster up -n 8 --daemon-arg=--slice-lease-ms=3000 --daemon-arg=--log-level=debug`)
    .action(async (o: { nodes: number; dataRoot: string; basePort: number; cyclePeriodMs?: number; epochLength?: number; viewSize?: number; daemonArg: string[]; readyTimeoutMs: number; json?: boolean }) => {
      const state = await clusterUp({ ...o, extraArgs: o.daemonArg, progress });
      if (o.json) return out(`${JSON.stringify(state, null, 2)}\n`);
      out(`${formatTable(['name', 'node id', 'api', 'pid'], state.nodes.map((n) => [n.name, n.nodeId, n.api, String(n.pid ?? '-')]))}\n`);
    });
  const down = new Command('down')
    .description('stop the local cluster: SIGTERM, then SIGKILL after a grace period (only processes it started)')
    .option('--data-root <dir>', dataRootHelp, DEFAULT_DATA_ROOT)
    .option('--grace-ms <ms>', 'wait this long after SIGTERM before SIGKILL', parseInteger('--grace-ms', 0, 600_000), 10_000)
    .option('--json', 'print the result as JSON')
    .action(async (o: { dataRoot: string; graceMs: number; json?: boolean }) => {
      const { stopped } = await clusterDown(o.dataRoot, o.graceMs);
      out(o.json ? `${JSON.stringify({ stopped })}\n` : `stopped ${stopped} daemon${stopped === 1 ? '' : 's'}\n`);
    });
  const status = new Command('status')
    .description("show each node's liveness, view size and network size estimate (from its API)")
    .option('--data-root <dir>', dataRootHelp, DEFAULT_DATA_ROOT)
    .option('--json', 'print the status as JSON')
    .action(async (o: { dataRoot: string; json?: boolean }) => {
      const s = await clusterStatus(o.dataRoot);
      if (o.json) return out(`${JSON.stringify(s, null, 2)}\n`);
      const n = (v: number | null) => (v === null ? '-' : formatNumber(v));
      const rows = s.nodes.map((x) => [x.name, x.nodeId, x.api, x.pid === null ? '-' : String(x.pid), x.live ? 'live' : x.running ? 'not answering' : 'stopped', n(x.viewSize), n(x.sizeEstimate)]);
      out(`${formatTable(['name', 'node id', 'api', 'pid', 'state', 'view', 'size est.'], rows)}\n`);
    });
  return new Command('cluster')
    .description('run a local cloud of N daemon processes on this machine (up, down, status)')
    .addCommand(up.exitOverride())
    .addCommand(down.exitOverride())
    .addCommand(status.exitOverride());
}
