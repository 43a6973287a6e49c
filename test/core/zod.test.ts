/**
 * src/core/zod.ts: zod/mini with English messages, and the only module that imports zod. Peers
 * and users read zod's messages (a refused slice message, slice spec or snapshot quotes the first
 * issue), and the daemon's memory budget relies on no module pulling in zod classic.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../src/core/package-files.js';
import * as z from '../../src/core/zod.js';

/** Every .ts/.tsx file under `dir`. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

describe('zod', () => {
  it('reports issues in English', () => {
    const schema = z.strictObject({ n: z.int().check(z.maximum(3)), order: z.enum(['asc', 'desc']) });
    const result = schema.safeParse({ n: 'x', order: 'up', extra: 1 });
    assert.equal(result.success, false);
    assert.deepEqual(
      result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      ['n: Invalid input: expected number, received string', 'order: Invalid option: expected one of "asc"|"desc"', ': Unrecognized key: "extra"'],
    );
    assert.equal(z.string().check(z.maxLength(2)).safeParse('abc').error?.issues[0]?.message, 'Too big: expected string to have <=2 characters');
  });

  it('is imported from src/core/zod.ts only, never as zod classic', () => {
    const src = join(packageRoot(), 'src');
    const own = join(src, 'core', 'zod.ts');
    const importsZod = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]zod(?:\/[^'"]*)?['"]/;
    const offenders = sourceFiles(src).filter((file) => file !== own && importsZod.test(readFileSync(file, 'utf8')));
    assert.deepEqual(offenders.map((file) => relative(src, file)), []);
  });
});
