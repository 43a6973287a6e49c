/**
 * Ring health of the slices seen in a crawl, computed from what each member says its ring
 * neighbours are. Pure (no Node APIs): the dashboard runs it in the browser, tests in Node.
 *
 * A member's ring is right when its predecessor and successor are live members of its own slice
 * and they agree (its successor names it as predecessor). The slice's ring is whole when following
 * successors from any member visits every live member once and comes back: T-Man's target, a
 * sorted ring, needs nothing else to be checked by someone who does not know the ring keys.
 */
export interface RingMemberView {
  readonly id: string;
  readonly live: boolean;
  readonly sliceId: string | null;
  readonly predecessor: string | null;
  readonly successor: string | null;
}

export interface SliceRingHealth {
  readonly sliceId: string;
  /** Live members (nodes that answered and say they are in the slice). */
  readonly members: number;
  /** Members whose both neighbours are live members of the slice and agree with them. */
  readonly correct: number;
  /** Following successors visits every live member exactly once. */
  readonly whole: boolean;
}

export function ringHealth(nodes: readonly RingMemberView[]): SliceRingHealth[] {
  const bySlice = new Map<string, RingMemberView[]>();
  for (const n of nodes) {
    if (!n.live || n.sliceId === null) continue;
    let list = bySlice.get(n.sliceId);
    if (!list) bySlice.set(n.sliceId, (list = []));
    list.push(n);
  }
  const out: SliceRingHealth[] = [];
  for (const [sliceId, members] of bySlice) {
    const byId = new Map(members.map((m) => [m.id, m]));
    let correct = 0;
    for (const m of members) {
      if (members.length === 1) {
        // Alone in its slice: no neighbours, or itself as both (a ring of one), is right.
        const alone = (n: string | null) => n === null || n === m.id;
        if (alone(m.predecessor) && alone(m.successor)) correct++;
        continue;
      }
      const succ = m.successor === null ? undefined : byId.get(m.successor);
      const pred = m.predecessor === null ? undefined : byId.get(m.predecessor);
      if (succ && pred && succ.predecessor === m.id && pred.successor === m.id) correct++;
    }
    out.push({ sliceId, members: members.length, correct, whole: walksOnce(members, byId) });
  }
  return out.sort((a, b) => (a.sliceId < b.sliceId ? -1 : a.sliceId > b.sliceId ? 1 : 0));
}

function walksOnce(members: readonly RingMemberView[], byId: ReadonlyMap<string, RingMemberView>): boolean {
  if (members.length === 1) return true;
  const start = members[0];
  const seen = new Set<string>([start.id]);
  let at = start;
  for (let steps = 0; steps < members.length; steps++) {
    const next = at.successor === null ? undefined : byId.get(at.successor);
    if (!next) return false;
    if (next.id === start.id) return seen.size === members.length;
    if (seen.has(next.id)) return false;
    seen.add(next.id);
    at = next;
  }
  return false;
}
