/**
 * Messages between the graph (main thread) and its layout worker. Positions travel as
 * transferable Float32Arrays (no copy), links as Uint32Array index pairs.
 */

/** Main thread → worker: a new graph to lay out (replaces the previous one). */
export interface GraphMessage {
  readonly type: 'graph';
  /** Increases with every graph sent; positions name the version they belong to. */
  readonly version: number;
  readonly ids: readonly string[];
  readonly view: Uint32Array;
  /** Ring links (member → successor) and the slice of each. */
  readonly ring: Uint32Array;
  readonly ringSlice: Uint32Array;
}

export type ToWorker = GraphMessage;

/** Worker → main thread: positions for a graph version ([x0, y0, x1, y1, ...] by node index). */
export interface PositionsMessage {
  readonly type: 'positions';
  readonly version: number;
  readonly xy: Float32Array;
  readonly alpha: number;
  /** The layout has cooled down and stopped (until the next graph). */
  readonly settled: boolean;
  /** Ticks run since the last message and their total time (ms), for benchmarks. */
  readonly ticks: number;
  readonly tickMs: number;
  /** Only in the first message of a version: view link indices in drawing order. */
  readonly drawOrder?: Uint32Array;
  readonly layoutLinks?: number;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly message: string;
}

export type FromWorker = PositionsMessage | ErrorMessage;
