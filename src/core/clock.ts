/**
 * Time as an injected dependency. The simulator supplies a virtual clock advanced by its event
 * queue; the daemon supplies the process clock. Values are milliseconds.
 */
export interface Clock {
  now(): number;
}

/** A clock the owner advances explicitly (simulator, tests). */
export class ManualClock implements Clock {
  constructor(private time = 0) {}
  now(): number {
    return this.time;
  }
  set(time: number): void {
    this.time = time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}
