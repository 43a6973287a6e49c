/**
 * Snapshots come from untrusted peers: decodeSnapshot must give back exactly what was encoded and
 * refuse everything else with a message that names the field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_SNAPSHOT_BYTES, MAX_VIEW_ENTRIES, type NodeSnapshot, SnapshotError, decodeSnapshot, encodeSnapshot } from '../../src/monitoring/snapshot.js';
import { USER_ID, makeSnapshot, nodeIdOf } from './fixtures.js';

const ID = nodeIdOf(1);

function full(): NodeSnapshot {
  const s = makeSnapshot(ID, 7946, [1, 2, 3].map((i) => ({ id: nodeIdOf(10 + i), port: 8000 + i })));
  return {
    ...s,
    slice: { sliceId: 'ab'.repeat(16), name: 'web', ownerNode: nodeIdOf(11), ownerUser: USER_ID },
    ring: { predecessor: nodeIdOf(11), successor: nodeIdOf(12) },
  };
}

const bytes = (text: string) => new TextEncoder().encode(text);

/** Decodes the JSON of `full()` changed by `edit`; returns the error message. */
function refusal(edit: (s: Record<string, any>) => void): string {
  const s = JSON.parse(JSON.stringify(full())) as Record<string, any>;
  edit(s);
  return refusalOf(bytes(JSON.stringify(s)));
}

function refusalOf(input: Uint8Array): string {
  try {
    decodeSnapshot(input);
  } catch (err) {
    assert.ok(err instanceof SnapshotError, `expected a SnapshotError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('decodeSnapshot accepted it');
}

describe('snapshot', () => {
  it('round-trips through encode and decode, with and without a slice', () => {
    for (const s of [full(), makeSnapshot(ID, 1)]) {
      const decoded = decodeSnapshot(encodeSnapshot(s));
      assert.deepEqual(decoded, s);
    }
    const withApiHidden = { ...full(), api: null };
    assert.deepEqual(decodeSnapshot(encodeSnapshot(withApiHidden)), withApiHidden);
  });

  it('accepts a full 200-entry view, and slice ids of any length the slice protocol accepts', () => {
    const view = Array.from({ length: MAX_VIEW_ENTRIES }, (_, i) => ({ id: nodeIdOf(100 + i), port: 1 + i }));
    const big = makeSnapshot(ID, 7946, view);
    const encoded = encodeSnapshot(big);
    assert.ok(encoded.length < MAX_SNAPSHOT_BYTES / 2, `a full view is ${encoded.length} bytes`);
    assert.equal(decodeSnapshot(encoded).view.length, MAX_VIEW_ENTRIES);
    // Slice messages (src/slices/messages.ts) take 16..64 hex digits: a member of such a slice
    // must still be readable.
    for (const sliceId of ['a'.repeat(16), 'b'.repeat(64)]) {
      const s = { ...full(), slice: { ...full().slice!, sliceId } };
      assert.equal(decodeSnapshot(encodeSnapshot(s)).slice?.sliceId, sliceId);
    }
  });

  it('refuses oversized input before parsing it', () => {
    const huge = new Uint8Array(MAX_SNAPSHOT_BYTES + 1).fill(0x20);
    assert.match(refusalOf(huge), new RegExp(`${MAX_SNAPSHOT_BYTES + 1} bytes is larger than ${MAX_SNAPSHOT_BYTES}`));
  });

  it('refuses bytes that are not UTF-8, and text that is not JSON', () => {
    assert.match(refusalOf(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /not UTF-8/);
    const valid = encodeSnapshot(full());
    const cut = valid.subarray(0, valid.length - 1);
    assert.match(refusalOf(cut), /not JSON/);
    assert.match(refusalOf(bytes('')), /not JSON/);
    assert.match(refusalOf(bytes('NaN')), /not JSON/);
  });

  it('refuses a root that is not an object', () => {
    for (const text of ['null', '[]', '42', '"snapshot"']) assert.match(refusalOf(bytes(text)), /invalid snapshot at \(root\)/, text);
  });

  it('refuses missing fields, naming them', () => {
    assert.match(refusal((s) => delete s.id), /at id:/);
    assert.match(refusal((s) => delete s.attributes.cores), /at attributes\.cores:/);
    assert.match(refusal((s) => delete s.network.averageLoad), /at network\.averageLoad:/);
    assert.match(refusal((s) => delete s.ring), /at ring:/);
    assert.match(refusal((s) => delete s.takenAt), /at takenAt:/);
  });

  it('refuses extra fields anywhere, naming them', () => {
    assert.match(refusal((s) => (s.secret = 1)), /\(root\).*"secret"/);
    assert.match(refusal((s) => (s.address.zone = 'x')), /at address:.*"zone"/);
    assert.match(refusal((s) => (s.view[1].age = 3)), /at view\.1:.*"age"/);
    assert.match(refusal((s) => (s.slice.group = 3)), /at slice:.*"group"/);
    assert.match(refusal((s) => (s.attributes.gpu = 1)), /at attributes:.*"gpu"/);
  });

  it('refuses bad node ids, user ids and slice ids, naming the field', () => {
    assert.match(refusal((s) => (s.id = 'pcABC')), /at id:/);
    assert.match(refusal((s) => (s.id = ID.replace('pc', 'pu'))), /at id:/);
    assert.match(refusal((s) => (s.view[2].id = ID + 'a')), /at view\.2\.id:/);
    assert.match(refusal((s) => (s.ring.successor = 'pc' + '1'.repeat(32))), /at ring\.successor:/);
    assert.match(refusal((s) => (s.slice.ownerUser = ID)), /at slice\.ownerUser:/);
    assert.match(refusal((s) => (s.slice.sliceId = 'XYZ')), /at slice\.sliceId:/);
    assert.match(refusal((s) => (s.slice.name = '')), /at slice\.name:/);
  });

  it('refuses a view longer than MAX_VIEW_ENTRIES and bad view addresses', () => {
    assert.match(
      refusal((s) => (s.view = Array.from({ length: MAX_VIEW_ENTRIES + 1 }, (_, i) => ({ id: nodeIdOf(i), host: 'h', port: 1 })))),
      /at view:/,
    );
    assert.match(refusal((s) => (s.view[0].port = 0)), /at view\.0\.port:/);
    assert.match(refusal((s) => (s.view[0].port = 70_000)), /at view\.0\.port:/);
    assert.match(refusal((s) => (s.view[0].host = '')), /at view\.0\.host:/);
    assert.match(refusal((s) => (s.address.host = 'h'.repeat(256))), /at address\.host:/);
  });

  it('refuses NaN-ish and out-of-range numbers, naming the field', () => {
    // JSON has no NaN or Infinity: a sender's NaN arrives as null, an overflowing literal as Infinity.
    assert.match(refusalOf(encodeSnapshot({ ...full(), uptimeMs: Number.NaN })), /at uptimeMs:/);
    const text = JSON.stringify(full()).replace('"uptimeMs":5000', '"uptimeMs":1e999');
    assert.match(refusalOf(bytes(text)), /at uptimeMs:/);
    assert.match(refusal((s) => (s.attributes.cpuScore = 'NaN')), /at attributes\.cpuScore:/);
    assert.match(refusal((s) => (s.attributes.memoryFreeBytes = -1)), /at attributes\.memoryFreeBytes:/);
    assert.match(refusal((s) => (s.attributes.cores = 2.5)), /at attributes\.cores:/);
    assert.match(refusal((s) => (s.attributes.availabilityDay = 1.5)), /at attributes\.availabilityDay:/);
    assert.match(refusal((s) => (s.network.size = '12')), /at network\.size:/);
    assert.match(refusal((s) => (s.address.port = 1.5)), /at address\.port:/);
    assert.match(refusal((s) => (s.v = 2)), /at v:/);
    // An estimate may be null (no estimate yet); a measured attribute may not.
    assert.equal(decodeSnapshot(bytes(JSON.stringify({ ...full(), network: { ...full().network, size: null } }))).network.size, null);
    assert.match(refusal((s) => (s.attributes.loadAverage = null)), /at attributes\.loadAverage:/);
  });

  it('refuses too many or too long labels and long names', () => {
    assert.match(refusal((s) => (s.labels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])))), /at labels:.*32/);
    assert.match(refusal((s) => (s.labels = { zone: 'x'.repeat(257) })), /at labels\.zone:/);
    assert.match(refusal((s) => (s.labels = { zone: 5 })), /at labels\.zone:/);
    assert.match(refusal((s) => (s.name = 'n'.repeat(65))), /at name:/);
    assert.match(refusal((s) => (s.version = 'v'.repeat(33))), /at version:/);
  });
});
