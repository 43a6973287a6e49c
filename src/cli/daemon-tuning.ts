/**
 * V8 settings for the long-running daemon (`peercloud node start`), chosen for a small resident
 * set: a peercloud node is a guest on its owner's machine, and issue 3 budgets 60 MiB per daemon.
 *
 * Measured on the idle nodes of a 20-node local cluster (1 s cycle, Node 20, 2 cores, median
 * /proc/PID/status VmRSS 30 s after `cluster up`; the default node settings gave ~100-130 MiB).
 * What the daemon loads matters as much: see scripts/build-cli.mjs (the bundle) and
 * test/cli/daemon-modules.test.ts.
 *
 * - `--max-semi-space-size=1`: V8 grows the young generation up to 2 × 16 MiB while modules load
 *   and keeps it committed until its memory reducer notices the process is idle (a minute or more,
 *   and the gossip traffic of a busy node may never let it). Capped at 1 MiB per semi-space it
 *   costs ~2 MiB instead of up to 32 MiB; the daemon's few allocations per cycle do not notice.
 * - `--jitless` (the interpreter only: no TurboFan, no Sparkplug baseline code, no executable
 *   memory). TurboFan ran during start-up (parsers, schema compilers) and left ~10 MiB behind: its
 *   code pages in the node binary, its zone memory in the compiler threads' malloc arenas,
 *   optimized code; without Sparkplug's baseline code a 10-node cluster's daemons were 2.2 MiB
 *   smaller again (58.9 → 56.6 MiB) and used no more CPU. The daemon does little JavaScript work
 *   per cycle, and TLS, hashing and signatures are native code. Benchmarks suffer (the CPU score's
 *   workload runs many times slower), which is why the score is measured by `peercloud init` and
 *   stored, not measured in the daemon (node/cpu-score-file.ts).
 *   The price: no WebAssembly in the daemon (`--no-expose-wasm` says so up front, instead of V8
 *   printing a warning), hence no `fetch()` either (Node's fetch parses HTTP with WebAssembly):
 *   daemon code talks HTTP with node:http. Node's own loader falls back to JavaScript without it.
 * - `--max-old-space-size=256`: a safety cap (a leak ends the process instead of eating the
 *   machine's memory) that also makes V8 size its old generation for a small heap (growth factor
 *   ~1.3 instead of up to 4), so less garbage waits between full collections. The live heap of a
 *   daemon is ~20 MiB whatever the network size (views and tables are bounded).
 * - `--optimize-for-size`, `--single-threaded-gc`, `--v8-pool-size=1`: V8's memory-over-speed
 *   heuristics, and no GC helper threads (each keeps a malloc arena and a stack): ~2 MiB together.
 *   A full collection of the ~20 MiB heap then pauses the main thread 3-10 ms (--trace-gc), the
 *   incremental marking before it running in sub-millisecond steps.
 *
 * - `--bytecode-old-age=1`: V8 drops a function's bytecode when the function has not run since the
 *   last full collection (default: five), and compiles it again from source if it ever runs again.
 *   Most of a daemon's code runs once, at start-up (module bodies, config and schema building,
 *   the listeners' set-up): 10-node cloud, 55.0 MiB instead of 56.6 MiB, the same idle CPU
 *   (0.35 % of a core), as what runs every cycle is never old.
 *
 * Not used: `--lite-mode` (V8's jitless plus lazier feedback) measured the same as `--jitless`.
 */
import { setFlagsFromString } from 'node:v8';

/** The flags `peercloud cluster up` (and any supervisor that can) starts `node` with, before the script. */
export const DAEMON_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--max-old-space-size=256',
  '--jitless',
  '--no-expose-wasm',
  '--bytecode-old-age=1',
  '--optimize-for-size',
  '--single-threaded-gc',
  '--v8-pool-size=1',
];

/** What {@link tuneDaemonProcess} did: each setting applied at run time or left as the launcher chose. */
export interface DaemonTuning {
  readonly youngGeneration: 'applied' | 'given';
  readonly optimizingCompiler: 'applied' | 'given';
  readonly optimizeForSize: 'applied' | 'given';
  readonly baselineCompiler: 'applied' | 'given';
  readonly bytecodeFlushing: 'applied' | 'given';
}

function givenFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].filter((f) => f.startsWith('--')).map((f) => f.replaceAll('_', '-'));
}

/**
 * Gives a daemon started without {@link DAEMON_NODE_FLAGS} (a plain `peercloud node start`) those
 * of them that V8 consults each time it decides, rather than once when the heap is set up, so they
 * still work once the process runs (Node 20 cannot re-exec itself without leaving a second process
 * behind): no TurboFan and no Sparkplug baseline code (what `--jitless` does at start, less its
 * executable-memory savings); bytecode dropped after one idle full collection; a young generation that never grows past its initial size (growth factor
 * 1, the run-time equivalent of a small --max-semi-space-size); the memory-over-speed heuristics
 * (`--optimize-for-size`, which also keeps the old generation from growing far past the live heap).
 * The old-generation cap and the GC threads cannot be changed this late (switching
 * `--single-threaded-gc` on in a running process crashes V8): only a launcher can give those.
 * Measured on the idle daemons of a 5-node cloud started without launcher flags: 59.3 MiB without
 * the run-time `--no-sparkplug`, 58.8 MiB with it (~125 MiB with no tuning at all; 56.6 MiB with
 * all of DAEMON_NODE_FLAGS on the command line, in a 10-node cloud).
 *
 * A setting the process was started with (on the command line or in NODE_OPTIONS, e.g. `--opt`
 * to get TurboFan back) is left alone. Call it before the daemon's modules load: most of
 * TurboFan's and the young generation's cost is start-up work.
 */
export function tuneDaemonProcess(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): DaemonTuning {
  const given = givenFlags(execArgv, nodeOptions);
  const has = (...names: string[]) => given.some((f) => names.some((n) => f === n || f.startsWith(`${n}=`)));
  const apply = (alreadyGiven: boolean, flag: string): 'applied' | 'given' => {
    if (alreadyGiven) return 'given';
    setFlagsFromString(flag);
    return 'applied';
  };
  return {
    youngGeneration: apply(has('--max-semi-space-size', '--semi-space-growth-factor'), '--semi-space-growth-factor=1'),
    optimizingCompiler: apply(has('--opt', '--no-opt', '--turbofan', '--no-turbofan', '--jitless'), '--no-opt'),
    optimizeForSize: apply(has('--optimize-for-size', '--no-optimize-for-size'), '--optimize-for-size'),
    baselineCompiler: apply(has('--sparkplug', '--no-sparkplug', '--jitless'), '--no-sparkplug'),
    bytecodeFlushing: apply(has('--bytecode-old-age', '--flush-bytecode', '--no-flush-bytecode'), '--bytecode-old-age=1'),
  };
}
