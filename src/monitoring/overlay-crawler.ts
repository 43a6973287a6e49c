/**
 * Crawls the overlay for a dashboard: starting from this node's view, it asks every node it learns
 * of for its snapshot (inspect-service.ts), follows their views, and repeats in rounds, so the
 * dashboard can draw the whole peer sampling graph and every slice's ring although no node holds a
 * global view. It is the monitoring tool of the design report ("the dashboard asks the nodes"),
 * not part of the cloud's protocols: nothing depends on it, and it runs only while someone looks.
 *
 * Cost is bounded: at most `maxNodes` nodes (this one included), `concurrency` requests in flight,
 * one round per `intervalMs` at most, and no crawling at all once nobody asked for `idleStopMs`.
 *
 * A node that does not answer `failuresToUnreachable` times in a row is shown as unreachable (the
 * viewer sees it die); once no reachable node has it in its view any more and it has been
 * unreachable for `forgetAfterMs`, it is forgotten. A node that stops answering at its address is
 * tried at the address other nodes' views give for it (a daemon restarted on another port keeps
 * its id).
 */
import type { NodeSnapshot } from './snapshot.js';

export interface CrawlTarget {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
}

export interface OverlayCrawlerOptions {
  /** This node's own snapshot (no network round trip). */
  readonly self: () => NodeSnapshot;
  /** Asks a node for its snapshot; rejects if it cannot be reached or answers garbage. */
  readonly inspect: (target: CrawlTarget) => Promise<NodeSnapshot>;
  readonly now: () => number;
  readonly timers: { schedule(fn: () => void, ms: number): () => void };
  readonly intervalMs?: number;
  readonly concurrency?: number;
  readonly maxNodes?: number;
  readonly idleStopMs?: number;
  readonly failuresToUnreachable?: number;
  readonly forgetAfterMs?: number;
  /** Called when a round fails as a whole (its own snapshot threw); the next round is still scheduled. */
  readonly onError?: (err: unknown) => void;
}

export type CrawledState = 'live' | 'unreachable' | 'unknown';

export interface CrawledNode {
  readonly id: string;
  readonly address: { readonly host: string; readonly port: number };
  /** live: answered in the last round; unreachable: failed repeatedly; unknown: not asked yet. */
  readonly state: CrawledState;
  /** The last snapshot it gave (kept while unreachable, so the dashboard can still label it). */
  readonly snapshot: NodeSnapshot | null;
  /** When it last answered (Unix ms), or null. */
  readonly lastSeenAt: number | null;
}

export interface OverlayReport {
  /** The node that crawled. */
  readonly self: string;
  /** Completed crawl rounds (0: the first is still running). */
  readonly rounds: number;
  /** When the last completed round started and how long it took. */
  readonly lastRoundAt: number | null;
  readonly lastRoundMs: number | null;
  /** The last round saw more nodes than maxNodes; the rest were not crawled. */
  readonly truncated: boolean;
  readonly nodes: readonly CrawledNode[];
}

interface Entry {
  target: CrawlTarget;
  snapshot: NodeSnapshot | null;
  failures: number;
  lastSeenAt: number | null;
  unreachableSince: number | null;
}

export class OverlayCrawler {
  private readonly entries = new Map<string, Entry>();
  private readonly intervalMs: number;
  private readonly concurrency: number;
  private readonly maxNodes: number;
  private readonly idleStopMs: number;
  private readonly failuresToUnreachable: number;
  private readonly forgetAfterMs: number;
  private lastAskedAt = -Infinity;
  private running = false;
  private current: Promise<void> | undefined;
  private stopped = false;
  private cancelNext: (() => void) | undefined;
  private rounds = 0;
  private lastRoundAt: number | null = null;
  private lastRoundMs: number | null = null;
  private truncated = false;
  private selfSnapshot: NodeSnapshot | null = null;

  constructor(private readonly o: OverlayCrawlerOptions) {
    this.intervalMs = atLeast('intervalMs', o.intervalMs ?? 2_000, 0);
    // Integers >= 1: with no request slot a round would wait forever for its queue to drain.
    this.concurrency = wholeAtLeast('concurrency', o.concurrency ?? 8, 1);
    this.maxNodes = wholeAtLeast('maxNodes', o.maxNodes ?? 5_000, 1);
    this.idleStopMs = atLeast('idleStopMs', o.idleStopMs ?? 60_000, 0);
    this.failuresToUnreachable = wholeAtLeast('failuresToUnreachable', o.failuresToUnreachable ?? 2, 1);
    this.forgetAfterMs = atLeast('forgetAfterMs', o.forgetAfterMs ?? 30_000, 0);
  }

  /** The overlay as last crawled; also (re)starts crawling if it was idle. */
  report(): OverlayReport {
    this.lastAskedAt = this.o.now();
    if (!this.running && !this.stopped && this.cancelNext === undefined) void this.round();
    const self = this.selfSnapshot ?? this.o.self();
    const nodes: CrawledNode[] = [{ id: self.id, address: self.address, state: 'live', snapshot: self, lastSeenAt: self.takenAt }];
    for (const [id, e] of this.entries) {
      if (id === self.id) continue;
      const state: CrawledState = e.unreachableSince !== null ? 'unreachable' : e.lastSeenAt === null ? 'unknown' : 'live';
      nodes.push({ id, address: { host: e.target.host, port: e.target.port }, state, snapshot: e.snapshot, lastSeenAt: e.lastSeenAt });
    }
    return { self: self.id, rounds: this.rounds, lastRoundAt: this.lastRoundAt, lastRoundMs: this.lastRoundMs, truncated: this.truncated, nodes };
  }

  /** Resolves when the running round (if any) ends: tests wait for fresh data with it. */
  async crawlOnce(): Promise<OverlayReport> {
    this.lastAskedAt = this.o.now();
    this.cancelNext?.();
    this.cancelNext = undefined;
    if (this.current) await this.current;
    else await this.round();
    return this.report();
  }

  stop(): void {
    this.stopped = true;
    this.cancelNext?.();
    this.cancelNext = undefined;
  }

  private round(): Promise<void> {
    if (this.running || this.stopped) return this.current ?? Promise.resolve();
    this.running = true;
    const startedAt = this.o.now();
    // Callers `void` this promise (report(), the timer): a failed round must not become an
    // unhandled rejection, which would end the daemon.
    this.current = this.crawl(startedAt)
      .catch((err: unknown) => this.o.onError?.(err))
      .finally(() => {
        this.running = false;
        this.current = undefined;
        this.scheduleNext(startedAt);
      });
    return this.current;
  }

  private async crawl(startedAt: number): Promise<void> {
    this.cancelNext = undefined;
    const self = this.o.self();
    this.selfSnapshot = self;
    const queue: string[] = [];
    const queued = new Set<string>([self.id]);
    let truncated = false;
    const enqueue = (t: CrawlTarget) => {
      if (t.nodeId === self.id) return;
      const known = this.entries.get(t.nodeId);
      // A node failing at the address we know may live elsewhere now: try the one a view gives.
      if (known && known.failures > 0 && (known.target.host !== t.host || known.target.port !== t.port)) known.target = t;
      if (queued.has(t.nodeId)) return;
      if (!known) {
        // `maxNodes` counts this node too.
        if (this.entries.size + 1 >= this.maxNodes) {
          truncated = true;
          return;
        }
        this.entries.set(t.nodeId, { target: t, snapshot: null, failures: 0, lastSeenAt: null, unreachableSince: null });
      }
      queued.add(t.nodeId);
      queue.push(t.nodeId);
    };
    for (const v of self.view) enqueue({ nodeId: v.id, host: v.host, port: v.port });
    for (const e of this.entries.values()) enqueue(e.target);

    const visit = async (id: string) => {
      const e = this.entries.get(id);
      if (e === undefined) return;
      try {
        const s = await this.o.inspect(e.target);
        e.snapshot = s;
        e.failures = 0;
        e.lastSeenAt = this.o.now();
        e.unreachableSince = null;
        for (const v of s.view) enqueue({ nodeId: v.id, host: v.host, port: v.port });
      } catch {
        e.failures++;
        if (e.failures >= this.failuresToUnreachable && e.unreachableSince === null) e.unreachableSince = this.o.now();
      }
    };
    // A pool, not `concurrency` loops over the queue: a loop that finds the queue empty would end
    // while answers still in flight add nodes to it.
    await new Promise<void>((resolve) => {
      let active = 0;
      const pump = () => {
        while (active < this.concurrency && queue.length > 0) {
          const id = queue.shift() as string;
          active++;
          void visit(id).finally(() => {
            active--;
            pump();
          });
        }
        if (active === 0 && queue.length === 0) resolve();
      };
      pump();
    });
    this.forget(self);
    this.truncated = truncated;
    this.rounds++;
    this.lastRoundAt = startedAt;
    this.lastRoundMs = this.o.now() - startedAt;
  }

  /** Drops nodes unreachable for long that no reachable node lists any more. */
  private forget(self: NodeSnapshot): void {
    const listed = new Set<string>(self.view.map((v) => v.id));
    for (const e of this.entries.values()) {
      if (e.unreachableSince === null && e.snapshot) for (const v of e.snapshot.view) listed.add(v.id);
    }
    const now = this.o.now();
    for (const [id, e] of this.entries) {
      if (e.unreachableSince !== null && now - e.unreachableSince >= this.forgetAfterMs && !listed.has(id)) this.entries.delete(id);
      else if (e.lastSeenAt === null && e.failures > 0 && !listed.has(id)) this.entries.delete(id);
    }
  }

  private scheduleNext(startedAt: number): void {
    if (this.stopped) return;
    const now = this.o.now();
    if (now - this.lastAskedAt > this.idleStopMs) return; // nobody is looking: stop until asked
    const wait = Math.max(0, startedAt + this.intervalMs - now);
    this.cancelNext = this.o.timers.schedule(() => {
      this.cancelNext = undefined;
      void this.round();
    }, wait);
  }
}

function atLeast(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) throw new RangeError(`${name} must be a number >= ${min}, got ${value}`);
  return value;
}

function wholeAtLeast(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be a whole number >= ${min}, got ${value}`);
  return value;
}
