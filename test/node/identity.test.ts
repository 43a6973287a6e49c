import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  IDENTITY_FILE,
  IdentityError,
  NODE_ID_LENGTH,
  createIdentity,
  generateIdentity,
  isValidNodeId,
  loadIdentity,
  nodeIdFromPublicKey,
  sign,
  verify,
} from '../../src/node/identity.js';

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'peercloud-identity-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof IdentityError, `expected IdentityError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

test('node id: pc + lowercase unpadded base32 of the first 20 bytes of SHA-256(public key)', () => {
  const key = new Uint8Array(32).map((_, i) => i);
  const id = nodeIdFromPublicKey(key);
  assert.equal(id.length, NODE_ID_LENGTH);
  assert.equal(NODE_ID_LENGTH, 34);
  assert.match(id, /^pc[a-z2-7]{32}$/);
  // Independent base32: bit string of the digest prefix, 5 bits at a time.
  const digest = createHash('sha256').update(key).digest().subarray(0, 20);
  const bits = [...digest].map((b) => b.toString(2).padStart(8, '0')).join('');
  const expected = 'pc' + bits.match(/.{5}/g)!.map((chunk) => 'abcdefghijklmnopqrstuvwxyz234567'[parseInt(chunk, 2)]).join('');
  assert.equal(id, expected);
  assert.notEqual(nodeIdFromPublicKey(new Uint8Array(32)), id);
  assert.throws(() => nodeIdFromPublicKey(new Uint8Array(31)), RangeError);
});

test('isValidNodeId accepts derived ids and rejects near misses', () => {
  const id = generateIdentity().nodeId;
  assert.ok(isValidNodeId(id));
  assert.ok(!isValidNodeId(id.toUpperCase()));
  assert.ok(!isValidNodeId(id.slice(0, -1)));
  assert.ok(!isValidNodeId(`${id}a`));
  assert.ok(!isValidNodeId(`xx${id.slice(2)}`));
  assert.ok(!isValidNodeId(`${id.slice(0, -1)}1`)); // 1 is not in the base32 alphabet
  assert.ok(!isValidNodeId(42));
  assert.ok(!isValidNodeId(undefined));
});

test('sign/verify: valid signatures verify, anything else is false and never throws', () => {
  const alice = generateIdentity();
  const bob = generateIdentity();
  const message = new TextEncoder().encode('descriptor');
  const sig = sign(alice, message);
  assert.equal(sig.length, 64);
  assert.ok(verify(alice.publicKey, message, sig));
  assert.ok(!verify(bob.publicKey, message, sig), 'wrong key');
  assert.ok(!verify(alice.publicKey, new TextEncoder().encode('descriptoR'), sig), 'tampered message');
  const flipped = Uint8Array.from(sig);
  flipped[10] ^= 1;
  assert.ok(!verify(alice.publicKey, message, flipped), 'tampered signature');
  assert.ok(!verify(alice.publicKey, message, sig.subarray(0, 63)), 'short signature');
  assert.ok(!verify(alice.publicKey.subarray(0, 31), message, sig), 'short key');
  assert.ok(!verify(new Uint8Array(32).fill(0xff), message, sig), 'not a curve point');
  // Garbage of the wrong types, as a decoder bug might pass.
  assert.ok(!verify(null as unknown as Uint8Array, message, sig));
  assert.ok(!verify(alice.publicKey, 'text' as unknown as Uint8Array, sig));
  assert.ok(!verify(alice.publicKey, message, [1, 2, 3] as unknown as Uint8Array));
});

test('createIdentity writes a 0600 PKCS#8 PEM that loadIdentity reads back', async () => {
  await withTempDir(async (dir) => {
    const dataDir = join(dir, 'nested', 'data');
    const created = await createIdentity(dataDir);
    const path = join(dataDir, IDENTITY_FILE);
    const pem = await readFile(path, 'utf8');
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);
    const warnings: string[] = [];
    const loaded = await loadIdentity(dataDir, { warn: (m) => warnings.push(m) });
    assert.equal(loaded.nodeId, created.nodeId);
    assert.deepEqual(loaded.publicKey, created.publicKey);
    assert.deepEqual(warnings, []);
    // The loaded key signs what the created public key verifies.
    const msg = new Uint8Array([1, 2, 3]);
    assert.ok(verify(created.publicKey, msg, sign(loaded, msg)));
  });
});

test('createIdentity refuses to overwrite an identity unless forced', async () => {
  await withTempDir(async (dir) => {
    const first = await createIdentity(dir);
    await rejectsWith(createIdentity(dir), 'EXISTS', /already exists.*force/);
    assert.equal((await loadIdentity(dir)).nodeId, first.nodeId, 'the old identity is intact');
    const second = await createIdentity(dir, { force: true });
    assert.notEqual(second.nodeId, first.nodeId);
    assert.equal((await loadIdentity(dir)).nodeId, second.nodeId);
    if (process.platform !== 'win32') assert.equal((await stat(join(dir, IDENTITY_FILE))).mode & 0o777, 0o600);
  });
});

test('loadIdentity: missing, corrupt and wrong-type key files give clear errors', async () => {
  await withTempDir(async (dir) => {
    await rejectsWith(loadIdentity(dir), 'MISSING', /no identity at .*identity\.key.*peercloud init/);
    const path = join(dir, IDENTITY_FILE);
    await writeFile(path, 'not a key at all\n', { mode: 0o600 });
    await rejectsWith(loadIdentity(dir), 'CORRUPT', /identity\.key is not a readable PEM private key/);
    const pem = generateIdentity().privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await writeFile(path, pem.slice(0, 60), { mode: 0o600 });
    await rejectsWith(loadIdentity(dir), 'CORRUPT', /not a readable PEM/);
    const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await writeFile(path, ecKey, { mode: 0o600 });
    await rejectsWith(loadIdentity(dir), 'WRONG_KEY_TYPE', /holds a ec key; peercloud needs Ed25519/);
  });
});

test('loadIdentity warns when the key file is readable by others', { skip: process.platform === 'win32' }, async () => {
  await withTempDir(async (dir) => {
    const created = await createIdentity(dir);
    await chmod(join(dir, IDENTITY_FILE), 0o644);
    const warnings: string[] = [];
    const loaded = await loadIdentity(dir, { warn: (m) => warnings.push(m) });
    assert.equal(loaded.nodeId, created.nodeId, 'still loads');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /accessible by other users \(mode 644\).*chmod 600/);
  });
});
