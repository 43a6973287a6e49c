/**
 * Bounds on what a peer may send. Every array in a message is bounded by the protocol parameter it
 * stands for (a Newscast buffer holds at most c/2 descriptors, a T-Man buffer m, ...), so the codec
 * is configured from the same protocol configurations the daemon runs with; the defaults are the
 * largest values those configurations accept.
 */
import type { AggregationConfig } from '../../protocols/aggregation/config.js';
import type { PeerSamplingConfig } from '../../protocols/peer-sampling/config.js';
import type { OrderedSlicingConfig } from '../../protocols/slicing/ordered-slicing.js';
import type { TManConfig } from '../../protocols/tman/config.js';
import { type AddressPolicy, defaultAddressPolicy } from './address.js';

export interface CodecLimits {
  /** A whole encoded message (envelope included). Checked before anything is decoded. */
  readonly maxMessageBytes: number;
  /** One encoded signed descriptor. */
  readonly maxDescriptorBytes: number;
  /** Addresses per descriptor, 1..4. */
  readonly maxAddresses: number;
  readonly addressPolicy: AddressPolicy;
  /** Descriptors in a peer sampling buffer: the exchange length (c/2 for Newscast, l for Cyclon). */
  readonly samplingDescriptors: number;
  /** Descriptors in a T-Man buffer: the message size m. */
  readonly tmanDescriptors: number;
  /** Descriptors piggybacked on a slicing message (mod-JK's gossip). */
  readonly slicingGossip: number;
  /** Scalar slots of an aggregation message. */
  readonly aggregationValues: number;
  /** COUNT instances of an aggregation message (K). */
  readonly aggregationInstances: number;
  /** Largest step counter of an aggregation message (the epoch length γ). */
  readonly aggregationMaxStep: number;
}

/** Descriptors in the largest messages: 255 (every view-like parameter of the protocols is at most 255). */
const MAX_LIST = 255;

export const MAX_ADDRESSES = 4;

export const defaultCodecLimits: CodecLimits = Object.freeze({
  maxMessageBytes: 64 * 1024,
  // 32-byte key, 64-byte signature, 4 addresses with 253-character names, two uint64s and tags.
  maxDescriptorBytes: 1200,
  maxAddresses: MAX_ADDRESSES,
  addressPolicy: defaultAddressPolicy,
  samplingDescriptors: MAX_LIST,
  tmanDescriptors: MAX_LIST,
  slicingGossip: MAX_LIST,
  aggregationValues: 1024,
  aggregationInstances: 255,
  aggregationMaxStep: 1_000_000,
});

/** Limits with defaults for what is not given; throws a RangeError naming an impossible one. */
export function codecLimits(partial: Partial<CodecLimits> = {}): CodecLimits {
  const limits: CodecLimits = { ...defaultCodecLimits, ...partial, addressPolicy: { ...defaultAddressPolicy, ...partial.addressPolicy } };
  const int = (name: keyof CodecLimits, lo: number, hi: number): void => {
    const v = limits[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`codec limit ${name} must be an integer in ${lo}..${hi}, got ${String(v)}`);
  };
  int('maxMessageBytes', 64, 16 * 1024 * 1024);
  int('maxDescriptorBytes', 128, 4096);
  int('maxAddresses', 1, MAX_ADDRESSES);
  int('samplingDescriptors', 1, MAX_LIST);
  int('tmanDescriptors', 1, MAX_LIST);
  int('slicingGossip', 0, MAX_LIST);
  int('aggregationValues', 0, 65536);
  int('aggregationInstances', 0, 255);
  int('aggregationMaxStep', 1, 1_000_000);
  const h = limits.addressPolicy.maxHostnameLength;
  if (!Number.isInteger(h) || h < 1 || h > 253) throw new RangeError(`addressPolicy.maxHostnameLength must be an integer in 1..253, got ${h}`);
  return limits;
}

/** The protocol configurations a daemon runs with; each one given tightens its message bounds. */
export interface ProtocolConfigs {
  sampling?: PeerSamplingConfig;
  tman?: TManConfig;
  slicing?: OrderedSlicingConfig;
  aggregation?: AggregationConfig;
}

/**
 * Limits matched to the protocol configurations: nothing longer than what a correctly configured
 * peer sends is accepted. All nodes of a cloud must run the same parameters (they do: the
 * protocols' own messages assume it).
 */
export function limitsForProtocols(configs: ProtocolConfigs, base: Partial<CodecLimits> = {}): CodecLimits {
  const derived: { -readonly [K in keyof CodecLimits]?: CodecLimits[K] } = { ...base };
  if (configs.sampling) derived.samplingDescriptors = configs.sampling.exchangeLength;
  if (configs.tman) derived.tmanDescriptors = configs.tman.messageSize;
  if (configs.slicing) derived.slicingGossip = configs.slicing.peerSelection === 'best-swap' ? configs.slicing.gossip : 0;
  if (configs.aggregation) {
    const a = configs.aggregation;
    let slots = 0;
    for (const attr of a.attributes) {
      const wants = new Set(attr.aggregates);
      if (wants.has('average') || wants.has('sum') || wants.has('variance')) slots++;
      if (wants.has('variance')) slots++;
      if (wants.has('min')) slots++;
      if (wants.has('max')) slots++;
    }
    derived.aggregationValues = slots;
    derived.aggregationInstances = a.count ? a.count.maxInstances : 0;
    derived.aggregationMaxStep = a.epochLength;
  }
  return codecLimits(derived);
}
