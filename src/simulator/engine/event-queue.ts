/**
 * A binary min-heap of timed events. Ties in time are broken by insertion order, so the simulation
 * is deterministic whatever the heap's internal layout.
 */
export class EventQueue<T> {
  private times: number[] = [];
  private seqs: number[] = [];
  private items: T[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(time: number, item: T): void {
    const times = this.times;
    const seqs = this.seqs;
    const items = this.items;
    let i = items.length;
    const s = this.seq++;
    times.push(time);
    seqs.push(s);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] < time || (times[parent] === time && seqs[parent] < s)) break;
      times[i] = times[parent];
      seqs[i] = seqs[parent];
      items[i] = items[parent];
      i = parent;
    }
    times[i] = time;
    seqs[i] = s;
    items[i] = item;
  }

  peekTime(): number {
    return this.items.length > 0 ? this.times[0] : Infinity;
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const times = this.times;
    const seqs = this.seqs;
    const top = items[0];
    const lastTime = times.pop()!;
    const lastSeq = seqs.pop()!;
    const lastItem = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let m = l;
        if (r < n && (times[r] < times[l] || (times[r] === times[l] && seqs[r] < seqs[l]))) m = r;
        if (times[m] > lastTime || (times[m] === lastTime && seqs[m] > lastSeq)) break;
        times[i] = times[m];
        seqs[i] = seqs[m];
        items[i] = items[m];
        i = m;
      }
      times[i] = lastTime;
      seqs[i] = lastSeq;
      items[i] = lastItem;
    }
    return top;
  }
}
