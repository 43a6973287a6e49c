/**
 * V8 settings for the long-running daemon (`peercloud node start`), chosen for a small resident
 * set: a peercloud node is a guest on its owner's machine, and issue 3 budgets 60 MiB per daemon.
 *
 * Measured on the idle nodes of a 20-node local cluster (1 s cycle, Node 20, /proc/PID/status
 * VmRSS 30 s after `cluster up`):
 *
 * - `--max-semi-space-size=1`: V8 grows the young generation up to 2 × 16 MiB while modules load
 *   and keeps it committed until its memory reducer notices the process is idle (a minute or more,
 *   and the gossip traffic of a busy node may never let it). Capped at 1 MiB per semi-space it
 *   costs ~2 MiB instead of up to 32 MiB; the daemon's few allocations per cycle do not notice.
 * - `--no-opt` (no TurboFan): the optimizing compiler ran during start-up (parsers, schema
 *   compilers) and left ~10 MiB behind — its code pages in the node binary, its zone memory in
 *   the compiler threads' malloc arenas, optimized code. The daemon does little JavaScript work
 *   per cycle; the interpreter and the Sparkplug baseline compiler are plenty, and TLS, hashing
 *   and signatures run in native code either way.
 * - `--max-old-space-size=256`: a safety cap (a leak ends the process instead of the machine's
 *   memory) that also makes V8 size its old generation for a small heap (growth factor ~1.3
 *   instead of up to 4), which keeps less garbage between full collections. The live heap of a
 *   daemon is ~20 MiB, whatever the network size (views are bounded).
 *
 * Not used: `--jitless`/`--lite-mode` would save a little more but remove WebAssembly, which
 * Node's own fetch() needs.
 */
import { setFlagsFromString } from 'node:v8';

/** The flags `peercloud cluster up` (and any supervisor that can) starts `node` with, before the script. */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=256', '--no-opt'];

/** What {@link tuneDaemonProcess} did: each setting applied at run time or left as the launcher chose. */
export interface DaemonTuning {
  readonly youngGeneration: 'applied' | 'given';
  readonly optimizingCompiler: 'applied' | 'given';
}

function givenFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].filter((f) => f.startsWith('--')).map((f) => f.replaceAll('_', '-'));
}

/**
 * Gives a daemon started without {@link DAEMON_NODE_FLAGS} (a plain `peercloud node start`) the two
 * of them that V8 reads when it uses them rather than when the heap is set up, so they still work
 * once the process runs (Node 20 cannot re-exec itself without leaving a second process behind):
 * no TurboFan, and a young generation that never grows past its initial size (growth factor 1,
 * the run-time equivalent of a small --max-semi-space-size). The old-generation cap cannot be set
 * this late; that one only a launcher can give. A setting the process was started with (on the
 * command line or in NODE_OPTIONS, e.g. `--opt` to get TurboFan back) is left alone.
 *
 * Call it before the daemon's modules load: most of TurboFan's cost is start-up work.
 */
export function tuneDaemonProcess(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): DaemonTuning {
  const given = givenFlags(execArgv, nodeOptions);
  const has = (...names: string[]) => given.some((f) => names.some((n) => f === n || f.startsWith(`${n}=`)));
  const youngGiven = has('--max-semi-space-size', '--semi-space-growth-factor');
  const optGiven = has('--opt', '--no-opt', '--turbofan', '--no-turbofan', '--jitless');
  if (!youngGiven) setFlagsFromString('--semi-space-growth-factor=1');
  if (!optGiven) setFlagsFromString('--no-opt');
  return { youngGeneration: youngGiven ? 'given' : 'applied', optimizingCompiler: optGiven ? 'given' : 'applied' };
}
