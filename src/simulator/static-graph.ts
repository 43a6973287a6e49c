import { NO_PEER, type PeerHandle, type PeerSampler } from '../core/handles.js';
import type { Random } from '../core/random.js';

/**
 * A fixed random k-out graph (each node has k uniformly chosen out-neighbours, never itself), as a
 * PeerSampler. Used as the "static overlay" baseline of the aggregation papers and benchmarks, where
 * neighbours are drawn from a graph that never changes rather than from a gossiped view.
 */
export class StaticGraph implements PeerSampler {
  readonly edges: Int32Array;

  constructor(
    readonly nodes: number,
    readonly k: number,
    private readonly rng: Random,
  ) {
    if (nodes < 2) throw new RangeError('a static graph needs at least 2 nodes');
    if (!Number.isInteger(k) || k < 1 || k >= nodes) throw new RangeError(`out-degree k must be in 1..nodes-1, got ${k}`);
    this.edges = new Int32Array(nodes * k);
    for (let n = 0; n < nodes; n++) {
      for (let i = 0; i < k; i++) {
        let peer: number;
        do {
          peer = rng.int(nodes);
        } while (peer === n);
        this.edges[n * k + i] = peer;
      }
    }
  }

  samplePeer(self: PeerHandle): PeerHandle {
    if (self >= this.nodes) return NO_PEER;
    return this.edges[self * this.k + this.rng.int(this.k)];
  }

  samplePeers(self: PeerHandle, count: number, out: PeerHandle[]): void {
    if (self >= this.nodes) return;
    for (let i = 0; i < Math.min(count, this.k); i++) out.push(this.edges[self * this.k + i]);
  }
}
