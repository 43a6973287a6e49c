import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explain, matches } from '../../src/slices/query-eval.js';
import { formatQuery, parseQuery } from '../../src/slices/query.js';
import { GiB, sampleNode } from './query-fixtures.js';

const example = parseQuery('cores>=4, mem>=8GiB, label.zone=lab2, cpu>1200, disk>=100GB, availability>=0.9, load<1');

describe('matches', () => {
  it('a node meeting every predicate of the issue example, and not one that misses any single one', () => {
    const good = sampleNode({ cpuScore: 1500, labels: { zone: 'lab2' } });
    assert.equal(matches(example, good), true);
    const misses = [
      sampleNode({ cpuScore: 1500, labels: { zone: 'lab2' }, cores: 2 }),
      sampleNode({ cpuScore: 1500, labels: { zone: 'lab2' }, memoryTotalBytes: 8 * GiB - 1 }),
      sampleNode({ cpuScore: 1500, labels: { zone: 'lab1' } }),
      sampleNode({ cpuScore: 1200, labels: { zone: 'lab2' } }),
      sampleNode({ cpuScore: 1500, labels: { zone: 'lab2' }, diskTotalBytes: 99e9 }),
      sampleNode({ cpuScore: 1500, labels: { zone: 'lab2' }, availability: { week: 0.89 } }),
      sampleNode({ cpuScore: 1500, labels: { zone: 'lab2' }, loadAverage: 1 }),
    ];
    for (const node of misses) assert.equal(matches(example, node), false, JSON.stringify(node));
  });

  it('the empty query matches every node', () => {
    assert.equal(matches(parseQuery(''), sampleNode({ cores: 0, labels: {} })), true);
  });

  it('each operator at, below and above the boundary', () => {
    const cases: Array<[string, [boolean, boolean, boolean]]> = [
      ['=', [false, true, false]],
      ['!=', [true, false, true]],
      ['<', [true, false, false]],
      ['<=', [true, true, false]],
      ['>', [false, false, true]],
      ['>=', [false, true, true]],
    ];
    for (const [op, expected] of cases) {
      const q = parseQuery(`cores${op}8`);
      const got = [7, 8, 9].map((cores) => matches(q, sampleNode({ cores })));
      assert.deepEqual(got, expected, `cores${op}8`);
    }
  });

  it('reads each attribute from the right NodeAttributes field', () => {
    const node = sampleNode({
      cores: 4,
      cpuScore: 1250,
      loadAverage: 1.5,
      freeCores: 2.5,
      memoryTotalBytes: 32 * GiB,
      memoryFreeBytes: 3 * GiB,
      diskTotalBytes: 1e12,
      diskFreeBytes: 50e9,
      uptimeMs: 2 * 3_600_000,
      availability: { day: 0.5, week: 0.8 },
    });
    const holding = [
      'cores=4',
      'cpu=1250',
      'capacity=5000',
      'load=1.5',
      'freeCores=2.5',
      'mem=32GiB',
      'freeMem=3GiB',
      'disk=1TB',
      'freeDisk=50GB',
      'uptime=2h',
      'availability=0.8',
      'availability.week=80%',
      'availability.day=0.5',
    ];
    for (const text of holding) assert.equal(matches(parseQuery(text), node), true, text);
    for (const text of ['capacity=4000', 'availability=0.5', 'availability.day=0.8', 'freeMem=32GiB', 'disk=50GB', 'uptime=2m']) {
      assert.equal(matches(parseQuery(text), node), false, text);
    }
  });

  it('labels: = needs the label; != holds for a missing label; inherited names are not labels', () => {
    const zoned = sampleNode({ labels: { zone: 'lab2' } });
    const bare = sampleNode({ labels: {} });
    assert.equal(matches(parseQuery('label.zone=lab2'), zoned), true);
    assert.equal(matches(parseQuery('label.zone=lab2'), bare), false);
    assert.equal(matches(parseQuery('label.zone!=lab2'), zoned), false);
    assert.equal(matches(parseQuery('label.zone!=lab2'), bare), true);
    assert.equal(matches(parseQuery('label.zone=LAB2'), zoned), false, 'values are case-sensitive');
    assert.equal(matches(parseQuery('label.constructor=x'), bare), false);
    assert.equal(matches(parseQuery('label.tostring!=x'), bare), true);
    assert.equal(matches(parseQuery('label.constructor=x'), sampleNode({ labels: { constructor: 'x' } })), true);
  });

  it('a value a node does not report as a finite number satisfies nothing, not even !=', () => {
    const broken = sampleNode({ cpuScore: Number.NaN, loadAverage: Number.POSITIVE_INFINITY });
    for (const text of ['cpu>0', 'cpu<1e15', 'cpu!=5', 'capacity>=0', 'load>0', 'load!=1']) {
      assert.equal(matches(parseQuery(text), broken), false, text);
    }
    assert.equal(matches(parseQuery('cores>0'), broken), true);
  });
});

describe('explain', () => {
  it('lists the failed predicates in query order, with what the node has', () => {
    const node = sampleNode({ cores: 2, memoryTotalBytes: 7.63 * GiB, labels: {}, cpuScore: 1500, availability: { week: 0.973 } });
    const result = explain(example, node);
    assert.equal(result.matches, false);
    assert.deepEqual(
      result.failed.map((f) => f.text),
      ['cores>=4 (node has 2)', 'mem>=8GiB (node has 7.63GiB)', 'label.zone=lab2 (node has no zone label)'],
    );
    assert.deepEqual(
      result.failed.map((f) => f.actual),
      [2, 7.63 * GiB, null],
    );
    assert.equal(result.failed[1].predicate, example.predicates[1]);
  });

  it('shows label values, fractions, durations and unreported values for people', () => {
    const node = sampleNode({ labels: { zone: 'lab1' }, availability: { week: 0.8734 }, uptimeMs: 5400_000, cpuScore: Number.NaN });
    const result = explain(parseQuery('label.zone=lab2, availability>=0.9, uptime>=1d, cpu>1000'), node);
    assert.deepEqual(
      result.failed.map((f) => f.text),
      ['label.zone=lab2 (node has lab1)', 'availability>=0.9 (node has 87.3%)', 'uptime>=1d (node has 1.5h)', 'cpu>1000 (node does not report it)'],
    );
  });

  it('a matching node has nothing failed', () => {
    assert.deepEqual(explain(parseQuery('cores>=1'), sampleNode()), { matches: true, failed: [] });
  });

  it('is what a "found 7 of 10 nodes matching" message is built from', () => {
    const query = parseQuery('cores>=16');
    const fleet = [4, 8, 16, 16, 24, 32, 16, 64, 2, 16].map((cores) => sampleNode({ cores }));
    const results = fleet.map((node) => explain(query, node));
    const found = results.filter((r) => r.matches).length;
    assert.equal(found, 7);
    assert.equal(`found ${found} of ${fleet.length} nodes matching ${formatQuery(query)}`, 'found 7 of 10 nodes matching cores>=16');
    assert.deepEqual(
      results.flatMap((r) => r.failed.map((f) => f.text)),
      ['cores>=16 (node has 4)', 'cores>=16 (node has 8)', 'cores>=16 (node has 2)'],
    );
  });
});
