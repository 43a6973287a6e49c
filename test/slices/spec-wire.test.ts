import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { QueryError } from '../../src/slices/query-errors.js';
import { queryFromWire, queryToWire } from '../../src/slices/query-wire.js';
import { parseQuery } from '../../src/slices/query.js';
import { specFromWire, specToWire, type WireSliceSpec } from '../../src/slices/spec-wire.js';
import { parseSliceSpec, type SliceSpec } from '../../src/slices/spec.js';

const specs: SliceSpec[] = [
  parseSliceSpec({ name: 'web', nodes: 20, where: 'cores>=4, mem>=8GiB, label.zone=lab2, cpu>1200, disk>=100GB, availability>=0.9, load<1', rank: 'cpu' }),
  parseSliceSpec({ name: 'batch', fraction: '5%', rank: 'load', keepSize: true }),
  parseSliceSpec({ name: 'x', nodes: 1 }),
  parseSliceSpec({
    name: 'all-attributes',
    fraction: 0.333,
    where: 'freeCores>0.5, capacity>=4000, freeMem>=1.1KB, freeDisk>=1TiB, uptime>1h30m, availability.day>=99.5%, label.rack!=r1',
    rank: 'availability.day:asc',
  }),
];

/** What a peer would receive: the wire form through JSON. */
function overJson(wire: unknown): unknown {
  return JSON.parse(JSON.stringify(wire));
}

function wireRejects(data: unknown, message: RegExp): void {
  assert.throws(
    () => specFromWire(data),
    (err: unknown) => {
      assert.ok(err instanceof QueryError, `expected a QueryError, got ${String(err)}`);
      assert.equal(err.field, 'wire');
      assert.match(err.message, /^malformed slice request: /);
      assert.match(err.message, message);
      return true;
    },
  );
}

function valid(): Record<string, unknown> {
  return structuredClone(specToWire(specs[0])) as unknown as Record<string, unknown>;
}

function withPredicate(predicate: unknown): Record<string, unknown> {
  return { ...valid(), where: [predicate] };
}

describe('slice spec wire form', () => {
  it('is compact JSON with canonical names and base units', () => {
    assert.deepEqual(specToWire(parseSliceSpec({ name: 'web', nodes: 2, where: 'memory>=8GiB and label.zone=lab2', rank: 'cpu' })), {
      v: 1,
      name: 'web',
      nodes: 2,
      where: [
        { attr: 'mem', op: '>=', value: 8 * 2 ** 30 },
        { attr: 'label.zone', op: '=', value: 'lab2' },
      ],
      rank: { attr: 'cpu', order: 'desc' },
      keepSize: false,
    } satisfies WireSliceSpec);
    assert.deepEqual(specToWire(specs[1]), { v: 1, name: 'batch', fraction: 0.05, where: [], rank: { attr: 'load', order: 'asc' }, keepSize: true });
  });

  it('round-trips through JSON to an equal spec', () => {
    for (const spec of specs) assert.deepEqual(specFromWire(overJson(specToWire(spec))), spec, spec.name);
  });

  it('round-trips queries on their own', () => {
    const q = parseQuery('cores>=4, label.zone!=lab2, uptime>=3d');
    assert.deepEqual(queryFromWire(overJson(queryToWire(q))), q);
    assert.throws(() => queryFromWire({}), (err: unknown) => err instanceof QueryError && /^malformed slice request: where: /.test(err.message));
  });

  it('normalizes -0 to 0', () => {
    const spec = specFromWire(withPredicate({ attr: 'cores', op: '>=', value: -0 }));
    assert.ok(Object.is(spec.where.predicates[0].value, 0));
  });
});

describe('specFromWire refuses', () => {
  it('anything that is not a version-1 object of the right shape', () => {
    wireRejects(null, /expected object/);
    wireRejects('web', /expected object/);
    wireRejects([valid()], /expected object/);
    wireRejects({ ...valid(), v: 2 }, /^malformed slice request: v: unsupported format version \(this node reads version 1\)/);
    const { v: _v, ...noVersion } = valid();
    wireRejects(noVersion, /v: unsupported format version/);
    wireRejects({ ...valid(), extra: 1 }, /Unrecognized key.*extra/);
    wireRejects(JSON.parse(`{"__proto__":{"polluted":1},${JSON.stringify(valid()).slice(1)}`), /Unrecognized key.*__proto__/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('bad names and counts', () => {
    wireRejects({ ...valid(), name: 7 }, /name: Invalid input: expected string/);
    wireRejects({ ...valid(), name: 'Web' }, /name: slice name "Web" is not valid/);
    wireRejects({ ...valid(), name: 'a'.repeat(10_000) }, /name: Too big/);
    wireRejects({ ...valid(), nodes: 0 }, /nodes\/fraction: the number of nodes must be a whole number/);
    wireRejects({ ...valid(), nodes: 2.5 }, /whole number/);
    wireRejects({ ...valid(), nodes: '20' }, /nodes: Invalid input: expected number/);
    wireRejects({ ...valid(), fraction: 0.5 }, /not both/);
    const { nodes: _n, ...noCount } = valid();
    wireRejects(noCount, /give a number of nodes or a fraction/);
    wireRejects({ ...noCount, fraction: 1.5 }, /the fraction must be more than 0% and at most 100%, got 1.5/);
    wireRejects({ ...noCount, fraction: 0 }, /more than 0%/);
    wireRejects({ ...noCount, fraction: Number.NaN }, /fraction: Invalid input: expected number, received NaN/);
    wireRejects({ ...valid(), keepSize: 'yes' }, /keepSize: Invalid input: expected boolean/);
  });

  it('bad predicates: shape, attribute, operator, value', () => {
    wireRejects({ ...valid(), where: 'cores>=4' }, /where: Invalid input: expected array/);
    wireRejects({ ...valid(), where: Array.from({ length: 17 }, () => ({ attr: 'cores', op: '>=', value: 1 })) }, /where: Too big: expected array to have <=16 items/);
    wireRejects(withPredicate(['cores', '>=', 4]), /where\[0\]: Invalid input: expected object/);
    wireRejects(withPredicate({ attr: 'cores', op: '>=', value: 4, why: 1 }), /where\[0\]: Unrecognized key/);
    wireRejects(withPredicate({ attr: 'ram', op: '>=', value: 4 }), /where\[0\]\.attr: unknown attribute "ram"/);
    wireRejects(withPredicate({ attr: 'memory', op: '>=', value: 4 }), /unknown attribute "memory"/);
    wireRejects(withPredicate({ attr: 'CORES', op: '>=', value: 4 }), /unknown attribute "CORES"/);
    wireRejects(withPredicate({ attr: 'label.Zone', op: '=', value: 'a' }), /label key "Zone" is not valid/);
    wireRejects(withPredicate({ attr: `label.${'k'.repeat(200)}`, op: '=', value: 'a' }), /where\[0\]\.attr: Too big/);
    wireRejects(withPredicate({ attr: 'cores', op: '=>', value: 4 }), /where\[0\]\.op: "=>" is not an operator/);
    wireRejects(withPredicate({ attr: 'cores', op: '>=>=', value: 4 }), /where\[0\]\.op: Too big/);
    wireRejects(withPredicate({ attr: 'label.zone', op: '<', value: 'a' }), /labels only support = and !=/);
    wireRejects(withPredicate({ attr: 'label.zone', op: '=', value: 2 }), /a label value must be a string, got 2/);
    wireRejects(withPredicate({ attr: 'label.zone', op: '=', value: 'lab 2' }), /label value "lab 2" is not valid/);
    wireRejects(withPredicate({ attr: 'label.zone', op: '=', value: 'a'.repeat(100_000) }), /100000 characters, at most 128/);
    wireRejects(withPredicate({ attr: 'cores', op: '>=', value: '4' }), /where\[0\]\.value: cores takes a number, got "4"/);
    wireRejects(withPredicate({ attr: 'cores', op: '>=' }), /cores takes a number, got nothing/);
    wireRejects(withPredicate({ attr: 'cores', op: '>=', value: -1 }), /-1 is negative/);
    wireRejects(withPredicate({ attr: 'cores', op: '>=', value: Number.POSITIVE_INFINITY }), /not a finite number/);
    wireRejects(withPredicate({ attr: 'cores', op: '>=', value: 1e300 }), /too large/);
    wireRejects(withPredicate({ attr: 'mem', op: '>=', value: 1.5 }), /not a whole number of bytes/);
    wireRejects(withPredicate({ attr: 'uptime', op: '>=', value: 0.5 }), /not a whole number of milliseconds/);
    wireRejects(withPredicate({ attr: 'availability', op: '>=', value: 90 }), /90 is more than 1/);
  });

  it('bad rankings', () => {
    wireRejects({ ...valid(), rank: 'cpu' }, /rank: Invalid input: expected object/);
    wireRejects({ ...valid(), rank: { attr: 'label.zone', order: 'asc' } }, /rank\.attr: cannot rank by "label.zone"/);
    wireRejects({ ...valid(), rank: { attr: 'ram', order: 'asc' } }, /cannot rank by "ram"/);
    wireRejects({ ...valid(), rank: { attr: 'cpu', order: 'up' } }, /rank\.order: Invalid option/);
    wireRejects({ ...valid(), rank: { attr: 'cpu' } }, /rank\.order/);
  });
});

describe('specFromWire on random and mutated input', () => {
  const pool: unknown[] = [
    null,
    true,
    false,
    0,
    -0,
    1,
    -1,
    0.5,
    2.5,
    17,
    1e300,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '',
    'cores',
    'label.zone',
    '>=',
    '=',
    'asc',
    'x'.repeat(300),
    'Web',
    '__proto__',
    [],
    {},
    [{ attr: 'cores', op: '>=', value: 1 }],
    { attr: 'cpu', order: 'desc' },
    undefined,
  ];
  const keys = ['v', 'name', 'nodes', 'fraction', 'where', 'rank', 'keepSize', 'attr', 'op', 'value', 'order', 'extra', 'constructor'];

  const predicateTexts = [
    'cores>=4',
    'freeCores>0.5',
    'cpu>1200',
    'capacity<=9000',
    'mem>=8GiB',
    'freeMem>1.5GB',
    'disk!=0',
    'freeDisk>=10TiB',
    'load<1',
    'uptime>=2h',
    'availability>=90%',
    'availability.day=1',
    'label.zone=lab2',
    'label.rack!=r:1/a',
  ];
  const rankTexts = ['cpu', 'load', 'mem:asc', 'availability.day', 'uptime:desc'];

  /** A random request a user could have typed. */
  function randomValidSpec(random: SeededRandom): SliceSpec {
    const where = Array.from({ length: random.int(17) }, () => pick(random, predicateTexts)).join(' and ');
    const count = random.int(2) === 0 ? { nodes: 1 + random.int(1000) } : { fraction: `${(1 + random.int(1000)) / 10}%` };
    const rank = random.int(3) === 0 ? undefined : pick(random, rankTexts);
    return parseSliceSpec({ name: `s${random.int(1000)}`, ...count, where, rank, keepSize: random.int(2) === 0 });
  }

  function pick<T>(random: SeededRandom, items: readonly T[]): T {
    return items[random.int(items.length)];
  }

  function randomValue(random: SeededRandom, depth: number): unknown {
    const r = random.int(10);
    if (depth > 3 || r < 6) return structuredClone(pick(random, pool));
    if (r < 8) return Array.from({ length: random.int(4) }, () => randomValue(random, depth + 1));
    return Object.fromEntries(Array.from({ length: random.int(4) }, () => [pick(random, keys), randomValue(random, depth + 1)]));
  }

  /** Replaces, deletes or adds one field somewhere in the object tree. */
  function mutate(random: SeededRandom, node: unknown, depth: number): unknown {
    if (typeof node !== 'object' || node === null || depth > 3 || random.int(4) === 0) return randomValue(random, depth);
    if (Array.isArray(node)) {
      const copy = [...node];
      if (copy.length === 0 || random.int(5) === 0) copy.push(randomValue(random, depth + 1));
      else {
        const i = random.int(copy.length);
        copy[i] = mutate(random, copy[i], depth + 1);
      }
      return copy;
    }
    const copy: Record<string, unknown> = { ...(node as Record<string, unknown>) };
    const fields = Object.keys(copy);
    const action = random.int(5);
    if (action === 0 && fields.length > 0) delete copy[pick(random, fields)];
    else if (action === 1) copy[pick(random, keys)] = randomValue(random, depth + 1);
    else if (fields.length > 0) {
      const key = pick(random, fields);
      copy[key] = mutate(random, copy[key], depth + 1);
    }
    return copy;
  }

  it('throws nothing but QueryError, and what it accepts is a valid spec that round-trips', () => {
    const random = new SeededRandom('slice-wire-fuzz');
    const bases = specs.map(specToWire);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      if (i % 4 === 0) {
        const spec = randomValidSpec(random);
        assert.deepEqual(specFromWire(overJson(specToWire(spec))), spec);
        accepted++;
        continue;
      }
      let data: unknown = i % 4 === 3 ? randomValue(random, 0) : pick(random, bases);
      const rounds = 1 + random.int(3);
      for (let k = 0; k < rounds; k++) data = mutate(random, data, 0);
      if (random.int(2) === 0) {
        // Half of the inputs as a peer would send them: through JSON (NaN becomes null, undefined disappears).
        data = JSON.parse(JSON.stringify(data) ?? 'null') as unknown;
      }
      let spec: SliceSpec;
      try {
        spec = specFromWire(data);
      } catch (err) {
        assert.ok(err instanceof QueryError && err.field === 'wire', `${JSON.stringify(data)} threw ${String(err)}`);
        rejected++;
        continue;
      }
      accepted++;
      // Accepted means fully valid: the user-facing parser agrees, and the wire form is stable.
      assert.deepEqual(specFromWire(overJson(specToWire(spec))), spec);
      assert.ok(spec.where.predicates.length <= 16);
    }
    assert.ok(accepted >= 750 && rejected > 1000, `accepted ${accepted}, rejected ${rejected}`);
  });
});
