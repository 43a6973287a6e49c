/**
 * Configuration of gossip-based aggregation (Jelasity, Montresor, Babaoglu, "Gossip-based
 * aggregation in large dynamic networks", ACM TOCS 23(3), 2005): which node attributes are
 * aggregated and how, the epoch length γ (§4.1, restarting) and the COUNT instances (§4.2–4.3).
 */
import type { PeerHandle } from '../../core/handles.js';

/**
 * What can be computed from one attribute. AVERAGE, MIN and MAX are gossiped directly; VARIANCE is
 * derived from the averages of x and x² (§3, "derived functions"); SUM is AVERAGE × COUNT, so it
 * needs COUNT enabled.
 */
export type AggregateKind = 'average' | 'sum' | 'min' | 'max' | 'variance';

export const aggregateKinds: readonly AggregateKind[] = ['average', 'sum', 'min', 'max', 'variance'];

/** One local quantity (free cores, memory, load...) and the aggregates wanted of it. */
export interface AttributeConfig {
  /** Unique name, used to read the estimates back. */
  readonly name: string;
  /**
   * The node's current value. Read once per epoch, when the node starts taking part in it: an
   * epoch aggregates a snapshot, and a changing input shows up in the next epoch.
   */
  readonly input: (self: PeerHandle) => number;
  readonly aggregates: readonly AggregateKind[];
}

/** COUNT (network size) by averaging: leaders start at 1, everyone else at 0, so N ≈ 1/value. */
export interface CountConfig {
  /**
   * C: expected number of concurrent COUNT instances. At each epoch start every node elects itself
   * leader of a new instance with probability C/N̂, N̂ being its previous estimate (§4.3).
   */
  readonly leaders: number;
  /**
   * K: how many instances a node tracks: the K with the smallest (random) keys. Every node applies
   * the same rule, so all nodes converge to the same K instances and those never lose mass; extra
   * instances are dropped everywhere, which bounds message size when too many nodes volunteer.
   */
  readonly maxInstances: number;
  /**
   * N̂ used for the election when a node has no estimate at all (neither its own nor one heard from
   * a peer). The default 1 makes every such node volunteer: harmless, as only K instances survive.
   */
  readonly initialEstimate: number;
}

export interface AggregationConfig {
  /** γ: cycles (the node's own active steps) per epoch. The paper uses 20..30. */
  readonly epochLength: number;
  readonly attributes: readonly AttributeConfig[];
  /** null: no COUNT (and therefore no SUM). */
  readonly count: CountConfig | null;
}

export const defaultEpochLength = 30;

/** A COUNT configuration with defaults: C = 1, K = max(4, 2C), initial estimate 1. */
export function countConfig(partial: Partial<CountConfig> = {}): CountConfig {
  const leaders = partial.leaders ?? 1;
  return {
    leaders,
    maxInstances: partial.maxInstances ?? Math.max(4, Math.ceil(2 * leaders)),
    initialEstimate: partial.initialEstimate ?? 1,
  };
}

/** Largest K: instance counts are stored in a byte per node. */
export const MAX_INSTANCES = 255;

/** Throws a RangeError naming the first impossible parameter. */
export function validateAggregationConfig(config: AggregationConfig): void {
  const g = config.epochLength;
  if (!Number.isInteger(g) || g < 1 || g > 1_000_000) throw new RangeError(`epochLength (γ) must be an integer in 1..10^6, got ${g}`);
  const names = new Set<string>();
  for (const a of config.attributes) {
    if (typeof a.name !== 'string' || a.name === '') throw new RangeError('every aggregated attribute needs a non-empty name');
    if (names.has(a.name)) throw new RangeError(`attribute name "${a.name}" is used twice`);
    names.add(a.name);
    if (typeof a.input !== 'function') throw new RangeError(`attribute "${a.name}" has no input function`);
    if (a.aggregates.length === 0) throw new RangeError(`attribute "${a.name}" asks for no aggregate`);
    for (const k of a.aggregates) {
      if (!aggregateKinds.includes(k)) throw new RangeError(`attribute "${a.name}": unknown aggregate "${k}" (expected one of ${aggregateKinds.join(', ')})`);
      if (k === 'sum' && !config.count) throw new RangeError(`attribute "${a.name}": sum needs COUNT enabled (SUM = AVERAGE × COUNT)`);
    }
  }
  const c = config.count;
  if (c) {
    if (!(Number.isFinite(c.leaders) && c.leaders > 0)) throw new RangeError(`count leaders (C) must be a positive number, got ${c.leaders}`);
    if (!Number.isInteger(c.maxInstances) || c.maxInstances < 1 || c.maxInstances > MAX_INSTANCES) {
      throw new RangeError(`count maxInstances (K) must be an integer in 1..${MAX_INSTANCES}, got ${c.maxInstances}`);
    }
    if (!(Number.isFinite(c.initialEstimate) && c.initialEstimate >= 1)) {
      throw new RangeError(`count initialEstimate must be a number >= 1, got ${c.initialEstimate}`);
    }
  }
  if (config.attributes.length === 0 && !c) throw new RangeError('aggregation needs at least one attribute or COUNT');
}
