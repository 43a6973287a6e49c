import { Command } from 'commander';
import { ConfigError, loadConfig } from '../../node/config.js';
import { cpuScorePath, measureAndStoreCpuScore } from '../../node/cpu-score-file.js';
import { IdentityError, createIdentity, identityPath } from '../../node/identity.js';
import { CliError } from './cli-error.js';

/**
 * `peercloud init`: creates the node's key pair in its data directory, measures the CPU score into
 * it, and prints the node id.
 */
export function initCommand(): Command {
  return new Command('init')
    .description('create this node\'s identity (an Ed25519 key pair) in its data directory and print the node id')
    .option('--data-dir <path>', 'data directory (default: $PEERCLOUD_DATA_DIR or ~/.peercloud)')
    .option('--force', 'replace an existing identity (the node id changes)')
    .addHelpText('after', '\nThe node id is derived from the public key; give it to others as <id>@host:port join entries.')
    .action(async (opts: { dataDir?: string; force?: boolean }) => {
      let dataDir: string;
      try {
        dataDir = (await loadConfig({ env: process.env, flags: { 'data-dir': opts.dataDir } })).dataDir;
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(err.message, 2);
        throw err;
      }
      try {
        const identity = await createIdentity(dataDir, { force: opts.force === true });
        process.stderr.write(`peercloud: created the node identity in ${identityPath(dataDir)}\n`);
        // Measured here, with V8's normal flags, rather than by the daemon (see node/cpu-score-file.ts).
        try {
          const stored = await measureAndStoreCpuScore(dataDir);
          process.stderr.write(`peercloud: measured the CPU score (${stored.score}) into ${cpuScorePath(dataDir)}\n`);
        } catch (err) {
          process.stderr.write(`peercloud: warning: could not store the CPU score in ${cpuScorePath(dataDir)} (${(err as Error).message}); the node will measure it when it starts\n`);
        }
        process.stdout.write(`${identity.nodeId}\n`);
      } catch (err) {
        if (err instanceof IdentityError) {
          throw new CliError(err.code === 'EXISTS' ? `${identityPath(dataDir)} already exists; use --force to replace it (the node id will change)` : err.message);
        }
        throw err;
      }
    });
}
