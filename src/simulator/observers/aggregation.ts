/**
 * Observers of gossip-based aggregation (Jelasity, Montresor, Babaoglu, ACM TOCS 23(3), 2005): the
 * per-cycle quantities the paper plots. Both read the *current* in-epoch values, so convergence can
 * be followed cycle by cycle; only live nodes that take part in their epoch are measured (newcomers
 * waiting for the next epoch hold no values).
 *
 * One or two passes over the live nodes, no allocation per node, nothing drawn from the simulation's
 * random stream: observing never changes a run.
 */
import type { Aggregation } from '../../protocols/aggregation/aggregation.js';
import type { Observer, Simulation } from '../simulation.js';

/**
 * AVERAGE of one attribute. Metrics: `variance` (population variance of the values across
 * participants), `factor` (variance / previous cycle's variance; absent at the first observation or
 * after a zero variance), `estimateMin`, `estimateMax`, `estimateMean` (of the values, i.e. of the
 * nodes' current AVERAGE estimates), `participants`, `liveNodes`.
 */
export class AverageObserver implements Observer {
  readonly name = 'aggregation-average';
  private previousVariance = Number.NaN;

  constructor(
    private readonly protocol: Aggregation,
    private readonly attribute: string,
  ) {
    protocol.meanValues(attribute); // fails early if the attribute is not averaged
  }

  observe(sim: Simulation): Record<string, number> {
    const values = this.protocol.meanValues(this.attribute);
    const live = sim.population.live();
    const agg = this.protocol;
    let n = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < live.length; i++) {
      const h = live[i];
      if (!agg.isParticipating(h)) continue;
      const v = values[h];
      n++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (n === 0) {
      this.previousVariance = Number.NaN;
      return { participants: 0, liveNodes: live.length };
    }
    const mean = sum / n;
    // Two passes: the variance falls to ~1e-30 of the mean², far below what E[x²] − E[x]² resolves.
    let squares = 0;
    for (let i = 0; i < live.length; i++) {
      const h = live[i];
      if (!agg.isParticipating(h)) continue;
      const d = values[h] - mean;
      squares += d * d;
    }
    const variance = squares / n;
    // Key order: the CLI shows the first metrics of a row, so the headline ones come first.
    const row: Record<string, number> = { variance };
    if (this.previousVariance > 0) row.factor = variance / this.previousVariance;
    this.previousVariance = variance;
    row.estimateMin = min;
    row.estimateMax = max;
    row.estimateMean = mean;
    row.participants = n;
    row.liveNodes = live.length;
    return row;
  }
}

/**
 * COUNT. The averaged quantity is a node's pooled instance mass Σ v_i (which converges to k/N), its
 * estimate N̂ = k / Σ v_i. Metrics: `variance` and `factor` of the mass; `estimateMin`,
 * `estimateMax`, `estimateMean` and the same range as `countMin`, `countMax`, over the participants
 * that have an estimate; `countUnknown` participants without one yet (no mass received);
 * `relativeErrorMax` = max |N̂ − N| / N with N the live nodes (Infinity — null in JSON — while some
 * participant has no estimate); `instancesMax` most COUNT instances known by a node;
 * `publishedMin`, `publishedMax` range of the sizes published at the end of the last epoch (absent
 * until some live node has published one); `participants`, `liveNodes`.
 */
export class CountObserver implements Observer {
  readonly name = 'aggregation-count';
  private previousVariance = Number.NaN;

  constructor(private readonly protocol: Aggregation) {
    if (!protocol.instances) throw new RangeError('CountObserver needs an Aggregation with COUNT enabled');
  }

  observe(sim: Simulation): Record<string, number> {
    const agg = this.protocol;
    const table = agg.instances!;
    const k = table.k;
    const sizes = table.sizes;
    const masses = table.values;
    const live = sim.population.live();
    const trueSize = live.length;
    let n = 0;
    let massSum = 0;
    let known = 0;
    let estimateSum = 0;
    let minEstimate = Infinity;
    let maxEstimate = -Infinity;
    let unknown = 0;
    let instancesMax = 0;
    let publishedMin = Infinity;
    let publishedMax = -Infinity;
    for (let i = 0; i < live.length; i++) {
      const h = live[i];
      const published = agg.publishedCount(h);
      if (published < publishedMin) publishedMin = published;
      if (published > publishedMax) publishedMax = published;
      if (!agg.isParticipating(h)) continue;
      n++;
      const size = sizes[h];
      if (size > instancesMax) instancesMax = size;
      let mass = 0;
      for (let j = h * k, end = h * k + size; j < end; j++) mass += masses[j];
      massSum += mass;
      if (!(mass > 0)) {
        unknown++;
        continue;
      }
      const estimate = size / mass;
      known++;
      estimateSum += estimate;
      if (estimate < minEstimate) minEstimate = estimate;
      if (estimate > maxEstimate) maxEstimate = estimate;
    }
    // Key order: the CLI shows the first metrics of a row, so the headline ones come first.
    const row: Record<string, number> = {};
    if (known > 0) {
      row.countMin = minEstimate;
      row.countMax = maxEstimate;
    }
    if (n > 0) {
      row.relativeErrorMax = unknown > 0 ? Infinity : Math.max(Math.abs(maxEstimate - trueSize), Math.abs(minEstimate - trueSize)) / trueSize;
    }
    if (known > 0) {
      row.estimateMean = estimateSum / known;
      row.estimateMin = minEstimate;
      row.estimateMax = maxEstimate;
    }
    row.participants = n;
    row.liveNodes = trueSize;
    row.countUnknown = unknown;
    if (n > 0) {
      const meanMass = massSum / n;
      let squares = 0;
      for (let i = 0; i < live.length; i++) {
        const h = live[i];
        if (!agg.isParticipating(h)) continue;
        let mass = 0;
        for (let j = h * k, end = h * k + sizes[h]; j < end; j++) mass += masses[j];
        const d = mass - meanMass;
        squares += d * d;
      }
      const variance = squares / n;
      row.variance = variance;
      if (this.previousVariance > 0) row.factor = variance / this.previousVariance;
      this.previousVariance = variance;
    } else {
      this.previousVariance = Number.NaN;
    }
    row.instancesMax = instancesMax;
    if (publishedMax >= publishedMin) {
      row.publishedMin = publishedMin;
      row.publishedMax = publishedMax;
    }
    return row;
  }
}
