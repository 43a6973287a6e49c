import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type QueryField, QueryError } from '../../src/slices/query-errors.js';
import { EMPTY_QUERY, parseQuery } from '../../src/slices/query.js';
import {
  describeSliceSpec,
  formatCount,
  MAX_SLICE_NODES,
  parseFraction,
  parseNodeCount,
  parseSliceName,
  parseSliceSpec,
  type SliceSpecInput,
} from '../../src/slices/spec.js';

function specRejects(input: SliceSpecInput, field: QueryField, message: RegExp): void {
  assert.throws(
    () => parseSliceSpec(input),
    (err: unknown) => {
      assert.ok(err instanceof QueryError, String(err));
      assert.equal(err.field, field, err.message);
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('parseSliceSpec', () => {
  it('combines name, count, query, rank and keep-size', () => {
    const spec = parseSliceSpec({ name: 'web-1', nodes: '20', where: 'cores>=4 and mem>=8GiB', rank: 'cpu', keepSize: true });
    assert.deepEqual(spec, {
      name: 'web-1',
      count: { nodes: 20 },
      where: parseQuery('cores>=4, mem>=8GiB'),
      rank: { attribute: 'cpu', order: 'desc' },
      keepSize: true,
    });
    assert.equal(describeSliceSpec(spec), 'web-1: 20 nodes where cores>=4, mem>=8GiB ranked by cpu:desc, keep size');
  });

  it('defaults: every node qualifies, no ranking, no keep-size', () => {
    const spec = parseSliceSpec({ name: 'batch', fraction: '5%' });
    assert.deepEqual(spec, { name: 'batch', count: { fraction: 0.05 }, where: EMPTY_QUERY, rank: null, keepSize: false });
    assert.equal(describeSliceSpec(spec), 'batch: 5%');
  });

  it('"the top 5% by availability"', () => {
    const spec = parseSliceSpec({ name: 'stable', fraction: 0.05, rank: 'availability' });
    assert.deepEqual(spec.count, { fraction: 0.05 });
    assert.deepEqual(spec.rank, { attribute: 'availability', order: 'desc' });
  });

  it('needs exactly one of a node count and a fraction', () => {
    specRejects({ name: 'a' }, 'count', /give a number of nodes or a fraction/);
    specRejects({ name: 'a', nodes: 3, fraction: '5%' }, 'count', /either a number of nodes or a fraction, not both/);
  });

  it('reports which part is wrong through `field`', () => {
    specRejects({ name: 'Bad_Name', nodes: 1 }, 'name', /slice name "Bad_Name" is not valid/);
    specRejects({ name: 'a', nodes: 0 }, 'count', /whole number from 1/);
    specRejects({ name: 'a', nodes: 1, where: 'ram>=1GiB' }, 'where', /unknown attribute "ram" at column 1/);
    specRejects({ name: 'a', nodes: 1, rank: 'label.zone' }, 'rank', /cannot rank by/);
    specRejects({ name: 'a', nodes: 1, keepSize: 'yes' as unknown as boolean }, 'keepSize', /keepSize must be true or false/);
    specRejects(null as unknown as SliceSpecInput, 'name', /must be an object/);
  });
});

describe('node counts', () => {
  it('accepts whole numbers from 1, as numbers or text', () => {
    assert.equal(parseNodeCount(1), 1);
    assert.equal(parseNodeCount('10'), 10);
    assert.equal(parseNodeCount(' 7 '), 7);
    assert.equal(parseNodeCount(MAX_SLICE_NODES), MAX_SLICE_NODES);
  });

  it('refuses zero, negatives, fractions, text and impossible sizes', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_SLICE_NODES + 1, '0', '-3', '1.5', '10.0', 'ten', '', '1e3', '0x10']) {
      assert.throws(
        () => parseNodeCount(bad),
        (err: unknown) => err instanceof QueryError && err.field === 'count' && /must be a whole number from 1 to 1000000/.test(err.message),
        String(bad),
      );
    }
  });
});

describe('fractions', () => {
  it('accepts 0 < f ≤ 1 as a percentage or a number', () => {
    const ok: Array<[string | number, number]> = [
      ['5%', 0.05],
      ['0.05', 0.05],
      ['.5', 0.5],
      ['100%', 1],
      ['1', 1],
      [1, 1],
      [0.2, 0.2],
      ['0.5 %', 0.005],
      [' 12.5% ', 0.125],
    ];
    for (const [input, f] of ok) assert.equal(parseFraction(input), f, String(input));
  });

  it('refuses 0, more than 100%, negatives and non-numbers, with a hint for 1 < f ≤ 100', () => {
    const cases: Array<[string | number, RegExp]> = [
      ['0%', /more than 0% and at most 100%, got "0%"/],
      ['0', /more than 0% and at most 100%/],
      [0, /more than 0% and at most 100%/],
      ['150%', /more than 0% and at most 100%, got "150%"/],
      ['1.5', /is more than 1 \(100%\), got "1.5" \(write 1.5% for a percentage\)/],
      ['5', /write 5% for a percentage/],
      [2, /more than 0% and at most 100%/],
      [-0.1, /more than 0% and at most 100%/],
      [Number.NaN, /more than 0% and at most 100%/],
      ['-5%', /must be a percentage or a number from 0 to 1/],
      ['five%', /must be a percentage/],
      ['', /must be a percentage/],
      ['%', /must be a percentage/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => parseFraction(input),
        (err: unknown) => err instanceof QueryError && err.field === 'count' && message.test(err.message),
        String(input),
      );
    }
  });

  it('formats counts for people', () => {
    assert.equal(formatCount({ nodes: 1 }), '1 node');
    assert.equal(formatCount({ nodes: 20 }), '20 nodes');
    assert.equal(formatCount({ fraction: 0.07 }), '7%');
    assert.equal(formatCount({ fraction: 1 }), '100%');
  });
});

describe('slice names', () => {
  it('accepts DNS-label-like names of 1 to 63 characters', () => {
    for (const name of ['a', '7', 'web', 'web-1', 'a--b', 'x'.repeat(63)]) assert.equal(parseSliceName(name), name);
  });

  it('refuses everything else, suggesting the lowercase form when that would do', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['', /slice name is empty/],
      ['-web', /"-web" is not valid \(1–63 lowercase/],
      ['web-', /is not valid/],
      ['web_1', /is not valid/],
      ['web.1', /is not valid/],
      ['web 1', /is not valid/],
      ['wéb', /is not valid/],
      ['x'.repeat(64), /is not valid/],
      ['Web', /"Web" is not valid \(names are lowercase: web\)/],
      [42, /must be text, got 42/],
      [undefined, /must be text, got nothing/],
    ];
    for (const [name, message] of cases) {
      assert.throws(
        () => parseSliceName(name),
        (err: unknown) => err instanceof QueryError && err.field === 'name' && message.test(err.message),
        String(name),
      );
    }
  });
});
