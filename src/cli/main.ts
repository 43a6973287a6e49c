import { Command, CommanderError } from 'commander';
import { demoCommand } from './commands/demo.js';
import { UsageError, simCommand } from './commands/sim.js';
import { readFileSync } from 'node:fs';
import { CliError } from './commands/cli-error.js';
import { initCommand } from './commands/init.js';
import { nodeCommand } from './commands/node.js';
import { statusCommands } from './commands/status.js';
import { clusterCommand } from './commands/cluster.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('peercloud')
    .description('peercloud: a decentralized peer-to-peer cloud built from gossip protocols')
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(simCommand().exitOverride());
  program.addCommand(demoCommand().exitOverride());
  program.addCommand(initCommand().exitOverride());
  program.addCommand(nodeCommand().exitOverride());
  program.addCommand(clusterCommand().exitOverride());
  for (const c of statusCommands()) program.addCommand(c.exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      process.stderr.write(`peercloud: error: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof UsageError || err instanceof RangeError) {
      process.stderr.write(`peercloud: error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`peercloud: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
