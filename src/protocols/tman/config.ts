import { MAX_CANDIDATES, type RankingName } from './ranking.js';

/**
 * Parameters of T-Man (Jelasity, Montresor, Babaoglu, Computer Networks 53(13), 2009, §3):
 * the view size, the message size m, the peer selection parameter ψ and the size of the fresh
 * random sample merged into every buffer.
 */
export interface TManConfig {
  /** c: entries kept in a node's T-Man view (the best-ranked c it has heard of). */
  viewSize: number;
  /** m: descriptors sent in one message (the m best of the buffer, ranked for the receiver). */
  messageSize: number;
  /** ψ: the active step contacts a uniform choice among the ψ best-ranked view entries. */
  psi: number;
  /** Peers drawn from the peer sampling service and added to every buffer. */
  randomSample: number;
  /** Ranking function (the target topology). */
  ranking: RankingName;
  /**
   * How many recently failed peers a node remembers (0: none). A remembered peer is not taken back
   * from gossip for maxAge cycles (by then its descriptors have faded out everywhere), so a dead
   * neighbour still advertised by others is not contacted again and again (see TMan).
   */
  failureMemory: number;
  /** Descriptors older than this many cycles leave the views (dead nodes fade out). */
  maxAge: number;
  /**
   * The age given to descriptors taken from the peer sampling service, whose own ages our
   * PeerSampler interface does not expose. Not 0: a dead node still listed by the sampling layer
   * would otherwise come back as a fresh descriptor and survive another maxAge cycles.
   */
  sampleAge: number;
}

/**
 * Defaults for the sorted ring, chosen by measurement (see the T-Man experiment): ψ = 2 (the
 * closest successor or the closest predecessor), m = 20 and a random sample as large as a
 * Newscast view (30), as in the paper's setting where the whole peer sampling view is merged into
 * each buffer. With a small view the last few laggards of the construction only creep towards
 * their place m/2 positions per exchange (their contacts only know their own close neighbours),
 * which makes the completion time grow faster than log N (c = 20, m = 10: 10, 14, 20, 31 cycles at
 * 2.5k, 10k, 20k, 40k nodes). c = 50 keeps enough farther entries to give the paper's logarithmic
 * growth, about +1.5 cycles per doubling (10, 11.5, 13.5, 15 cycles). At 10^6 nodes c = 50 costs
 * ~0.6 GB; use a smaller view there.
 * maxAge 30 / sampleAge 15 purge dead descriptors within 30 cycles without expiring live ones.
 */
export const defaultTManConfig: TManConfig = {
  viewSize: 50,
  messageSize: 20,
  psi: 2,
  randomSample: 30,
  ranking: 'sorted-ring',
  failureMemory: 16,
  maxAge: 30,
  sampleAge: 15,
};

/** Throws a RangeError naming the first impossible parameter. */
export function validateTManConfig(config: TManConfig): void {
  const { viewSize: c, messageSize: m, psi, randomSample: r } = config;
  if (!Number.isInteger(c) || c < 2 || c > 255) throw new RangeError(`T-Man viewSize must be an integer in 2..255, got ${c}`);
  if (!Number.isInteger(m) || m < 1 || m > 255) throw new RangeError(`T-Man messageSize (m) must be an integer in 1..255, got ${m}`);
  if (!Number.isInteger(psi) || psi < 1 || psi > c) throw new RangeError(`T-Man psi must be an integer in 1..viewSize (${c}), got ${psi}`);
  if (!Number.isInteger(r) || r < 0 || r > 255) throw new RangeError(`T-Man randomSample must be an integer in 0..255, got ${r}`);
  const f = config.failureMemory;
  if (!Number.isInteger(f) || f < 0 || f > 255) throw new RangeError(`T-Man failureMemory must be an integer in 0..255, got ${f}`);
  if (!Number.isInteger(config.maxAge) || config.maxAge < 1 || config.maxAge > 0xfffe) {
    throw new RangeError(`T-Man maxAge must be an integer in 1..65534, got ${config.maxAge}`);
  }
  if (!Number.isInteger(config.sampleAge) || config.sampleAge < 0 || config.sampleAge > config.maxAge) {
    throw new RangeError(`T-Man sampleAge must be an integer in 0..maxAge (${config.maxAge}), got ${config.sampleAge}`);
  }
  if (c + m + r + 1 > MAX_CANDIDATES) throw new RangeError('T-Man viewSize + messageSize + randomSample is too large');
  if (!['sorted-ring', 'ring-distance', 'line-distance'].includes(config.ranking)) {
    throw new RangeError(`T-Man ranking must be sorted-ring, ring-distance or line-distance, got ${config.ranking}`);
  }
}
