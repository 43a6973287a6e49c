import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from '../../src/core/clock.js';
import { NO_PEER, type PeerHandle } from '../../src/core/handles.js';
import type { Protocol } from '../../src/protocols/exchange.js';
import { CycleDrivenEngine } from '../../src/simulator/engine/cycle-driven.js';
import { type Engine, runCycles } from '../../src/simulator/engine/engine.js';
import { EventDrivenEngine } from '../../src/simulator/engine/event-driven.js';
import { EventQueue } from '../../src/simulator/engine/event-queue.js';
import type { NetworkModel } from '../../src/simulator/network.js';
import { Simulation } from '../../src/simulator/simulation.js';

interface Req {
  id: number;
  from: PeerHandle;
  to: PeerHandle;
  sentAt: number;
}

/**
 * A protocol that only records what the engine makes it do: which node initiated, handled,
 * completed or failed which exchange, and when (virtual time, if a clock is attached).
 */
class Recorder implements Protocol {
  readonly name = 'recorder';
  log: string[] = [];
  initiates: number[] = [];
  handled = 0;
  completed = 0;
  failed = 0;
  handledByDead = 0;
  clock: Clock | null = null;
  latencies: number[] = [];
  alive: (h: PeerHandle) => boolean = () => true;
  private next = 0;

  constructor(private readonly peerOf: (self: PeerHandle) => PeerHandle) {}

  ensureCapacity(capacity: number): void {
    while (this.initiates.length < capacity) this.initiates.push(0);
  }
  resetNode(self: PeerHandle): void {
    this.initiates[self] = 0;
  }
  selectPeer(self: PeerHandle): PeerHandle {
    return this.peerOf(self);
  }
  initiate(self: PeerHandle, peer: PeerHandle): unknown {
    this.initiates[self]++;
    const req: Req = { id: this.next++, from: self, to: peer, sentAt: this.clock?.now() ?? 0 };
    this.log.push(`i${req.id}:${self}>${peer}`);
    return req;
  }
  handle(self: PeerHandle, from: PeerHandle, raw: unknown): unknown {
    const req = raw as Req;
    this.handled++;
    if (!this.alive(self)) this.handledByDead++;
    assert.equal(self, req.to);
    assert.equal(from, req.from);
    if (this.clock) this.latencies.push(this.clock.now() - req.sentAt);
    this.log.push(`h${req.id}`);
    return { id: req.id, at: this.clock?.now() ?? 0 };
  }
  complete(self: PeerHandle, peer: PeerHandle, raw: unknown, res: unknown): void {
    const req = raw as Req;
    assert.equal(self, req.from);
    assert.equal(peer, req.to);
    assert.equal((res as { id: number }).id, req.id);
    if (this.clock) this.latencies.push(this.clock.now() - (res as { at: number }).at);
    this.completed++;
    this.log.push(`c${req.id}`);
  }
  fail(self: PeerHandle, peer: PeerHandle, raw: unknown): void {
    const req = raw as Req;
    assert.equal(self, req.from);
    assert.equal(peer, req.to);
    this.failed++;
    this.log.push(`f${req.id}`);
  }
}

function world(nodes: number, network: Partial<NetworkModel> = {}, seed: number | string = 1) {
  const sim = new Simulation({
    seed,
    capacity: nodes,
    network: { requestLoss: 0, responseLoss: 0, latency: { kind: 'constant', ms: 0 }, ...network },
  });
  const rec = sim.addProtocol(new Recorder((self) => (sim.population.size < 2 ? NO_PEER : randomOther(sim, self))));
  rec.alive = (h) => sim.population.isAlive(h);
  sim.spawnMany(nodes);
  return { sim, rec };
}

/** A random live node other than `self`, drawn from the simulation's stream (as a protocol would). */
function randomOther(sim: Simulation, self: PeerHandle): PeerHandle {
  for (;;) {
    const p = sim.population.randomLive(sim.rng);
    if (p !== self) return p;
  }
}

type EngineKind = 'cycle' | 'event';
function engineFor(kind: EngineKind, sim: Simulation, rec: Recorder, options: { periodMs?: number; timeoutMs?: number } = {}): Engine {
  if (kind === 'cycle') return new CycleDrivenEngine(sim);
  const e = new EventDrivenEngine(sim, options);
  rec.clock = e.clock;
  return e;
}

describe('both engines', () => {
  for (const kind of ['cycle', 'event'] as const) {
    it(`${kind}: every live node initiates once per cycle; each exchange ends in exactly one of complete/fail`, () => {
      const { sim, rec } = world(200, { latency: { kind: 'uniform', minMs: 1, maxMs: 300 } });
      const engine = engineFor(kind, sim, rec);
      const rows = runCycles(engine, 5);
      assert.equal(rows.length, 6);
      assert.deepEqual(rows.map((r) => r.cycle), [0, 1, 2, 3, 4, 5]);
      for (let h = 0; h < 200; h++) assert.equal(rec.initiates[h], 5, `node ${h}`);
      const initiated = rec.log.filter((l) => l.startsWith('i')).length;
      assert.equal(initiated, 1000);
      // In event mode the last exchanges may still be in flight at the end of the last cycle.
      const ended = rec.completed + rec.failed;
      if (kind === 'cycle') assert.equal(ended, 1000);
      else assert.ok(ended <= 1000 && ended >= 1000 - 200, `${ended} exchanges ended`);
      assert.equal(rec.failed, 0);
      const ids = rec.log.filter((l) => l.startsWith('c') || l.startsWith('f')).map((l) => l.slice(1));
      assert.equal(new Set(ids).size, ids.length, 'no exchange ends twice');
    });

    it(`${kind}: the same seed gives the same sequence of steps; another seed does not`, () => {
      const trace = (seed: number) => {
        const { sim, rec } = world(100, { latency: { kind: 'exponential', meanMs: 80 }, requestLoss: 0.1, responseLoss: 0.1 }, seed);
        runCycles(engineFor(kind, sim, rec), 4);
        return rec.log.join(' ');
      };
      assert.equal(trace(3), trace(3));
      assert.notEqual(trace(3), trace(4));
    });

    it(`${kind}: exchanges with dead peers fail and dead nodes never handle requests`, () => {
      const { sim, rec } = world(300);
      const engine = engineFor(kind, sim, rec);
      for (let h = 0; h < 150; h++) sim.kill(h);
      // Peers are chosen among all handles, so about half of the exchanges target dead nodes.
      (rec as unknown as { peerOf: (s: PeerHandle) => PeerHandle }).peerOf = (self) => (self + 1 + sim.rng.int(299)) % 300;
      runCycles(engine, 4);
      assert.equal(rec.handledByDead, 0);
      for (let h = 0; h < 150; h++) assert.equal(rec.initiates[h], 0, 'dead nodes do not initiate');
      const ended = rec.completed + rec.failed;
      assert.ok(Math.abs(rec.failed / ended - 0.5) < 0.08, `failed ${rec.failed} of ${ended}`);
    });

    it(`${kind}: request loss 1 → every exchange fails without reaching the peer`, () => {
      const { sim, rec } = world(50, { requestLoss: 1 });
      runCycles(engineFor(kind, sim, rec), 3);
      assert.equal(rec.handled, 0);
      assert.equal(rec.completed, 0);
      if (kind === 'cycle') assert.equal(rec.failed, 150);
      else assert.ok(rec.failed >= 100 && rec.failed <= 150);
    });

    it(`${kind}: response loss 1 → the peer handles, the initiator fails`, () => {
      const { sim, rec } = world(50, { responseLoss: 1 });
      runCycles(engineFor(kind, sim, rec), 3);
      assert.ok(rec.handled >= 100);
      assert.equal(rec.completed, 0);
      assert.ok(rec.failed >= 100);
    });

    it(`${kind}: 30% loss each way fails about 1 - 0.7² = 51% of the exchanges`, () => {
      const { sim, rec } = world(1000, { requestLoss: 0.3, responseLoss: 0.3 });
      runCycles(engineFor(kind, sim, rec), 4);
      // Only exchanges started in the first 3 cycles: in event mode the later ones may still be
      // waiting for their timeout, and counting only those that ended would under-count failures.
      const ended = new Map<string, boolean>();
      for (const l of rec.log) if (l[0] === 'c' || l[0] === 'f') ended.set(l.slice(1), l[0] === 'f');
      let failed = 0;
      for (let id = 0; id < 3000; id++) if (ended.get(String(id))) failed++;
      assert.equal([...Array(3000).keys()].filter((id) => ended.has(String(id))).length, 3000);
      assert.ok(Math.abs(failed / 3000 - 0.51) < 0.03, `failed ${failed} of 3000`);
      assert.ok(Math.abs(rec.handled / rec.initiates.reduce((a, b) => a + b, 0) - 0.7) < 0.03);
    });

    it(`${kind}: controls run before each cycle and late joiners take part from their first cycle`, () => {
      const { sim, rec } = world(20);
      const seen: number[] = [];
      sim.controls.push({
        name: 'join-at-2',
        beforeCycle(s, cycle) {
          seen.push(cycle);
          if (cycle === 2) for (let i = 0; i < 5; i++) s.spawn();
        },
      });
      const observed: number[] = [];
      sim.observers.push({ name: 'size', observe: (s, cycle) => (observed.push(cycle), { size: s.population.size }) });
      const rows = runCycles(engineFor(kind, sim, rec), 5);
      assert.deepEqual(seen, [0, 1, 2, 3, 4]);
      assert.deepEqual(observed, [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(rows.map((r) => r.size), [20, 20, 20, 25, 25, 25]);
      // Joined before cycle 2 ran (rows 3..5 are after it): 3 active steps each.
      for (let h = 20; h < 25; h++) assert.equal(rec.initiates[h], 3, `late joiner ${h}`);
    });
  }
});

describe('cycle-driven engine', () => {
  it('visits nodes in a fresh random order each cycle', () => {
    const { sim, rec } = world(50);
    const engine = new CycleDrivenEngine(sim);
    const orders: string[] = [];
    for (let c = 0; c < 3; c++) {
      rec.log = [];
      engine.runCycle();
      orders.push(rec.log.filter((l) => l.startsWith('i')).map((l) => l.split(':')[1].split('>')[0]).join(','));
    }
    assert.equal(new Set(orders).size, 3);
  });

  it('an exchange is atomic: handle and complete follow its initiate immediately', () => {
    const { sim, rec } = world(30);
    new CycleDrivenEngine(sim).runCycle();
    for (let i = 0; i < rec.log.length; i += 3) {
      const id = rec.log[i].slice(1).split(':')[0];
      assert.deepEqual(rec.log.slice(i + 1, i + 3), [`h${id}`, `c${id}`]);
    }
  });
});

describe('event-driven engine', () => {
  it('messages take the configured latency, so exchanges interleave', () => {
    const { sim, rec } = world(100, { latency: { kind: 'uniform', minMs: 20, maxMs: 200 } });
    runCycles(engineFor('event', sim, rec), 3);
    assert.ok(rec.latencies.length > 300);
    assert.ok(rec.latencies.every((l) => l >= 20 && l <= 200), `latency out of range: ${Math.min(...rec.latencies)}..${Math.max(...rec.latencies)}`);
    // Not atomic: some initiate is followed by a step of another exchange before its own handle.
    const interleaved = rec.log.some((l, i) => l.startsWith('i') && rec.log[i + 1] !== `h${l.slice(1).split(':')[0]}`);
    assert.ok(interleaved);
  });

  it('replies slower than the timeout count as failures and are then ignored', () => {
    const { sim, rec } = world(40, { latency: { kind: 'constant', ms: 300 } });
    const engine = engineFor('event', sim, rec, { periodMs: 1000, timeoutMs: 500 }) as EventDrivenEngine;
    runCycles(engine, 4);
    // Request at +300 ms, reply back at +600 ms, after the 500 ms timeout.
    assert.equal(rec.completed, 0);
    assert.ok(rec.handled > 0 && rec.failed > 0);
    assert.equal(engine.stats.timeouts, rec.failed);
  });

  it('a timeout only fires for exchanges that did not complete', () => {
    const { sim, rec } = world(40, { latency: { kind: 'constant', ms: 100 } });
    const engine = engineFor('event', sim, rec, { periodMs: 1000, timeoutMs: 500 }) as EventDrivenEngine;
    runCycles(engine, 4);
    assert.equal(rec.failed, 0);
    assert.equal(engine.stats.timeouts, 0);
    assert.ok(rec.completed >= 120);
  });

  it('counts requests, replies and lost messages', () => {
    const { sim, rec } = world(500, { requestLoss: 0.2, responseLoss: 0.2, latency: { kind: 'constant', ms: 10 } });
    const engine = engineFor('event', sim, rec) as EventDrivenEngine;
    runCycles(engine, 4);
    assert.equal(engine.stats.requests, rec.initiates.reduce((a, b) => a + b, 0));
    assert.equal(engine.stats.responses, rec.handled);
    const expectedLost = 0.2 * engine.stats.requests + 0.2 * engine.stats.responses;
    assert.ok(Math.abs(engine.stats.lost - expectedLost) < 0.1 * expectedLost);
  });

  it('an initiator that dies while its request is in flight neither completes nor fails', () => {
    // Latency above the period so that the exchange outlives the cycle in which it started.
    const { sim, rec } = world(2, { latency: { kind: 'constant', ms: 1500 } });
    const engine = engineFor('event', sim, rec, { periodMs: 1000, timeoutMs: 5000 }) as EventDrivenEngine;
    engine.runCycle();
    const mine = rec.log.find((l) => l.startsWith('i') && l.includes(':0>'))!;
    const id = mine.slice(1).split(':')[0];
    sim.kill(0);
    for (let c = 0; c < 7; c++) engine.runCycle();
    assert.ok(rec.log.includes(`h${id}`), 'the live peer still handled the request');
    assert.ok(!rec.log.includes(`c${id}`) && !rec.log.includes(`f${id}`), 'the dead initiator got no callback');
    assert.equal(rec.initiates[0], 1, 'a dead node stops ticking');
    assert.equal(rec.handledByDead, 0);
    // Node 1's request of cycle 0 reaches node 0 after its death and times out (afterwards node 1,
    // alone, has nobody to contact).
    assert.equal(rec.failed, 1);
    assert.equal(rec.completed, 0);
  });

  it('rejects a non-positive period or timeout', () => {
    const { sim } = world(2);
    assert.throws(() => new EventDrivenEngine(sim, { periodMs: 0 }), /periodMs/);
    assert.throws(() => new EventDrivenEngine(sim, { timeoutMs: -1 }), /timeoutMs/);
  });
});

describe('EventQueue', () => {
  it('pops in time order, ties in insertion order', () => {
    const q = new EventQueue<string>();
    assert.equal(q.peekTime(), Infinity);
    assert.equal(q.pop(), undefined);
    q.push(5, 'a');
    q.push(1, 'b');
    q.push(5, 'c');
    q.push(3, 'd');
    q.push(1, 'e');
    q.push(5, 'f');
    assert.equal(q.size, 6);
    assert.equal(q.peekTime(), 1);
    const out: string[] = [];
    while (q.size > 0) out.push(q.pop()!);
    assert.deepEqual(out, ['b', 'e', 'd', 'a', 'c', 'f']);
  });

  it('agrees with a stable sort on many random pushes interleaved with pops', () => {
    const q = new EventQueue<number>();
    const ref: { t: number; seq: number }[] = [];
    let seq = 0;
    let state = 12345;
    const rand = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const popped: number[] = [];
    const expected: number[] = [];
    for (let step = 0; step < 5000; step++) {
      if (rand() < 0.6 || ref.length === 0) {
        const t = Math.floor(rand() * 50);
        q.push(t, seq);
        ref.push({ t, seq });
        seq++;
      } else {
        ref.sort((a, b) => a.t - b.t || a.seq - b.seq);
        expected.push(ref.shift()!.seq);
        popped.push(q.pop()!);
      }
    }
    assert.deepEqual(popped, expected);
  });
});
