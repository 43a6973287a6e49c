import type { Random } from '../core/random.js';

/**
 * What the simulated network does to a message: how long it takes and whether it arrives. Loss is
 * given separately for requests and responses so that the asymmetric case (replies lost, which
 * breaks mass conservation in averaging) can be reproduced as well as the symmetric one.
 */
export interface NetworkModel {
  /** Probability that a request is lost. */
  requestLoss: number;
  /** Probability that a response is lost. */
  responseLoss: number;
  /** One-way latency in ms (event-driven mode only). Jitter reorders messages. */
  latency: LatencyDistribution;
}

export type LatencyDistribution =
  | { kind: 'constant'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  | { kind: 'exponential'; meanMs: number; minMs?: number };

export const perfectNetwork: NetworkModel = {
  requestLoss: 0,
  responseLoss: 0,
  latency: { kind: 'constant', ms: 0 },
};

export function sampleLatency(dist: LatencyDistribution, rng: Random): number {
  switch (dist.kind) {
    case 'constant':
      return dist.ms;
    case 'uniform':
      return dist.minMs + rng.next() * (dist.maxMs - dist.minMs);
    case 'exponential':
      return (dist.minMs ?? 0) - dist.meanMs * Math.log(1 - rng.next());
  }
}

/** Parses "50", "10-100" (uniform) or "exp:50" (exponential with that mean) into a distribution. */
export function parseLatency(text: string): LatencyDistribution {
  const t = text.trim();
  let m = /^exp:(\d+(?:\.\d+)?)$/.exec(t);
  if (m) return { kind: 'exponential', meanMs: Number(m[1]) };
  m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(t);
  if (m) {
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    if (hi < lo) throw new RangeError(`latency range "${text}" has its maximum below its minimum`);
    return { kind: 'uniform', minMs: lo, maxMs: hi };
  }
  m = /^(\d+(?:\.\d+)?)$/.exec(t);
  if (m) return { kind: 'constant', ms: Number(m[1]) };
  throw new RangeError(`latency "${text}" is not a number of ms, a range like 10-100, or exp:MEAN`);
}

export function validateNetwork(net: NetworkModel): void {
  for (const [name, p] of [['requestLoss', net.requestLoss], ['responseLoss', net.responseLoss]] as const) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be a probability in [0, 1], got ${p}`);
  }
}
