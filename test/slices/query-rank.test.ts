import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeAttributes } from '../../src/node/attributes.js';
import { QueryError } from '../../src/slices/query-errors.js';
import { compareByRank, formatRank, parseRank, rankScore, rankValue } from '../../src/slices/query-rank.js';
import { sampleNode } from './query-fixtures.js';

function rankRejects(text: string, column: number, message: RegExp): void {
  assert.throws(
    () => parseRank(text),
    (err: unknown) => {
      assert.ok(err instanceof QueryError, String(err));
      assert.equal(err.field, 'rank');
      assert.equal(err.column, column, err.message);
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('parseRank', () => {
  it('defaults to the better end: descending, except ascending for load', () => {
    for (const name of ['cpu', 'capacity', 'cores', 'mem', 'disk', 'availability', 'freeCores', 'freeMem', 'freeDisk', 'uptime', 'availability.day']) {
      assert.equal(parseRank(name).order, 'desc', name);
    }
    assert.deepEqual(parseRank('load'), { attribute: 'load', order: 'asc' });
  });

  it('takes an explicit order, names and orders in any case, aliases, spaces', () => {
    assert.deepEqual(parseRank('cpu:asc'), { attribute: 'cpu', order: 'asc' });
    assert.deepEqual(parseRank('load:desc'), { attribute: 'load', order: 'desc' });
    assert.deepEqual(parseRank(' Memory : DESC '), { attribute: 'mem', order: 'desc' });
    assert.deepEqual(parseRank('free-cores'), { attribute: 'freeCores', order: 'desc' });
    assert.deepEqual(parseRank('availability.week:asc'), { attribute: 'availability', order: 'asc' });
  });

  it('refuses unknown attributes, labels, bad orders and nothing, at the right column', () => {
    rankRejects('ram', 1, /^unknown attribute "ram" at column 1 \(rank by one of: cores, freeCores, cpu/);
    rankRejects('  cors:asc', 3, /did you mean cores\?/);
    rankRejects('label.zone', 1, /cannot rank by "label.zone": labels are text/);
    rankRejects('cpu:up', 5, /the order must be "asc" or "desc", got "up"/);
    rankRejects('cpu:  ', 7, /got ""/);
    rankRejects('cpu:asc:desc', 5, /got "asc:desc"/);
    rankRejects('', 1, /expected an attribute to rank by/);
    rankRejects(':asc', 1, /expected an attribute to rank by/);
  });

  it('formats with the order always written', () => {
    assert.equal(formatRank(parseRank('cpu')), 'cpu:desc');
    assert.equal(formatRank(parseRank('LOAD')), 'load:asc');
    assert.deepEqual(parseRank(formatRank(parseRank('availability.day:asc'))), { attribute: 'availability.day', order: 'asc' });
  });
});

describe('ranking nodes', () => {
  const nodes: NodeAttributes[] = [
    sampleNode({ cpuScore: 900, loadAverage: 0.2, labels: { name: 'a' } }),
    sampleNode({ cpuScore: 1500, loadAverage: 3, labels: { name: 'b' } }),
    sampleNode({ cpuScore: 1200, loadAverage: 1, labels: { name: 'c' } }),
    sampleNode({ cpuScore: Number.NaN, loadAverage: Number.NaN, labels: { name: 'x' } }),
  ];
  const order = (rank: string): string[] => [...nodes].sort(compareByRank(parseRank(rank))).map((n) => n.labels.name);

  it('puts the best first: fastest for cpu, least loaded for load, reversed on request', () => {
    assert.deepEqual(order('cpu'), ['b', 'c', 'a', 'x']);
    assert.deepEqual(order('cpu:asc'), ['a', 'c', 'b', 'x']);
    assert.deepEqual(order('load'), ['a', 'c', 'b', 'x']);
    assert.deepEqual(order('load:desc'), ['b', 'c', 'a', 'x']);
  });

  it('sorts nodes that do not report a value last whatever the order, and ties as equal', () => {
    const rank = parseRank('cpu:asc');
    assert.equal(rankScore(rank, nodes[3]), Number.NEGATIVE_INFINITY);
    assert.equal(compareByRank(rank)(nodes[0], sampleNode({ cpuScore: 900 })), 0);
  });

  it('rankValue is the raw value; rankScore is higher-is-better for the slicing service', () => {
    const node = sampleNode({ cores: 4, cpuScore: 1250, loadAverage: 2 });
    assert.equal(rankValue(parseRank('capacity'), node), 5000);
    assert.equal(rankScore(parseRank('capacity'), node), 5000);
    assert.equal(rankValue(parseRank('load'), node), 2);
    assert.equal(rankScore(parseRank('load'), node), -2);
    assert.ok(rankScore(parseRank('load'), sampleNode({ loadAverage: 0.1 })) > rankScore(parseRank('load'), node));
  });
});
