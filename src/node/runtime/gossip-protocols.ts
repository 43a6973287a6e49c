/**
 * The protocols one daemon runs, configured from the node configuration: peer sampling (its view
 * holds only the local node, handle 0) and aggregation (COUNT for the network size, plus averages
 * and sums of the node's free resources), as the simulator's `count` experiment sets them up.
 */
import type { Random } from '../../core/random.js';
import { Aggregation } from '../../protocols/aggregation/aggregation.js';
import { type AggregationConfig, countConfig } from '../../protocols/aggregation/config.js';
import { presetConfig } from '../../protocols/peer-sampling/config.js';
import { PeerSampling } from '../../protocols/peer-sampling/peer-sampling.js';
import { ViewTable } from '../../protocols/peer-sampling/view-table.js';
import type { PeerSamplingProtocol } from '../config.js';
import { LOCAL_HANDLE } from '../peer-directory.js';

/** The node values aggregated over the network. */
export interface AggregatedInputs {
  readonly freeCores: number;
  readonly memoryFreeBytes: number;
  readonly diskFreeBytes: number;
  readonly loadAverage: number;
}

export interface GossipProtocolSettings {
  readonly peerSampling: { readonly protocol: PeerSamplingProtocol; readonly viewSize: number; readonly shuffleLength: number };
  readonly epochLength: number;
}

export const AGGREGATED = Object.freeze({ cores: 'freeCores', memory: 'memoryFreeBytes', disk: 'diskFreeBytes', load: 'loadAverage' });

export interface GossipProtocols {
  readonly sampling: PeerSampling;
  readonly aggregation: Aggregation;
}

export function aggregationConfig(epochLength: number, inputs: () => AggregatedInputs): AggregationConfig {
  return {
    epochLength,
    attributes: [
      { name: AGGREGATED.cores, input: () => inputs().freeCores, aggregates: ['average', 'sum'] },
      { name: AGGREGATED.memory, input: () => inputs().memoryFreeBytes, aggregates: ['average', 'sum'] },
      { name: AGGREGATED.disk, input: () => inputs().diskFreeBytes, aggregates: ['average', 'sum'] },
      { name: AGGREGATED.load, input: () => inputs().loadAverage, aggregates: ['average'] },
    ],
    // One leader per epoch on average; a node that knows no size yet volunteers (initial estimate
    // 1): harmless, only the K smallest keys survive.
    count: countConfig({ leaders: 1 }),
  };
}

export function createGossipProtocols(settings: GossipProtocolSettings, inputs: () => AggregatedInputs, random: Random): GossipProtocols {
  const ps = settings.peerSampling;
  const samplingConfig = presetConfig(ps.protocol, ps.viewSize, ps.shuffleLength);
  const sampling = new PeerSampling(samplingConfig, random, new ViewTable(samplingConfig.viewSize, 1));
  sampling.ensureCapacity(1);
  sampling.resetNode(LOCAL_HANDLE);
  const aggregation = new Aggregation(aggregationConfig(settings.epochLength, inputs), sampling, random);
  aggregation.ensureCapacity(1);
  aggregation.resetNode(LOCAL_HANDLE);
  return { sampling, aggregation };
}
