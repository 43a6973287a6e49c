/**
 * Configuration of the peer sampling framework of Jelasity, Voulgaris, Guerraoui, Kermarrec and
 * van Steen, "Gossip-based peer sampling", ACM TOCS 25(3), 2007, plus Cyclon's shuffle
 * (Voulgaris, Gavidia, van Steen, J. Network and Systems Management 13(2), 2005).
 */
export interface PeerSamplingConfig {
  /** c: number of descriptors in a view. */
  viewSize: number;
  /** `rand`: uniform peer from the view; `tail`: the oldest entry. */
  peerSelection: 'rand' | 'tail';
  /** Which direction(s) descriptors travel in one exchange. */
  propagation: 'push' | 'pull' | 'pushpull';
  /** H: how many of the oldest entries view selection drops (self-healing). */
  healing: number;
  /** S: how many of the entries just sent view selection drops (swapping). */
  swapping: number;
  /**
   * Descriptors in one message, including the sender's own fresh descriptor when pushing:
   * c/2 in the framework, the shuffle length l in Cyclon.
   */
  exchangeLength: number;
  /** `framework`: the TOCS 2007 view selection; `cyclon`: Cyclon's enhanced shuffle. */
  algorithm: 'framework' | 'cyclon';
}

export type PeerSamplingPreset = 'newscast' | 'cyclon';

/** Newscast = (rand, healer, pushpull): H = c/2, S = 0, c/2 descriptors per message. */
export function newscast(viewSize = 30): PeerSamplingConfig {
  const half = Math.floor(viewSize / 2);
  return {
    viewSize,
    peerSelection: 'rand',
    propagation: 'pushpull',
    healing: half,
    swapping: 0,
    exchangeLength: half,
    algorithm: 'framework',
  };
}

/** Cyclon = (tail, swapper, pushpull) with shuffle length l (default 8, as in the Cyclon paper). */
export function cyclon(viewSize = 30, shuffleLength = 8): PeerSamplingConfig {
  return {
    viewSize,
    peerSelection: 'tail',
    propagation: 'pushpull',
    healing: 0,
    swapping: Math.floor(viewSize / 2),
    exchangeLength: Math.min(shuffleLength, viewSize),
    algorithm: 'cyclon',
  };
}

export function presetConfig(preset: PeerSamplingPreset, viewSize = 30, shuffleLength = 8): PeerSamplingConfig {
  return preset === 'cyclon' ? cyclon(viewSize, shuffleLength) : newscast(viewSize);
}

/** Throws a RangeError naming the first impossible parameter. */
export function validatePeerSamplingConfig(config: PeerSamplingConfig): void {
  const { viewSize: c, healing: h, swapping: s, exchangeLength: l } = config;
  if (!Number.isInteger(c) || c < 2 || c > 255) throw new RangeError(`viewSize must be an integer in 2..255, got ${c}`);
  if (!Number.isInteger(h) || h < 0) throw new RangeError(`healing (H) must be a non-negative integer, got ${h}`);
  if (!Number.isInteger(s) || s < 0) throw new RangeError(`swapping (S) must be a non-negative integer, got ${s}`);
  if (config.algorithm === 'framework' && h + s > c / 2) {
    throw new RangeError(`healing + swapping must be at most viewSize/2 (H=${h}, S=${s}, c=${c})`);
  }
  if (!Number.isInteger(l) || l < 1 || l > c) throw new RangeError(`exchangeLength must be an integer in 1..viewSize, got ${l}`);
  if (!['rand', 'tail'].includes(config.peerSelection)) throw new RangeError(`peerSelection must be rand or tail, got ${config.peerSelection}`);
  if (!['push', 'pull', 'pushpull'].includes(config.propagation)) {
    throw new RangeError(`propagation must be push, pull or pushpull, got ${config.propagation}`);
  }
  if (!['framework', 'cyclon'].includes(config.algorithm)) throw new RangeError(`algorithm must be framework or cyclon, got ${config.algorithm}`);
}
