import type { PeerHandle } from '../../core/handles.js';
import type { Random } from '../../core/random.js';

/** How the peer sampling views look before the first cycle (Jelasity et al. TOCS 2007, §5). */
export type StartTopology = 'random' | 'lattice' | 'star';

export interface Seedable {
  addContacts(self: PeerHandle, contacts: readonly PeerHandle[]): void;
}

/**
 * Fills the views of `nodes` (handles in order) with an initial topology:
 * - random: c uniformly random other nodes each (a random c-out graph);
 * - lattice: a ring lattice, each node knowing its c nearest neighbours on the ring (c/2 each side);
 * - star: every node knows only the first node, which knows nobody; the extreme of a bad bootstrap.
 */
export function seedTopology(
  kind: StartTopology,
  nodes: ArrayLike<PeerHandle>,
  viewSize: number,
  sampling: Seedable,
  rng: Random,
): void {
  const n = nodes.length;
  if (n === 0) return;
  const contacts: PeerHandle[] = [];
  switch (kind) {
    case 'random': {
      const want = Math.min(viewSize, n - 1);
      const mark = new Set<number>();
      for (let i = 0; i < n; i++) {
        contacts.length = 0;
        mark.clear();
        while (contacts.length < want) {
          const j = rng.int(n);
          if (j === i || mark.has(j)) continue;
          mark.add(j);
          contacts.push(nodes[j]);
        }
        sampling.addContacts(nodes[i], contacts);
      }
      return;
    }
    case 'lattice': {
      const half = Math.min(Math.floor(viewSize / 2), Math.floor((n - 1) / 2));
      for (let i = 0; i < n; i++) {
        contacts.length = 0;
        for (let d = 1; d <= half; d++) {
          contacts.push(nodes[(i + d) % n], nodes[(i - d + n) % n]);
        }
        sampling.addContacts(nodes[i], contacts);
      }
      return;
    }
    case 'star': {
      for (let i = 1; i < n; i++) sampling.addContacts(nodes[i], [nodes[0]]);
      return;
    }
  }
}
