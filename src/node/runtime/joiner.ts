/**
 * Joining the overlay: while the view is empty, contact the join targets (configured entries and
 * the persisted view) with a HELLO every `retryIntervalMs`. Entries with a node id are pinned to
 * it; bare `host:port` entries are resolved by trust on first use (trust-on-first-use.ts) when
 * allowed. Failures are logged and retried; they never stop the daemon.
 */
import { type Transport, TransportError } from '../../network/transport.js';
import type { Cancel, Timers } from '../attributes-system.js';
import type { Logger } from '../logger.js';
import type { GossipNode } from './gossip-node.js';
import { learnNodeIdOnFirstUse } from './trust-on-first-use.js';

export interface JoinEntry {
  readonly host: string;
  readonly port: number;
  readonly nodeId?: string;
}

export interface JoinerOptions {
  readonly node: GossipNode;
  readonly transport: Transport;
  /** Whether `host:port` entries (no node id) may be resolved by trust on first use. */
  readonly trustOnFirstUse: boolean;
  readonly targets: readonly JoinEntry[];
  readonly retryIntervalMs: number;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly timeoutMs: number;
}

export class Joiner {
  private cancel: Cancel | undefined;
  private stopped = false;
  private attempt: Promise<void> | undefined;
  attempts = 0;

  constructor(private readonly options: JoinerOptions) {}

  start(): void {
    if (this.options.targets.length === 0) return;
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    await this.attempt;
  }

  /**
   * A node suggested by LAN discovery: contacted (its id pinned) if it is new to us and our view has
   * room. Failures are only logged: discovery suggests, the transport authenticates.
   */
  suggest(target: Required<JoinEntry>): void {
    const { node, logger } = this.options;
    if (this.stopped || target.nodeId === node.nodeId || node.knows(target.nodeId) || node.viewSize() >= node.protocols.sampling.config.viewSize) return;
    void node.hello(target).then(
      () => logger.info({ nodeId: target.nodeId, address: `${target.host}:${target.port}` }, 'contacted a node found on the LAN'),
      (err: unknown) => logger.debug({ nodeId: target.nodeId, error: err instanceof Error ? err.message : String(err) }, 'node found on the LAN did not answer'),
    );
  }

  private tick(): void {
    if (this.stopped) return;
    // One attempt at a time: while a busy target takes longer than the retry interval to answer,
    // more HELLOs would only add to its load (a whole cluster starting at once joins one seed).
    if (this.options.node.viewSize() === 0 && this.attempt === undefined) {
      const attempt: Promise<void> = this.tryAll().then(
        () => undefined,
        (err: unknown) => this.options.logger.error({ err }, 'join attempt crashed'),
      ).finally(() => {
        if (this.attempt === attempt) this.attempt = undefined;
      });
      this.attempt = attempt;
    }
    this.cancel = this.options.timers.schedule(() => this.tick(), this.options.retryIntervalMs);
  }

  /** One round: contacts every target concurrently. */
  async tryAll(): Promise<number> {
    this.attempts++;
    const { node, logger } = this.options;
    const results = await Promise.all(this.options.targets.map((t) => this.tryOne(t)));
    const joined = results.filter((r) => r).length;
    if (joined > 0) {
      // Exchange views right away instead of at the next cycle: a peer of the view we were given
      // learns of us now and passes us on from its next cycle.
      await node.runCycle('sampling');
      logger.info({ joined, view: node.viewSize() }, 'joined the overlay');
    }
    else logger.warn({ targets: this.options.targets.map((t) => `${t.nodeId ? `${t.nodeId}@` : ''}${t.host}:${t.port}`), retryInMs: this.options.retryIntervalMs }, 'no join target answered; retrying');
    return joined;
  }

  private async tryOne(target: JoinEntry): Promise<boolean> {
    const { node, transport, trustOnFirstUse, logger, timeoutMs } = this.options;
    const where = `${target.host}:${target.port}`;
    try {
      let nodeId = target.nodeId;
      if (nodeId === undefined) {
        if (!trustOnFirstUse) {
          logger.warn({ target: `${target.host}:${target.port}` }, 'join entry without a node id skipped: trust on first use is disabled');
          return false;
        }
        nodeId = await learnNodeIdOnFirstUse(transport, target, timeoutMs);
        logger.info({ target: `${target.host}:${target.port}`, nodeId }, 'trusting the key first seen at a join address');
      }
      if (nodeId === node.nodeId) return false;
      // Joining: the target's view comes back with its answer and fills ours at once.
      await node.hello({ nodeId, host: target.host, port: target.port }, { wantView: true });
      return true;
    } catch (err) {
      if (err instanceof TransportError && err.code === 'PEER_KEY_MISMATCH') {
        // Not a network hiccup: someone else holds the address, or the entry is wrong. Say so loudly.
        logger.error(
          { target: `${target.nodeId}@${where}`, error: err.message },
          `refusing join target ${where}: it proved a different key than node id ${target.nodeId}`,
        );
      } else if (err instanceof TransportError && err.code === 'REMOTE_ERROR') {
        // It answered but refused us (e.g. a private cloud whose join secret we lack): say why.
        logger.warn({ target: where, error: err.message }, `join target ${where} refused us`);
      } else {
        logger.debug({ target: where, error: err instanceof Error ? err.message : String(err) }, 'join target failed');
      }
      return false;
    }
  }
}
