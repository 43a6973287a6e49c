/**
 * Test fixtures for the monitoring modules: valid node ids, snapshots, a seeded random overlay
 * answering inspections in memory (counting requests in flight), and a manual clock with timers.
 */
import type { CrawlTarget } from '../../src/monitoring/overlay-crawler.js';
import type { NodeSnapshot } from '../../src/monitoring/snapshot.js';
import { SeededRandom } from '../../src/core/random.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A well-formed node id ("pc" + 32 base32 characters), distinct for each i. */
export function nodeIdOf(i: number): string {
  let digits = '';
  let n = i;
  do {
    digits = BASE32[n % 32] + digits;
    n = Math.floor(n / 32);
  } while (n > 0);
  return 'pc' + digits.padStart(32, 'a');
}

export const USER_ID = 'pu' + 'q'.repeat(32);

/** A valid snapshot of node `id` listening on 127.0.0.1:`port` with the given view. */
export function makeSnapshot(id: string, port: number, view: readonly { id: string; port: number }[] = [], takenAt = 1_700_000_000_000): NodeSnapshot {
  return {
    v: 1,
    id,
    name: `node-${port}`,
    version: '0.1.0',
    address: { host: '127.0.0.1', port },
    api: { host: '127.0.0.1', port: port + 1 },
    uptimeMs: 5_000,
    attributes: {
      cores: 4,
      cpuScore: 1000,
      memoryTotalBytes: 8 * 2 ** 30,
      memoryFreeBytes: 4 * 2 ** 30,
      diskTotalBytes: 100 * 2 ** 30,
      diskFreeBytes: 50 * 2 ** 30,
      loadAverage: 0.25,
      freeCores: 3.75,
      availabilityDay: 1,
      availabilityWeek: 0.5,
    },
    labels: { zone: 'lab2' },
    view: view.map((v) => ({ id: v.id, host: '127.0.0.1', port: v.port })),
    slice: null,
    ring: { predecessor: null, successor: null },
    network: { size: 50, averageFreeCores: 3.5, totalFreeCores: 175, totalFreeMemoryBytes: null, totalFreeDiskBytes: 1e12, averageLoad: 0.3 },
    takenAt,
  };
}

/** A seeded PRNG as a function, so a failing graph can be reproduced. */
export function seededRandom(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

interface FakeNode {
  id: string;
  port: number;
  view: string[];
  /** Answers inspections. */
  up: boolean;
  /** Answers with the snapshot of this other node instead of its own (a liar). */
  answerAs?: string;
}

/**
 * An overlay of `size` nodes in memory, node 0 being the crawler's own node. Views are random
 * (`viewSize` distinct other nodes, seeded); `islands` extra nodes list others but nobody lists
 * them, so a crawl from node 0 cannot find them. `inspect` answers after a few event-loop turns,
 * so that several requests are really in flight at once, and counts them.
 */
export class FakeOverlay {
  readonly nodes: FakeNode[] = [];
  inFlight = 0;
  maxInFlight = 0;
  calls = 0;
  readonly callsTo = new Map<string, number>();
  private readonly random: () => number;

  constructor(
    readonly size: number,
    readonly options: { viewSize?: number; islands?: number; seed?: number } = {},
  ) {
    this.random = seededRandom(options.seed ?? 1);
    const viewSize = options.viewSize ?? 5;
    const total = size + (options.islands ?? 0);
    for (let i = 0; i < total; i++) this.nodes.push({ id: nodeIdOf(i + 1), port: 20_000 + i, view: [], up: true });
    for (let i = 0; i < total; i++) {
      const view = new Set<string>();
      while (view.size < Math.min(viewSize, size - 1)) {
        const j = Math.floor(this.random() * size); // only regular nodes are ever listed
        if (j !== i) view.add(this.nodes[j].id);
      }
      this.nodes[i].view = [...view];
    }
  }

  get self(): FakeNode {
    return this.nodes[0];
  }

  node(id: string): FakeNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no fake node ${id}`);
    return n;
  }

  snapshotOf(id: string, takenAt = 1_700_000_000_000): NodeSnapshot {
    const n = this.node(id);
    return makeSnapshot(
      n.id,
      n.port,
      n.view.map((v) => ({ id: v, port: this.node(v).port })),
      takenAt,
    );
  }

  /** Node ids reachable from node 0 by following views (node 0 itself excluded). */
  reachable(): Set<string> {
    const seen = new Set<string>([this.self.id]);
    const queue = [this.self.id];
    while (queue.length > 0) {
      const id = queue.shift() as string;
      const n = this.node(id);
      if (id !== this.self.id && !n.up) continue; // a dead node's view is not learned
      for (const v of n.view) {
        if (!seen.has(v)) {
          seen.add(v);
          queue.push(v);
        }
      }
    }
    seen.delete(this.self.id);
    return seen;
  }

  /** Removes `id` from every view. */
  unlist(id: string): void {
    for (const n of this.nodes) n.view = n.view.filter((v) => v !== id);
  }

  readonly inspect = async (target: CrawlTarget): Promise<NodeSnapshot> => {
    this.calls++;
    this.callsTo.set(target.nodeId, (this.callsTo.get(target.nodeId) ?? 0) + 1);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const hops = 1 + Math.floor(this.random() * 4);
      for (let k = 0; k < hops; k++) await new Promise((r) => setImmediate(r));
      const n = this.nodes.find((x) => x.id === target.nodeId);
      if (!n || !n.up || n.port !== target.port) throw new Error(`connect ECONNREFUSED 127.0.0.1:${target.port}`);
      return this.snapshotOf(n.answerAs ?? n.id);
    } finally {
      this.inFlight--;
    }
  };

  /** Resolves once no inspection is in flight across two event-loop turns (a round has ended). */
  async settle(): Promise<void> {
    let quiet = 0;
    while (quiet < 2) {
      await new Promise((r) => setImmediate(r));
      quiet = this.inFlight === 0 ? quiet + 1 : 0;
    }
  }
}

interface Task {
  at: number;
  fn: () => void;
  cancelled: boolean;
}

/** A manual clock and timers, for the `now`/`timers` options of the crawler and the service. */
export class FakeTime {
  now = 1_700_000_000_000;
  private tasks: Task[] = [];
  readonly timers = {
    schedule: (fn: () => void, ms: number): (() => void) => {
      const task: Task = { at: this.now + Math.max(0, ms), fn, cancelled: false };
      this.tasks.push(task);
      return () => {
        task.cancelled = true;
      };
    },
  };
  readonly clock = (): number => this.now;

  /** Timers scheduled and neither run nor cancelled. */
  get pending(): number {
    return this.tasks.filter((t) => !t.cancelled).length;
  }

  /**
   * Moves the clock forward by `ms`, running every timer that falls due in order, and after each
   * one awaits `settle` (e.g. FakeOverlay.settle, so a round started by the timer ends first).
   */
  async advance(ms: number, settle: () => Promise<void> = async () => undefined): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      this.tasks = this.tasks.filter((t) => !t.cancelled);
      const due = this.tasks.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.tasks.splice(this.tasks.indexOf(due), 1);
      this.now = Math.max(this.now, due.at);
      due.fn();
      await settle();
    }
    this.now = until;
  }
}
