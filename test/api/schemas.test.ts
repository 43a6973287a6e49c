/**
 * The API schemas are JSON Schema literals: what a builder did for us (every property required
 * unless marked optional, objects closed) is checked here, for every object in every schema.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as schemas from '../../src/api/schemas.js';

/** The properties that are optional on purpose, as "<exported schema>.<path>". */
const OPTIONAL = new Set(['HealthCheckSchema.detail', 'HealthSchema.checks[].detail', 'PeersQuerySchema.limit', 'NetworkSchema.userSlices']);

interface Found {
  readonly path: string;
  readonly schema: Record<string, unknown>;
}

/** Every object schema under `schema`, with its path ("Name.prop.items[]..."). */
function objectsIn(path: string, schema: unknown, found: Found[] = []): Found[] {
  if (typeof schema !== 'object' || schema === null) return found;
  const s = schema as Record<string, unknown>;
  if (s.type === 'object') found.push({ path, schema: s });
  for (const [key, value] of Object.entries((s.properties as Record<string, unknown> | undefined) ?? {})) objectsIn(`${path}.${key}`, value, found);
  if (s.items) objectsIn(`${path}[]`, s.items, found);
  for (const branch of (s.anyOf as unknown[] | undefined) ?? []) objectsIn(path, branch, found);
  for (const value of Object.values((s.patternProperties as Record<string, unknown> | undefined) ?? {})) objectsIn(`${path}{}`, value, found);
  return found;
}

const exported = Object.entries(schemas).filter(([name]) => name.endsWith('Schema'));

describe('API schemas', () => {
  it('exports the schemas the routes use', () => {
    for (const name of ['NodeInfoSchema', 'PeersSchema', 'PeerSchema', 'NetworkSchema', 'HealthSchema', 'ErrorSchema', 'PeersQuerySchema', 'PeerParamsSchema']) {
      assert.ok(exported.some(([n]) => n === name), name);
    }
  });

  it('every object requires each of its properties, except the optional ones, and no others', () => {
    let checked = 0;
    for (const [name, schema] of exported) {
      for (const { path, schema: object } of objectsIn(name, schema)) {
        const properties = Object.keys((object.properties as Record<string, unknown> | undefined) ?? {});
        const required = (object.required as string[] | undefined) ?? [];
        const expected = properties.filter((p) => !OPTIONAL.has(`${path}.${p}`));
        assert.deepEqual(required, expected, `${path}: required`);
        checked++;
      }
    }
    assert.ok(checked > 20, `only ${checked} object schemas found`);
  });

  it('every object with properties is closed (additionalProperties: false)', () => {
    for (const [name, schema] of exported) {
      for (const { path, schema: object } of objectsIn(name, schema)) {
        if (object.properties === undefined) continue;
        assert.equal(object.additionalProperties, false, `${path}: additionalProperties`);
      }
    }
  });

  it('the optional properties exist (the list above is not stale)', () => {
    const paths = new Set<string>();
    for (const [name, schema] of exported) {
      for (const { path, schema: object } of objectsIn(name, schema)) for (const p of Object.keys((object.properties as object | undefined) ?? {})) paths.add(`${path}.${p}`);
    }
    for (const optional of OPTIONAL) assert.ok(paths.has(optional), optional);
  });
});
