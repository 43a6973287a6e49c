import { NO_PEER, type PeerHandle, type PeerSampler } from '../core/handles.js';
import type { Random } from '../core/random.js';
import type { Population } from './population.js';

/**
 * The ideal peer sampling service: a uniformly random live node, as if every node knew every other.
 * Only a simulator can offer it; it is the reference against which gossiped sampling is compared
 * (averaging's variance shrinks by 1/(2·sqrt(e)) per cycle with it).
 */
export class CompleteGraphSampler implements PeerSampler {
  constructor(
    private readonly population: Population,
    private readonly rng: Random,
  ) {}

  samplePeer(self: PeerHandle): PeerHandle {
    const n = this.population.size;
    if (n < 2) return NO_PEER;
    for (;;) {
      const p = this.population.randomLive(this.rng);
      if (p !== self) return p;
    }
  }

  samplePeers(self: PeerHandle, count: number, out: PeerHandle[]): void {
    const k = Math.min(count, this.population.size - 1);
    const start = out.length;
    while (out.length - start < k) {
      const p = this.samplePeer(self);
      if (!out.includes(p, start)) out.push(p);
    }
  }
}
