/**
 * The protocols one daemon runs, configured from the node configuration: peer sampling (its view
 * holds only the local node, handle 0), aggregation (COUNT for the network size, plus averages
 * and sums of the node's free resources and the number of slices in the cloud), as the simulator's
 * `count` experiment sets them up, and
 * slicing by rank estimation over the node's CPU capacity (which slice of the network it is in).
 */
import type { Random } from '../../core/random.js';
import { Aggregation } from '../../protocols/aggregation/aggregation.js';
import { type AggregationConfig, countConfig } from '../../protocols/aggregation/config.js';
import { presetConfig } from '../../protocols/peer-sampling/config.js';
import { PeerSampling } from '../../protocols/peer-sampling/peer-sampling.js';
import { ViewTable } from '../../protocols/peer-sampling/view-table.js';
import { RankEstimation } from '../../protocols/slicing/rank-estimation.js';
import type { TManConfig } from '../../protocols/tman/config.js';
import { type ProfileDirectory, TMan } from '../../protocols/tman/tman.js';
import type { PeerSamplingProtocol } from '../config.js';
import { LOCAL_HANDLE } from '../peer-directory.js';

/** The node values aggregated over the network. */
export interface AggregatedInputs {
  readonly freeCores: number;
  readonly memoryFreeBytes: number;
  readonly diskFreeBytes: number;
  readonly loadAverage: number;
  /** Slices this node coordinates (their owner, src/slices/owner.ts); summed, the slices of the cloud. Default 0. */
  readonly ownedSlices?: number;
}

export interface GossipProtocolSettings {
  readonly peerSampling: { readonly protocol: PeerSamplingProtocol; readonly viewSize: number; readonly shuffleLength: number };
  readonly epochLength: number;
}

export const AGGREGATED = Object.freeze({ cores: 'freeCores', memory: 'memoryFreeBytes', disk: 'diskFreeBytes', load: 'loadAverage', slices: 'ownedSlices' });

export interface GossipProtocols {
  readonly sampling: PeerSampling;
  readonly aggregation: Aggregation;
  readonly ranking: RankEstimation;
  /** One ring per slice: only run while this node is in a slice (its group in the directory). */
  readonly tman: TMan;
}

/**
 * T-Man in the daemon: slices are tens to thousands of nodes, seeded with the member list by the
 * slice's owner, so a smaller view than the simulator's default is enough; ages and the failure
 * memory make a ring repair itself within a few cycles after members die.
 */
export const DAEMON_TMAN: Partial<TManConfig> = Object.freeze({ viewSize: 20, messageSize: 10, psi: 2, randomSample: 10, failureMemory: 16, maxAge: 20, sampleAge: 10 });

/**
 * Rank estimation in the daemon: samples come only from its own exchanges (a value each way),
 * since descriptors do not carry attribute values yet; the window keeps the last 256, so the
 * estimate follows churn within a few minutes at 1 s cycles.
 */
export const DAEMON_RANKING = Object.freeze({ window: 256, samplesPerCycle: 0 });

export function aggregationConfig(epochLength: number, inputs: () => AggregatedInputs): AggregationConfig {
  return {
    epochLength,
    attributes: [
      { name: AGGREGATED.cores, input: () => inputs().freeCores, aggregates: ['average', 'sum'] },
      { name: AGGREGATED.memory, input: () => inputs().memoryFreeBytes, aggregates: ['average', 'sum'] },
      { name: AGGREGATED.disk, input: () => inputs().diskFreeBytes, aggregates: ['average', 'sum'] },
      { name: AGGREGATED.load, input: () => inputs().loadAverage, aggregates: ['average'] },
      // Every slice has exactly one owner, so the sum over nodes is the number of slices.
      { name: AGGREGATED.slices, input: () => inputs().ownedSlices ?? 0, aggregates: ['sum'] },
    ],
    // One leader per epoch on average; a node that knows no size yet volunteers (initial estimate
    // 1): harmless, only the K smallest keys survive.
    count: countConfig({ leaders: 1 }),
  };
}

/** `capacity`: the value nodes are ranked by (CPU capacity: cores × CPU score). */
export function createGossipProtocols(
  settings: GossipProtocolSettings,
  inputs: () => AggregatedInputs,
  random: Random,
  profiles: ProfileDirectory,
  capacity: () => number = () => 1,
): GossipProtocols {
  const ps = settings.peerSampling;
  const samplingConfig = presetConfig(ps.protocol, ps.viewSize, ps.shuffleLength);
  const sampling = new PeerSampling(samplingConfig, random, new ViewTable(samplingConfig.viewSize, 1));
  sampling.ensureCapacity(1);
  sampling.resetNode(LOCAL_HANDLE);
  const aggregation = new Aggregation(aggregationConfig(settings.epochLength, inputs), sampling, random);
  aggregation.ensureCapacity(1);
  aggregation.resetNode(LOCAL_HANDLE);
  // Only the local node's value is ever read (samplesPerCycle 0); peers' values arrive in messages.
  const ranking = new RankEstimation(sampling, (h) => (h === LOCAL_HANDLE ? finiteOr(capacity(), 0) : 0), random, DAEMON_RANKING);
  ranking.ensureCapacity(1);
  ranking.resetNode(LOCAL_HANDLE);
  const tman = new TMan(sampling, profiles, random, DAEMON_TMAN);
  tman.ensureCapacity(1);
  tman.resetNode(LOCAL_HANDLE);
  return { sampling, aggregation, ranking, tman };
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}
