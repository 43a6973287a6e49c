import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { QueryError } from '../../src/slices/query-errors.js';
import { EMPTY_QUERY, formatQuery, MAX_PREDICATES, MAX_QUERY_LENGTH, parseQuery, type Predicate, type Query } from '../../src/slices/query.js';

const GiB = 2 ** 30;
const HOUR = 3_600_000;

function single(text: string): Predicate {
  const q = parseQuery(text);
  assert.equal(q.predicates.length, 1, `${text} should give one predicate`);
  return q.predicates[0];
}

function value(text: string): number | string {
  return single(text).value;
}

function rejects(text: string, column: number | undefined, message: RegExp): QueryError {
  let caught: unknown;
  try {
    parseQuery(text);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof QueryError, `${JSON.stringify(text)} should be rejected with a QueryError, got ${String(caught)}`);
  assert.equal(caught.field, 'where');
  assert.equal(caught.column, column, `column of the problem in ${JSON.stringify(text)}: ${caught.message}`);
  assert.match(caught.message, message);
  return caught;
}

describe('parseQuery accepts', () => {
  it('the example from the issue, with every value in base units', () => {
    const q = parseQuery('cores>=4, mem>=8GiB, label.zone=lab2, cpu>1200, disk>=100GB, availability>=0.9, load<1');
    assert.deepEqual(q.predicates, [
      { kind: 'numeric', attribute: 'cores', op: '>=', value: 4 },
      { kind: 'numeric', attribute: 'mem', op: '>=', value: 8 * GiB },
      { kind: 'label', key: 'zone', op: '=', value: 'lab2' },
      { kind: 'numeric', attribute: 'cpu', op: '>', value: 1200 },
      { kind: 'numeric', attribute: 'disk', op: '>=', value: 100e9 },
      { kind: 'numeric', attribute: 'availability', op: '>=', value: 0.9 },
      { kind: 'numeric', attribute: 'load', op: '<', value: 1 },
    ]);
  });

  it('"," and "and" (any case) as separators, with or without spaces', () => {
    const expected = parseQuery('cores>=4, mem>=8GiB, load<1');
    for (const text of [
      'cores>=4,mem>=8GiB,load<1',
      'cores>=4 and mem>=8GiB and load<1',
      'cores>=4 AND mem>=8GiB And load<1',
      '  cores >= 4 ,\tmem >= 8GiB and\nload < 1  ',
      'cores>=4 , mem>=8GiB aNd load<1',
    ]) {
      assert.deepEqual(parseQuery(text), expected, text);
    }
  });

  it('an empty or blank text as the empty query', () => {
    assert.equal(parseQuery(''), EMPTY_QUERY);
    assert.equal(parseQuery('   \t'), EMPTY_QUERY);
    assert.equal(formatQuery(EMPTY_QUERY), '');
  });

  it('every operator, and == as =', () => {
    for (const op of ['=', '!=', '<', '<=', '>', '>='] as const) assert.equal(single(`cores${op}4`).op, op);
    assert.equal(single('cores==4').op, '=');
    assert.equal(single('label.zone==a').op, '=');
    assert.equal(single('label.zone!=a').op, '!=');
  });

  it('attribute names in any case, with their aliases', () => {
    const names: Array<[string, string]> = [
      ['cores', 'cores'],
      ['CORES', 'cores'],
      ['freeCores', 'freeCores'],
      ['free-cores', 'freeCores'],
      ['freecores', 'freeCores'],
      ['cpu', 'cpu'],
      ['capacity', 'capacity'],
      ['memory', 'mem'],
      ['Mem', 'mem'],
      ['freeMem', 'freeMem'],
      ['free-memory', 'freeMem'],
      ['disk', 'disk'],
      ['free-disk', 'freeDisk'],
      ['load', 'load'],
    ];
    for (const [typed, canonical] of names) {
      const p = single(`${typed}>=1`);
      assert.equal(p.kind === 'numeric' && p.attribute, canonical, typed);
    }
    assert.deepEqual(single('availability>=0.5'), { kind: 'numeric', attribute: 'availability', op: '>=', value: 0.5 });
    assert.deepEqual(single('availability.week>=0.5'), { kind: 'numeric', attribute: 'availability', op: '>=', value: 0.5 });
    assert.deepEqual(single('Availability.Day>=0.5'), { kind: 'numeric', attribute: 'availability.day', op: '>=', value: 0.5 });
    assert.deepEqual(single('uptime>2h'), { kind: 'numeric', attribute: 'uptime', op: '>', value: 2 * HOUR });
  });

  it('labels: keys lowercased (they are lowercase in configs), values kept as typed, quotes removed', () => {
    assert.deepEqual(single('label.Zone=Lab2'), { kind: 'label', key: 'zone', op: '=', value: 'Lab2' });
    assert.deepEqual(single('label.topology.rack-1=r:12/a+b'), { kind: 'label', key: 'topology.rack-1', op: '=', value: 'r:12/a+b' });
    assert.deepEqual(single('label.zone="lab2"'), { kind: 'label', key: 'zone', op: '=', value: 'lab2' });
    assert.deepEqual(single("label.zone != 'lab2'"), { kind: 'label', key: 'zone', op: '!=', value: 'lab2' });
    // A label value may be a word that is elsewhere a separator or a unit.
    assert.deepEqual(single('label.mode=and'), { kind: 'label', key: 'mode', op: '=', value: 'and' });
  });

  it('a unit written apart from its number', () => {
    assert.equal(value('mem >= 8 GiB'), 8 * GiB);
    assert.equal(value('uptime > 2 h'), 2 * HOUR);
    assert.equal(value('availability >= 90 %'), 0.9);
    assert.deepEqual(parseQuery('mem>=8 and cores>=2').predicates.map((p) => p.value), [8, 2]);
  });

  it(`up to ${MAX_PREDICATES} predicates`, () => {
    const text = Array.from({ length: MAX_PREDICATES }, (_, i) => `cores>=${i}`).join(', ');
    assert.equal(parseQuery(text).predicates.length, MAX_PREDICATES);
  });
});

describe('parseQuery values', () => {
  it('sizes: decimal and binary units, any case, plain bytes, exact decimals', () => {
    const sizes: Array<[string, number]> = [
      ['0', 0],
      ['4096', 4096],
      ['512B', 512],
      ['1KB', 1e3],
      ['1MB', 1e6],
      ['1GB', 1e9],
      ['2TB', 2e12],
      ['1KiB', 1024],
      ['1MiB', 1024 ** 2],
      ['8GiB', 8 * GiB],
      ['2TiB', 2 * 1024 ** 4],
      ['8gib', 8 * GiB],
      ['8GIB', 8 * GiB],
      ['100gb', 100e9],
      ['1.5GiB', 1.5 * GiB],
      ['1.1KB', 1100],
      ['.5KiB', 512],
      ['0.25TB', 250e9],
    ];
    for (const [text, bytes] of sizes) assert.equal(value(`mem>=${text}`), bytes, text);
  });

  it('sizes: refuses what is not a size, not whole, or too large', () => {
    rejects('mem>=8GX', 6, /^"8GX" is not a size at column 6 \(a size such as 8GiB/);
    rejects('mem>=GiB', 6, /"GiB" is not a size/);
    rejects('mem>=8.GiB', 6, /"8.GiB" is not a size/);
    rejects('mem>=-1GiB', 6, /"-1GiB" is not a size/);
    rejects('mem>=1.1KiB', 6, /"1.1KiB" is not a whole number of bytes/);
    rejects('mem>=0.5B', 6, /not a whole number of bytes/);
    rejects('disk>=99999TiB', 7, /"99999TiB" is too large/);
    rejects('mem>=8 G', 8, /expected "," or "and" before "G"/);
  });

  it('durations: ms, s, m/min, h, d, w, combinations, a bare zero', () => {
    const durations: Array<[string, number]> = [
      ['0', 0],
      ['500ms', 500],
      ['90s', 90_000],
      ['10m', 600_000],
      ['10min', 600_000],
      ['2h', 2 * HOUR],
      ['2H', 2 * HOUR],
      ['1.5h', 1.5 * HOUR],
      ['3d', 72 * HOUR],
      ['1w', 168 * HOUR],
      ['1h30m', 1.5 * HOUR],
      ['1d12h', 36 * HOUR],
    ];
    for (const [text, ms] of durations) assert.equal(value(`uptime>${text}`), ms, text);
  });

  it('durations: a bare non-zero number needs a unit; other text is refused', () => {
    rejects('uptime>90', 8, /^"90" needs a unit at column 8 \(a duration such as 90s/);
    rejects('uptime>2x', 8, /"2x" is not a duration/);
    rejects('uptime>h', 8, /"h" is not a duration/);
    rejects('uptime>2hh', 8, /"2hh" is not a duration/);
    rejects('uptime>99999999999w', 8, /too large/);
  });

  it('fractions: 0..1 or a percentage', () => {
    const fractions: Array<[string, number]> = [
      ['0', 0],
      ['0.9', 0.9],
      ['.5', 0.5],
      ['1', 1],
      ['90%', 0.9],
      ['100%', 1],
      ['0%', 0],
      ['99.5%', 0.995],
    ];
    for (const [text, f] of fractions) assert.equal(value(`availability>=${text}`), f, text);
  });

  it('fractions: more than 1 or 100% is refused with a hint', () => {
    rejects('availability>=90', 15, /"90" is more than 1 at column 15 \(.*write 90% for a percentage\)/);
    rejects('availability>=150%', 15, /"150%" is more than 100%/);
    rejects('availability.day>=1.01', 19, /more than 1/);
    rejects('availability>=high', 15, /"high" is not a fraction/);
  });

  it('plain numbers: decimals and exponents; no units, signs or absurd sizes', () => {
    assert.equal(value('cores>=4.5'), 4.5);
    assert.equal(value('cpu>1e3'), 1000);
    assert.equal(value('load<.25'), 0.25);
    rejects('cores>=4GiB', 8, /^"4GiB" is not a number at column 8 \(a plain number such as 4 or 1200\)/);
    rejects('cores>=-1', 8, /"-1" is not a number/);
    rejects('cores>=1e16', 8, /"1e16" is too large/);
    rejects('cores>=four', 8, /"four" is not a number/);
  });
});

describe('parseQuery rejects', () => {
  it('unknown attributes, listing the known ones and suggesting a close one', () => {
    const err = rejects('cores>=4, ram>=8GiB', 11, /^unknown attribute "ram" at column 11 \(known: cores, freeCores, cpu, capacity, mem, .*label\.KEY\)$/);
    assert.equal(err.problem, 'unknown attribute "ram"');
    rejects('core>=4', 1, /unknown attribute "core" at column 1 \(did you mean cores\?/);
    rejects('labels.zone=a', 1, /did you mean label\.zone\?/);
    rejects('availability.month>0.5', 1, /unknown attribute "availability.month"/);
    rejects('cores>=4 and and mem>=1', 14, /unknown attribute "and"/);
  });

  it('ordering operators on labels', () => {
    rejects('label.zone>lab2', 11, /^label\.zone only supports = and != at column 11/);
    rejects('cores>=1, label.zone <= b', 22, /label\.zone only supports = and !=/);
  });

  it('bad label keys and values', () => {
    rejects('label.=x', 1, /label needs a key/);
    rejects('label.-zone=x', 1, /label key "-zone" is not valid/);
    rejects('label.zone="lab 2"', 12, /label value "lab 2" is not valid at column 12 \(1\.\.128 letters/);
    rejects('label.zone=lab 2', 16, /expected "," or "and" before "2"/);
    rejects('label.zone="lab2', 12, /unterminated double quote/);
    rejects("label.zone='lab2", 12, /unterminated single quote/);
    rejects(`label.zone=${'a'.repeat(129)}`, 12, /is not valid/);
  });

  it('missing or malformed pieces, at the right column', () => {
    rejects(',cores>=4', 1, /expected an attribute, got ","/);
    rejects('>=4', 1, /expected an attribute, got ">=4"/);
    rejects('cores', 6, /expected an operator after "cores", got the end/);
    rejects('cores 4', 7, /expected an operator after "cores", got "4"/);
    rejects('cores!4', 6, /expected an operator after "cores", got "!4"/);
    rejects('cores=>4', 6, /"=>" is not an operator at column 6 \(did you mean >=\?\)/);
    rejects('cores=<4', 6, /did you mean <=\?/);
    rejects('cores>>4', 7, /">4" is not a number/);
    rejects('cores>=', 8, /expected a value after "cores>=", got the end/);
    rejects('cores>=,mem>=1', 8, /expected a value after "cores>=", got ","/);
    rejects('cores>=4 mem>=8', 10, /expected "," or "and" before "mem>=8"/);
    rejects('cores>=4,', 10, /expected a predicate after ","/);
    rejects('cores>=4 and', 13, /expected a predicate after "and"/);
    rejects('cores>=4,,mem>=1', 10, /expected an attribute, got ","/);
  });

  it(`more than ${MAX_PREDICATES} predicates, pointing at the first one too many`, () => {
    const parts = Array.from({ length: MAX_PREDICATES + 1 }, () => 'cores>=1');
    const text = parts.join(',');
    rejects(text, MAX_PREDICATES * 'cores>=1,'.length + 1, /more than 16 predicates/);
  });

  it('an over-long text and non-text', () => {
    rejects(`cores>=1${' '.repeat(MAX_QUERY_LENGTH)}`, undefined, /characters long, at most 4096/);
    assert.throws(() => parseQuery(42 as unknown as string), (err: unknown) => err instanceof QueryError && /must be text/.test(err.message));
  });

  it('points at the problem under the typed text', () => {
    const err = rejects('cores>=4, ram>=8GiB', 11, /ram/);
    assert.equal(err.excerpt(), 'cores>=4, ram>=8GiB\n          ^');
    assert.equal(new QueryError({ field: 'wire', problem: 'x' }).excerpt(), null);
  });
});

describe('formatQuery', () => {
  it('writes the canonical text: canonical names, ", ", largest exact unit', () => {
    const cases: Array<[string, string]> = [
      ['CORES >= 4 and memory>=8192MiB', 'cores>=4, mem>=8GiB'],
      ['disk>=100000MB', 'disk>=100GB'],
      ['mem>=1.5GiB', 'mem>=1536MiB'],
      ['mem>=1000', 'mem>=1KB'],
      ['mem>=1023', 'mem>=1023B'],
      ['mem>0', 'mem>0B'],
      ['uptime>5400s', 'uptime>90m'],
      ['uptime>1.5d', 'uptime>36h'],
      ['uptime>7d', 'uptime>1w'],
      ['uptime>1500ms', 'uptime>1500ms'],
      ['uptime>0', 'uptime>0s'],
      ['availability.week>=90%', 'availability>=0.9'],
      ['free-cores>0.5', 'freeCores>0.5'],
      ['label.Zone=="lab2"', 'label.zone=lab2'],
      ['cpu>1e-7', 'cpu>1e-7'],
    ];
    for (const [text, canonical] of cases) assert.equal(formatQuery(parseQuery(text)), canonical, text);
  });

  it('parses back to an equal query', () => {
    const text = 'cores>=4, mem>=8GiB, label.zone=lab2, cpu>1200, disk>=100GB, availability>=0.9, load<1, uptime>1h30m, freeMem>=1.1KB';
    const q = parseQuery(text);
    assert.deepEqual(parseQuery(formatQuery(q)), q);
  });
});

describe('parseQuery on random and mutated text', () => {
  const seeds = [
    'cores>=4, mem>=8GiB, label.zone=lab2, cpu>1200, disk>=100GB, availability>=0.9, load<1',
    'uptime > 2 h and availability.day >= 90 % AND label.rack != "r1"',
    'free-cores>=1.5,freeDisk>=10TiB,capacity>4000',
  ];
  const alphabet = 'cores mem label.zone= !<>,and 0123456789.%GiBkKmsThd"\'\t-_:/+e';

  function mutate(random: SeededRandom, text: string): string {
    let out = text;
    const edits = 1 + random.int(4);
    for (let i = 0; i < edits; i++) {
      const at = random.int(out.length + 1);
      const ch = alphabet[random.int(alphabet.length)];
      const op = random.int(3);
      if (op === 0) out = out.slice(0, at) + ch + out.slice(at);
      else if (op === 1) out = out.slice(0, at) + out.slice(at + 1);
      else out = out.slice(0, at) + ch + out.slice(at + 1);
    }
    return out;
  }

  it('throws only QueryError with a column inside the text, and what it accepts round-trips', () => {
    const random = new SeededRandom('slice-query-fuzz');
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const text =
        i % 3 === 2
          ? Array.from({ length: random.int(40) }, () => alphabet[random.int(alphabet.length)]).join('')
          : mutate(random, seeds[i % seeds.length]);
      let query: Query;
      try {
        query = parseQuery(text);
      } catch (err) {
        assert.ok(err instanceof QueryError, `${JSON.stringify(text)} threw ${String(err)}`);
        assert.ok(err.column !== undefined && err.column >= 1 && err.column <= text.length + 1, `${JSON.stringify(text)}: column ${err.column}`);
        rejected++;
        continue;
      }
      accepted++;
      assert.deepEqual(parseQuery(formatQuery(query)), query, `${JSON.stringify(text)} -> ${formatQuery(query)}`);
    }
    // Both paths must really be exercised for the test to mean anything.
    assert.ok(accepted > 100 && rejected > 100, `accepted ${accepted}, rejected ${rejected}`);
  });
});
