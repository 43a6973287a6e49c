import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { NUMERIC_ATTRIBUTES } from '../../src/slices/query-attributes.js';
import { formatQuery, parseQuery } from '../../src/slices/query.js';

const docs = readFileSync(new URL('../../../src/slices/QUERY.md', import.meta.url), 'utf8');

describe('src/slices/QUERY.md', () => {
  it('documents every attribute and alias in the attribute table', () => {
    const rows = docs.split('\n').filter((line) => line.startsWith('| `'));
    for (const info of NUMERIC_ATTRIBUTES) {
      const row = rows.find((r) => r.startsWith(`| \`${info.name}\` |`));
      assert.ok(row, `a row for ${info.name}`);
      for (const alias of info.aliases) assert.ok(row.includes(`\`${alias}\``), `${info.name}: alias ${alias} documented`);
    }
    assert.ok(rows.some((r) => r.startsWith('| `label.KEY` |')));
  });

  it('shows examples that parse, and a canonical form that is really canonical', () => {
    const examples = [...docs.matchAll(/--where '([^']*)'/g)].map((m) => m[1]);
    const where = docs.slice(docs.indexOf('## `--where`'));
    const block = /```text\n([\s\S]*?)```/.exec(where);
    assert.ok(block, 'the --where section has a text block of examples');
    examples.push(...block[1].trim().split('\n'));
    assert.ok(examples.length >= 5);
    for (const text of examples.filter((e) => !e.includes('ram'))) assert.doesNotThrow(() => parseQuery(text), text);
    const canonical = /where (.*) ranked by/.exec(docs);
    assert.ok(canonical);
    assert.equal(formatQuery(parseQuery(canonical[1])), canonical[1]);
  });

  it('quotes the error message the parser really gives', () => {
    let message = '';
    try {
      parseQuery('cores>=4, ram>=8GiB');
    } catch (err) {
      message = (err as Error).message;
    }
    assert.ok(docs.includes(message.slice(0, message.indexOf('mem,') + 4)), message);
  });
});
