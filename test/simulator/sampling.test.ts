/**
 * The `sampling` experiment reproduces the self-organisation results of Jelasity et al.,
 * "Gossip-based peer sampling" (ACM TOCS 2007, §5) at 10^4 nodes, c = 30: from the worst bootstrap
 * (a star) both Newscast (healer) and Cyclon (swapper) build one connected, random-like overlay.
 *
 * Measured (seeds 1–3, 50 cycles): Newscast in-degree std-dev 10.7–10.8 (max ~90), clustering 0.148,
 * path length 2.83; Cyclon std-dev 1.7 (max ~37), clustering 0.0058, path length 2.69; a random
 * graph of the same degree: clustering 0.0053–0.0060, path length 2.61–2.68.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { samplingExperiment } from '../../src/simulator/experiments/sampling.js';
import { defaultWorld } from '../../src/simulator/world.js';
import { num, runSampling } from './sampling-helpers.js';


describe('sampling experiment: self-organisation from a star (10^4 nodes, c = 30)', () => {
  const newscast = runSampling({ sampling: 'newscast', start: 'star' });
  const cyclon = runSampling({ sampling: 'cyclon', start: 'star' });

  for (const [name, r] of [['newscast', newscast], ['cyclon', cyclon]] as const) {
    it(`${name}: one connected component with full views`, () => {
      assert.equal(num(r, 'partitions'), 1);
      assert.equal(num(r, 'largestCluster'), 1);
      assert.equal(num(r, 'liveNodes'), 10_000);
      assert.ok(num(r, 'inDegreeMean') > 29.5, `in-degree mean ${num(r, 'inDegreeMean')}`);
      assert.equal(num(r, 'deadLinks'), 0);
    });

    it(`${name}: path length close to a random graph's`, () => {
      const ratio = num(r, 'pathLength') / num(r, 'randomGraphPathLength');
      assert.ok(ratio > 0.95 && ratio < 1.1, `path length ${num(r, 'pathLength')} vs random ${num(r, 'randomGraphPathLength')}`);
    });

    it(`${name}: the star has dissolved (in-degree spread bounded)`, () => {
      // Row 0 is the star: one node with in-degree 9999.
      assert.equal(r.cycles[0].inDegreeMax, 9999);
      assert.ok(num(r, 'inDegreeMax') < (name === 'newscast' ? 150 : 50), `max in-degree ${num(r, 'inDegreeMax')}`);
      assert.ok(num(r, 'inDegreeStdDev') < (name === 'newscast' ? 13 : 2.5), `in-degree std-dev ${num(r, 'inDegreeStdDev')}`);
    });
  }

  it('clustering: Newscast (healer) far above a random graph, Cyclon (swapper) close to it', () => {
    const random = num(newscast, 'randomGraphClustering');
    assert.ok(num(newscast, 'clustering') > 10 * random, `newscast clustering ${num(newscast, 'clustering')} vs random ${random}`);
    const cyclonRatio = num(cyclon, 'clustering') / num(cyclon, 'randomGraphClustering');
    assert.ok(cyclonRatio > 0.8 && cyclonRatio < 1.25, `cyclon clustering ${num(cyclon, 'clustering')} vs random ${num(cyclon, 'randomGraphClustering')}`);
    assert.ok(num(newscast, 'clustering') > 10 * num(cyclon, 'clustering'));
  });

  it('Cyclon (swapper) has a much narrower in-degree spread than Newscast (healer)', () => {
    assert.ok(num(cyclon, 'inDegreeStdDev') * 3 < num(newscast, 'inDegreeStdDev'));
  });

  it('the overlay stays a single component in every cycle of the run', () => {
    for (const r of [newscast, cyclon]) assert.ok(r.cycles.every((row) => row.partitions === 1));
  });
});

describe('sampling experiment: output and options', () => {
  const small = { ...defaultWorld, nodes: 2000, cycles: 12, seed: 7, start: 'lattice' as const, kills: [{ fraction: 0.3, cycle: 6 }], churn: 0.01, options: {} };

  it('is deterministic: the same seed gives byte-identical JSON, another seed does not', () => {
    for (const sampling of ['newscast', 'cyclon'] as const) {
      const a = JSON.stringify(samplingExperiment.run({ ...small, sampling }));
      const b = JSON.stringify(samplingExperiment.run({ ...small, sampling }));
      assert.equal(a, b);
      assert.notEqual(JSON.stringify(samplingExperiment.run({ ...small, sampling, seed: 8 })), a);
    }
  });

  it('the CLI prints byte-identical JSON for the same seed and rejects a bad option', () => {
    const bin = fileURLToPath(new URL('../../../bin/peercloud.js', import.meta.url));
    const args = ['sim', 'sampling', '--nodes', '1500', '--cycles', '8', '--sampling', 'cyclon', '--start', 'star', '--kill', '50%@4', '--mode', 'event', '--latency', '10-300', '--loss', '0.1', '--seed', '11', '--opt', 'observeEvery=3', '--json', '-q'];
    const run = (extra: string[] = []) => spawnSync(process.execPath, [bin, ...args, ...extra], { encoding: 'utf8', timeout: 60_000 });
    const a = run();
    assert.equal(a.status, 0, a.stderr);
    assert.equal(run().stdout, a.stdout);
    const doc = JSON.parse(a.stdout);
    assert.equal(doc.experiment, 'sampling');
    assert.equal(doc.cycles.length, 9);
    assert.equal(doc.summary.liveNodes, 750);
    const bad = run(['--opt', 'observeEvery=0']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /observeEvery/);
  });

  it('produces the documented metrics and summary fields', () => {
    const r = samplingExperiment.run({ ...small, sampling: 'cyclon', options: { observeEvery: '4' } });
    assert.equal(r.experiment, 'sampling');
    assert.equal(r.cycles.length, 13);
    for (const key of ['inDegreeMean', 'inDegreeStdDev', 'inDegreeMax', 'largestCluster', 'largestClusterNodes', 'deadLinks', 'deadLinksFraction', 'partitions']) {
      assert.ok(r.cycles.every((row) => typeof row[key] === 'number'), key);
    }
    assert.deepEqual(r.cycles.filter((row) => row.clustering !== undefined).map((row) => row.cycle), [0, 4, 8, 12]);
    for (const key of ['clustering', 'pathLength', 'randomGraphClustering', 'randomGraphPathLength', 'inDegreeStdDev', 'deadLinksFraction']) {
      assert.equal(typeof r.summary[key], 'number', key);
    }
    assert.equal(typeof r.summary.survivorsConnected, 'boolean');
    assert.ok('cyclesToPurgeDeadLinks' in r.summary);
    // Churn keeps adding dead links, so they are never all purged.
    assert.equal(r.summary.cyclesToPurgeDeadLinks, null);
    assert.ok(num(r, 'deadLinksFractionSecondHalf') > 0);
    assert.deepEqual(r.parameters.options, { observeEvery: '4' });
  });

  it('without kills the recovery fields are null', () => {
    const r = samplingExperiment.run({ ...small, kills: [], churn: 0, sampling: 'newscast' });
    assert.equal(r.summary.cyclesToPurgeDeadLinks, null);
    assert.equal(r.summary.cyclesToDeadLinksBelow1Percent, null);
    assert.equal(r.summary.survivorsConnected, null);
  });

  it('rejects bad options and non-gossip samplers with a RangeError naming them', () => {
    for (const [key, value] of [['observeEvery', '0'], ['observeEvery', '1.5'], ['clusteringSample', '-3'], ['pathSources', 'many']]) {
      assert.throws(() => samplingExperiment.run({ ...small, options: { [key]: value } }), (e: unknown) => e instanceof RangeError && e.message.includes(key));
    }
    for (const sampling of ['static', 'complete'] as const) {
      assert.throws(() => samplingExperiment.run({ ...small, kills: [], churn: 0, sampling }), (e: unknown) => e instanceof RangeError && /--sampling/.test(e.message));
    }
  });
});
