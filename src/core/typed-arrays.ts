/**
 * Growing the flat typed arrays that hold per-node protocol state. Populations grow while a
 * simulation runs (joins, churn), so every state table needs the same "reallocate and copy"
 * step; keeping it here keeps the protocol modules about their protocols.
 */
export type TypedArray = Int32Array | Uint32Array | Uint16Array | Uint8Array | Float32Array | Float64Array;

/** `old` if it holds at least `length` elements, else a zero-filled copy of it of that length. */
export function resized<T extends TypedArray>(old: T, length: number): T {
  if (old.length >= length) return old;
  const next = new (old.constructor as new (n: number) => T)(length);
  next.set(old as never);
  return next;
}

/** Doubles `current` (at least 1) until it reaches `needed`: amortised O(1) growth. */
export function grownCapacity(current: number, needed: number): number {
  let next = Math.max(1, current);
  while (next < needed) next *= 2;
  return next;
}
