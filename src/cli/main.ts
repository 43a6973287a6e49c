import { Command, CommanderError } from 'commander';
import { packageVersion } from '../core/package-files.js';
import { CliError } from './commands/cli-error.js';
import { tuneDaemonProcess } from './daemon-tuning.js';


/**
 * The subcommands, each loaded only when it is needed. `peercloud node start` runs for days, and
 * every module it imports stays in its heap for good: importing the simulator's commands (the
 * experiments, the report writer and vega/vega-lite for the plots) would cost the daemon ~25 MiB of
 * resident memory for code it never runs. So a command line naming a known command loads just that
 * group; anything else (no command, --help, `help`, a typo) loads all of them, so the top-level help
 * and commander's "did you mean" suggestions see every command, in this order.
 */
interface CommandGroup {
  readonly names: readonly string[];
  load(): Promise<readonly Command[]>;
}

/** The simulator's usage error class, once `sim` is loaded (it is only thrown from there). */
let simUsageError: (new (message?: string) => Error) | undefined;

const COMMAND_GROUPS: readonly CommandGroup[] = [
  {
    names: ['sim'],
    load: async () => {
      const sim = await import('./commands/sim.js');
      simUsageError = sim.UsageError;
      return [sim.simCommand()];
    },
  },
  { names: ['demo'], load: async () => [(await import('./commands/demo.js')).demoCommand()] },
  { names: ['sim-demo'], load: async () => [(await import('./commands/sim-demo.js')).simDemoCommand()] },
  { names: ['init'], load: async () => [(await import('./commands/init.js')).initCommand()] },
  { names: ['node'], load: async () => [(await import('./commands/node.js')).nodeCommand()] },
  { names: ['cluster'], load: async () => [(await import('./commands/cluster.js')).clusterCommand()] },
  { names: ['status', 'peers', 'network'], load: async () => (await import('./commands/status.js')).statusCommands() },
  { names: ['user'], load: async () => [(await import('./commands/user.js')).userCommand()] },
  { names: ['slice'], load: async () => [(await import('./commands/slice.js')).sliceCommand()] },
  {
    names: ['run-instances', 'add-instances', 'terminate-instances', 'describe-instances'],
    load: async () => (await import('./commands/slice.js')).instanceCommands(),
  },
  { names: ['monitor-instances', 'unmonitor-instances'], load: async () => (await import('./commands/monitor.js')).monitorCommands() },
];

/**
 * The first operands of `argv` (as in process.argv). Neither the program's options (-h, -V) nor
 * `node`'s take a value, so these are the command and subcommand names.
 */
function commandPath(argv: readonly string[] | undefined): string[] {
  return (argv ?? []).slice(2).filter((a) => !a.startsWith('-')).slice(0, 2);
}

/** The command groups `argv` needs: the one its command names, else all. */
function groupsFor(argv: readonly string[] | undefined): readonly CommandGroup[] {
  const [name] = commandPath(argv);
  const group = name === undefined ? undefined : COMMAND_GROUPS.find((g) => g.names.includes(name));
  return group ? [group] : COMMAND_GROUPS;
}

/** The `peercloud` program with the commands `argv` needs (all of them without `argv`). */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('peercloud')
    .description('peercloud: a decentralized peer-to-peer cloud built from gossip protocols')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const groups = await Promise.all(groupsFor(argv).map((g) => g.load()));
  for (const c of groups.flat()) program.addCommand(c.exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // Before the daemon's modules load: the optimizing compiler's cost is mostly start-up work.
  const [command, subcommand] = commandPath(argv);
  if (command === 'node' && subcommand === 'start') tuneDaemonProcess();
  try {
    await (await buildProgram(argv)).parseAsync(argv);
    // A command that ends without an error may still choose its status (demo: 130 after Ctrl-C).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      process.stderr.write(`peercloud: error: ${err.message}\n`);
      return err.exitCode;
    }
    if ((simUsageError && err instanceof simUsageError) || err instanceof RangeError) {
      process.stderr.write(`peercloud: error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`peercloud: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
