/**
 * `npm run bench -- <name> [options]`: performance benchmarks, not part of `npm test`. Each
 * benchmark is a module with a name, a one-line description and a `main(args)` returning an exit
 * code; add new ones (e.g. `cluster`, `slices`) to the `benchmarks` list below.
 */
import type { Benchmark } from './benchmark.js';
import { clusterBenchmark } from './cluster.js';
import { dashboardBenchmark } from './dashboard.js';
import { simBenchmark } from './sim.js';
import { slicesBenchmark } from './slices.js';
import { transportBenchmark } from './transport.js';

const benchmarks: Benchmark[] = [simBenchmark, transportBenchmark, clusterBenchmark, slicesBenchmark, dashboardBenchmark];

function usage(): string {
  const lines = ['usage: npm run bench -- <benchmark> [options]', '', 'benchmarks:'];
  for (const b of benchmarks) lines.push(`  ${b.name.padEnd(10)} ${b.description}`, `  ${''.padEnd(10)} ${b.usage}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const bench = benchmarks.find((b) => b.name === name);
  if (!bench) {
    process.stderr.write(`bench: unknown benchmark "${name}"\n${usage()}\n`);
    return 2;
  }
  try {
    return await bench.main(rest);
  } catch (err) {
    // Bad arguments are usage errors (2); a failed run (e.g. a worker that crashed) is 1.
    process.stderr.write(`bench ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof RangeError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
