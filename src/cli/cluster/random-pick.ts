/**
 * Random choices among a cluster's nodes for experiments on it (which node coordinates, which die):
 * shared by the slices benchmark and the CLI experiments, which need no reproducibility (the
 * simulator does, and draws from its seeded Random instead).
 */

/** A uniformly shuffled copy of `xs` (Fisher–Yates). */
export function shuffled<T>(xs: readonly T[], random: () => number = Math.random): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** One element of a non-empty `xs`, uniformly. */
export function pick<T>(xs: readonly T[], random: () => number = Math.random): T {
  if (xs.length === 0) throw new RangeError('cannot pick from an empty list');
  return xs[Math.floor(random() * xs.length)];
}
