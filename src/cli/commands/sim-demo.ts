import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import '../../simulator/experiments/all.js';
import { suiteExperiment } from '../../simulator/experiments/suite.js';
import type { Check } from '../../simulator/report/suite-checks.js';
import { defaultWorld } from '../../simulator/world.js';
import { formatTable } from '../output.js';
import { parseInteger } from '../parse.js';

/**
 * `peercloud sim-demo` (`npm run demo:sim`): the simulated counterpart of `peercloud demo`. It runs
 * every paper reproduction (peer sampling self-organising and surviving the death of half the
 * nodes, network size estimation, the T-Man ring, slicing) on a 10,000-node simulated cloud and
 * writes an HTML report with the plots.
 */
export function simDemoCommand(): Command {
  return new Command('sim-demo')
    .description('simulate a peercloud of N nodes and write an HTML report with plots of the gossip protocols at work')
    .option('-n, --nodes <N>', 'number of simulated nodes', parseInteger('--nodes', 250, 1_000_000), 10_000)
    .option('-s, --seed <S>', 'random seed', '1')
    .option('--out <dir>', 'where to write the report', 'peercloud-demo')
    .option('--quick', 'a 2000-node run that takes a few seconds (used by CI)')
    .option('-q, --quiet', 'no progress output')
    .action(async (opts: { nodes: number; seed: string; out: string; quick?: boolean; quiet?: boolean }) => {
      const dir = resolve(opts.out);
      const say = (line: string) => {
        if (!opts.quiet) process.stderr.write(`${line}\n`);
      };
      say(`peercloud demo: simulating ${opts.quick ? 'up to 2000' : opts.nodes} nodes (seed ${opts.seed}); the report goes to ${dir}`);
      let stage = '';
      let last = 0;
      const result = suiteExperiment.run(
        { ...defaultWorld, nodes: opts.nodes, seed: /^\d+$/.test(opts.seed) ? Number(opts.seed) : opts.seed, cycles: 0, options: { quick: opts.quick ? '1' : '0' } },
        (done, total, _row, name) => {
          const now = Date.now();
          if (name !== stage || now - last > 2000 || done === total) {
            if (name !== stage) say(`  ${name}`);
            stage = name ?? '';
            last = now;
          }
        },
      );
      mkdirSync(dir, { recursive: true });
      await suiteExperiment.report!(result, dir);
      const checks = (result as unknown as { checks: Check[] }).checks;
      console.log(
        formatTable(
          ['check', 'ok', 'measured', 'what was measured'],
          checks.map((c) => [c.id, c.pass ? 'yes' : 'NO', c.measuredText, c.quantity]),
        ),
      );
      console.log(`\n${checks.filter((c) => c.pass).length} of ${checks.length} published behaviours reproduced.`);
      console.log(`Open the report: file://${join(dir, 'index.html')}`);
    });
}
