/**
 * Virtual time for code written against real time: a clock, timers and a run loop that executes
 * timed callbacks in (time, insertion) order on the simulator's EventQueue.
 *
 * Daemon code is async: a request handler may return a promise, a caller awaits a response. So
 * after every event the loop lets the JavaScript microtask queue (and process.nextTick, which Node
 * streams use) drain completely before taking the next event, by waiting for one `setImmediate`:
 * Node runs immediates only once both queues are empty. Everything an event sets off that does not
 * wait for virtual time therefore happens "at" that event's time, before anything later, and the
 * order of everything is a function of the event order alone. The one `setImmediate` is a yield,
 * not a timer of the simulation: simulated code must not do real I/O (files, sockets, async
 * crypto) or use real timers, whose completion order the loop cannot control.
 */
import type { Clock } from '../../core/clock.js';
import type { Cancel, Timers } from '../../node/attributes-system.js';
import { EventQueue } from '../engine/event-queue.js';

/** Something whose callbacks stop when it dies: a simulated process. */
export interface TimerOwner {
  readonly alive: boolean;
}

interface ScheduledEvent {
  readonly run: () => void;
  readonly owner: TimerOwner | undefined;
  cancelled: boolean;
}

/** The run loop found no event to run while the awaited promise was still pending. */
export class SimulationStalledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulationStalledError';
  }
}

const yieldToMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class VirtualScheduler {
  readonly clock: Clock;
  private time: number;
  private readonly queue = new EventQueue<ScheduledEvent>();
  private running = false;
  /** Events run so far (cancelled ones excluded): a cheap fingerprint of a run. */
  eventsRun = 0;

  constructor(startTime: number) {
    if (!Number.isFinite(startTime)) throw new RangeError(`startTime must be a finite number of ms, got ${startTime}`);
    this.time = startTime;
    this.clock = { now: () => this.time };
  }

  now(): number {
    return this.time;
  }

  /** Events waiting, cancelled ones included until their time comes. */
  get pending(): number {
    return this.queue.size;
  }

  /**
   * Runs `run` `delayMs` from now (negative delays count as 0), unless cancelled or `owner` has
   * died by then. A throw from `run` propagates out of the run loop: it is a bug in simulated code.
   */
  schedule(delayMs: number, run: () => void, owner?: TimerOwner): Cancel {
    if (Number.isNaN(delayMs) || delayMs === Infinity) throw new RangeError(`delay must be a finite number of ms, got ${delayMs}`);
    const event: ScheduledEvent = { run, owner, cancelled: false };
    this.queue.push(this.time + Math.max(0, delayMs), event);
    return () => {
      event.cancelled = true;
    };
  }

  /** Timers (the daemon's `Timers`) on virtual time; with an owner they fall silent when it dies. */
  timers(owner?: TimerOwner): Timers {
    return { schedule: (callback, delayMs) => this.schedule(delayMs, callback, owner) };
  }

  /** Runs every event due at or before `time`, in order, then sets the clock to `time`. */
  async runUntil(time: number): Promise<void> {
    if (!(time >= this.time)) throw new RangeError(`runUntil(${time}): virtual time is already ${this.time}`);
    await this.loop(() => this.queue.peekTime() <= time);
    this.time = time;
  }

  runFor(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`runFor: ms must be a non-negative number, got ${ms}`);
    return this.runUntil(this.time + ms);
  }

  /**
   * Runs events until `promise` settles and returns its outcome. Rejects with a
   * SimulationStalledError if no event is left, or none before `limitMs` of virtual time, while it
   * is still pending (it waits for something that will never happen).
   */
  async settle<T>(promise: Promise<T>, limitMs = Infinity): Promise<T> {
    let settled = false;
    // Observe the outcome without creating an unhandled rejection on a second chain.
    const watched = promise.then(
      (value) => {
        settled = true;
        return value;
      },
      (err: unknown) => {
        settled = true;
        throw err;
      },
    );
    watched.catch(() => undefined);
    const deadline = this.time + limitMs;
    await this.loop(() => !settled && this.queue.peekTime() <= deadline);
    if (!settled) {
      const why = this.queue.size === 0 ? 'no events are left' : `nothing settled it within ${limitMs} ms of virtual time`;
      throw new SimulationStalledError(`the awaited promise is still pending at virtual time ${this.time}: ${why}`);
    }
    return watched;
  }

  private async loop(more: () => boolean): Promise<void> {
    if (this.running) throw new Error('the virtual scheduler is already running (runUntil/runFor/settle are not reentrant)');
    this.running = true;
    try {
      // Let whatever the caller just started (requests, hellos) reach its first await.
      await yieldToMicrotasks();
      while (this.queue.size > 0 && more()) {
        const at = this.queue.peekTime();
        const event = this.queue.pop()!;
        if (event.cancelled || (event.owner !== undefined && !event.owner.alive)) continue;
        this.time = Math.max(this.time, at);
        this.eventsRun++;
        event.run();
        await yieldToMicrotasks();
      }
    } finally {
      this.running = false;
    }
  }
}
