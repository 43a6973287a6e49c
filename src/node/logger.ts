/**
 * Structured logs: one JSON object per line on stdout (pino), with the level as a word, an ISO
 * timestamp, and a `component` field on every line written through a component's child logger
 * (`transport`, `api`, `gossip`, ...), so `jq 'select(.component=="transport")'` filters one part.
 *
 * Writes are synchronous: a line logged just before a kill -9 or a crash is on stdout, not lost in a
 * buffer. At the default level a node logs a few lines per minute, so the cost does not matter.
 */
import { pino, stdSerializers, stdTimeFunctions } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import type { TransportLogger } from '../network/transport.js';
import type { LogLevel } from './config-settings.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go (default: stdout, synchronously). Tests pass a stream that collects them. */
  readonly destination?: DestinationStream | NodeJS.WritableStream;
  /** Fields on every line, e.g. `{ node: 'pc…', name: 'node3' }`. */
  readonly base?: Readonly<Record<string, unknown>>;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid, ...options.base },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: stdSerializers.err, error: stdSerializers.err },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A child logger whose lines carry `component` (and any extra fields). */
export function componentLogger(parent: Logger, component: string, fields: Readonly<Record<string, unknown>> = {}): Logger {
  return parent.child({ component, ...fields });
}

/** A logger that drops everything, for code paths that need one when none was given. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * The transport's logging callback on top of a logger. Error values in `fields` (the transport
 * passes TransportErrors as `reason` or `error`) are serialized with their message, code and
 * stack, where JSON.stringify would print `{}`.
 */
export function transportLogger(logger: Logger): TransportLogger {
  return (level, message, fields) => {
    if (!logger.isLevelEnabled(level)) return;
    if (fields === undefined) {
      logger[level](message);
      return;
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) out[key] = value instanceof Error ? stdSerializers.err(value) : value;
    logger[level](out, message);
  };
}
