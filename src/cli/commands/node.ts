import { Command, Option } from 'commander';
import { ConfigError, type ConfigFlags, describeConfig, loadConfig } from '../../node/config.js';
import { createLogger } from '../../node/logger.js';
import { NodeRuntime, NodeStartError } from '../../node/runtime/node-runtime.js';
import { CliError } from './cli-error.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * `peercloud node start`: runs the daemon in the foreground, JSON logs on stdout, until SIGTERM or
 * SIGINT, then shuts down gracefully and exits 0. Every configuration setting has a flag (generated
 * from the settings table, so flags, env variables and config files never drift apart).
 */
export function nodeCommand(): Command {
  const start = new Command('start')
    .description('run a peercloud node in the foreground (JSON logs on stdout; SIGTERM or SIGINT stops it)')
    .option('--config <file>', 'config file (TOML or YAML; default: $PEERCLOUD_CONFIG)');
  for (const s of describeConfig()) {
    const value = s.type === 'boolean' ? '[bool]' : s.repeatable ? '<value>' : '<value>';
    const option = new Option(`${s.flag} ${value}`, `${s.description} (env ${s.env}${s.default ? `; default ${s.default}` : ''})`);
    if (s.repeatable) option.argParser(collect);
    start.addOption(option);
  }
  start
    .addHelpText('after', '\nPrecedence: defaults < config file < PEERCLOUD_* environment < flags. See docs/CONFIG.md.\nExample: peercloud node start --data-dir /tmp/n1 --listen 127.0.0.1:7946 --api 127.0.0.1:7947 --join 127.0.0.1:8946')
    .action(async (opts: Record<string, unknown>) => {
      let config;
      try {
        config = await loadConfig({ env: process.env, flags: opts as ConfigFlags, onWarning: (m) => process.stderr.write(`peercloud: warning: ${m}\n`) });
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(err.message, 2);
        throw err;
      }
      const logger = createLogger({ level: config.log.level, base: { name: config.name } });
      let runtime: NodeRuntime;
      try {
        runtime = await NodeRuntime.start(config, { logger });
      } catch (err) {
        if (err instanceof NodeStartError) throw new CliError(err.message);
        throw err;
      }
      // A bug in a callback must be logged, not kill a node that is otherwise fine.
      const onUnexpected = (err: unknown) => logger.error({ err }, 'unexpected error (the node keeps running)');
      process.on('uncaughtException', onUnexpected);
      process.on('unhandledRejection', onUnexpected);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          logger.info({ signal }, 'shutdown requested');
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          runtime.stop().then(resolve, (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            resolve();
          });
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      process.off('uncaughtException', onUnexpected);
      process.off('unhandledRejection', onUnexpected);
    });
  return new Command('node').description('run and manage the local peercloud node').addCommand(start.exitOverride());
}
