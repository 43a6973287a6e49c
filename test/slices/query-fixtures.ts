/** Sample NodeAttributes for slice query tests. */
import type { NodeAttributes } from '../../src/node/attributes.js';

export const GiB = 2 ** 30;

export type AttributesOverrides = Partial<Omit<NodeAttributes, 'availability'>> & {
  availability?: Partial<NodeAttributes['availability']>;
};

/** A mid-size machine (8 cores, score 1000, 16 GiB, 500 GiB disk, zone lab1) with the given changes. */
export function sampleNode(overrides: AttributesOverrides = {}): NodeAttributes {
  const cores = overrides.cores ?? 8;
  const loadAverage = overrides.loadAverage ?? 0.5;
  return {
    cores,
    cpuScore: 1000,
    memoryTotalBytes: 16 * GiB,
    memoryFreeBytes: 8 * GiB,
    diskTotalBytes: 500 * GiB,
    diskFreeBytes: 200 * GiB,
    loadAverage,
    freeCores: Math.max(0, cores - loadAverage),
    uptimeMs: 3 * 24 * 3_600_000,
    labels: { zone: 'lab1' },
    measuredAt: 0,
    ...overrides,
    availability: { day: 1, week: 0.95, trackedMs: 7 * 24 * 3_600_000, ...overrides.availability },
  };
}
