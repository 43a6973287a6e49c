/**
 * How far an allocation's call goes, and how many spare offers the owner keeps. Pure arithmetic,
 * shared by the owner (owner.ts) and the simulator's model of it (simulator/experiments/slices-model.ts).
 *
 * Reach. Flooding the whole cloud costs about (fanout + 1)·N messages per allocation whatever its
 * size, and every matching node reserves itself for a moment. An unranked count request only needs
 * a few times `want / match ratio` nodes to hear it, so it goes out in *waves*: a call carries a
 * budget of nodes to reach, which each node splits among a few random peers (a random tree over
 * the overlay, about one message per node reached); a wave that brings too few offers is followed
 * by a larger one, until enough offers are in or the next wave would ask most of the cloud, which
 * is then flooded (the old rumor, budget-free). Ranked and fraction requests flood at once: their
 * nodes select themselves (rank estimate) or the owner needs the number of all matching nodes.
 *
 * Spares. Collection does not stop at exactly `want` offers: a candidate that dies or refuses
 * between its offer and its confirmation is then replaced by a spare instead of failing the
 * create. Spares not needed are cancelled as soon as every confirmation is settled.
 */

/** Offers kept beyond the count: max(1, ⌈SPARE_SHARE·want⌉). */
export const SPARE_SHARE = 0.1;
/** A wave reaches this many times the nodes needed at the estimated match ratio. */
export const REACH_FACTOR = 2;
/** A wave that would reach this share of the estimated network size floods it instead. */
export const FLOOD_SHARE = 0.5;

/** Spare offers to keep for a request of `want` nodes. */
export function sparesFor(want: number): number {
  return want <= 0 ? 0 : Math.max(1, Math.ceil(SPARE_SHARE * want));
}

/**
 * Nodes the first wave of a request for `needed` offers (spares included) should reach, given the
 * estimated share of nodes that match (1 when unknown); null: flood the whole cloud.
 */
export function firstReach(needed: number, matchRatio: number, networkSize: number): number | null {
  const ratio = Number.isFinite(matchRatio) && matchRatio > 0 ? Math.min(1, matchRatio) : 1;
  return floodOr(Math.ceil((REACH_FACTOR * needed) / ratio), networkSize);
}

/**
 * The next wave, after waves that reached `reached` nodes in all and brought `matched` matching
 * nodes (available or busy), `missing` offers short: at least double the reach, and enough for
 * the match ratio seen so far (with no match yet, as if one had been seen); null: flood.
 */
export function nextReach(reached: number, matched: number, missing: number, networkSize: number): number | null {
  const ratio = Math.max(1, matched) / Math.max(1, reached);
  return floodOr(Math.max(2 * reached, Math.ceil((REACH_FACTOR * missing) / ratio)), networkSize);
}

function floodOr(budget: number, networkSize: number): number | null {
  // Without a size estimate there is no telling when the whole cloud was asked: flood.
  if (!Number.isFinite(networkSize) || networkSize <= 0) return null;
  return budget >= FLOOD_SHARE * networkSize ? null : Math.max(1, budget);
}

/** Splits a budget of `budget` nodes among `peers` peers as evenly as possible (shares > 0 only). */
export function splitBudget(budget: number, peers: number): number[] {
  const k = Math.min(peers, budget);
  if (k <= 0) return [];
  const base = Math.floor(budget / k);
  const extra = budget % k;
  return Array.from({ length: k }, (_, i) => base + (i < extra ? 1 : 0));
}
