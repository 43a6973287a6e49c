/**
 * A jittered periodic timer: runs `tick` after waits drawn uniformly from
 * period × [1 − jitter, 1 + jitter], so that nodes started together do not gossip in lock step.
 * Timers and randomness are injected so tests can drive cycles by hand.
 */
import type { Random } from '../../core/random.js';
import type { Cancel, Timers } from '../attributes-system.js';

export class CycleTimer {
  private cancel: Cancel | undefined;
  private running = false;

  constructor(
    private readonly periodMs: number,
    private readonly jitter: number,
    private readonly timers: Timers,
    private readonly random: Random,
    private readonly tick: () => void,
  ) {
    if (!(periodMs > 0)) throw new RangeError(`cycle period must be positive, got ${periodMs}`);
    if (!(jitter >= 0 && jitter <= 0.5)) throw new RangeError(`cycle jitter must be in [0, 0.5], got ${jitter}`);
  }

  /** The next wait, in ms. */
  nextDelay(): number {
    return this.periodMs * (1 - this.jitter + 2 * this.jitter * this.random.next());
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.cancel?.();
    this.cancel = undefined;
  }

  private schedule(): void {
    this.cancel = this.timers.schedule(() => {
      if (!this.running) return;
      // Schedule first: a tick that throws must not stop the cycles.
      this.schedule();
      this.tick();
    }, this.nextDelay());
  }
}
