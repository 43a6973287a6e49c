import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  USER_ID_LENGTH,
  UserKeyError,
  createUser,
  encodePublicKey,
  generateUser,
  isValidUserId,
  isValidUserName,
  listUsers,
  loadUser,
  resolveUserDir,
  userIdFromPublicKey,
} from '../../src/auth/user-identity.js';
import { nodeIdFromPublicKey } from '../../src/node/identity.js';

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'peercloud-users-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof UserKeyError, `expected UserKeyError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

test('user id: pu + the hash part of the node id of the same key; distinct from node ids', () => {
  const key = new Uint8Array(32).map((_, i) => i);
  const id = userIdFromPublicKey(key);
  assert.equal(id.length, USER_ID_LENGTH);
  assert.equal(id, `pu${nodeIdFromPublicKey(key).slice(2)}`);
  assert.ok(isValidUserId(id));
  assert.ok(!isValidUserId(nodeIdFromPublicKey(key)), 'a node id is not a user id');
  assert.notEqual(userIdFromPublicKey(new Uint8Array(32)), id);
  assert.throws(() => userIdFromPublicKey(new Uint8Array(31)), RangeError);
});

test('user names: lowercase letters, digits, dot, underscore, dash; no path tricks', () => {
  for (const ok of ['ann', 'a', 'ann.lab2', 'bob_2', 'x-y', '0day', 'a'.repeat(63)]) assert.ok(isValidUserName(ok), ok);
  for (const bad of ['', 'Ann', '../ann', 'a/b', '.hidden', '-x', 'a b', 'ann\0', 'a'.repeat(64), 'é']) assert.ok(!isValidUserName(bad), bad);
});

test('createUser writes a PKCS#8 PEM key with mode 0600 in a 0700 directory, and loadUser reads it back', async () => {
  await withTempDir(async (root) => {
    const userDir = join(root, 'nested', 'users');
    const created = await createUser('ann', { userDir });
    assert.ok(isValidUserId(created.userId));
    const path = join(userDir, 'ann.key');
    assert.match(await readFile(path, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(userDir)).mode & 0o777, 0o700);
    const loaded = await loadUser('ann', { userDir });
    assert.equal(loaded.name, 'ann');
    assert.equal(loaded.userId, created.userId);
    assert.deepEqual(loaded.publicKey, created.publicKey);
    assert.equal(encodePublicKey(loaded.publicKey).length, 43);
  });
});

test('createUser never replaces a key and refuses bad names', async () => {
  await withTempDir(async (userDir) => {
    const first = await createUser('ann', { userDir });
    await rejectsWith(createUser('ann', { userDir }), 'EXISTS', /user named "ann" already exists/);
    assert.equal((await loadUser('ann', { userDir })).userId, first.userId);
    await rejectsWith(createUser('../evil', { userDir }), 'BAD_NAME', /invalid user name "\.\.\/evil": use 1 to 63 lowercase/);
    await rejectsWith(createUser('Ann', { userDir }), 'BAD_NAME', /invalid user name "Ann"/);
  });
});

test('loadUser: missing, corrupt, wrong key type, not a file, readable by others', async () => {
  await withTempDir(async (userDir) => {
    await rejectsWith(loadUser('nobody', { userDir }), 'MISSING', /no user named "nobody" in .*; create it with `peercloud user create nobody`/);

    await writeFile(join(userDir, 'junk.key'), 'not a key', { mode: 0o600 });
    await rejectsWith(loadUser('junk', { userDir }), 'CORRUPT', /junk\.key is not a readable PEM private key/);
    await writeFile(join(userDir, 'empty.key'), '', { mode: 0o600 });
    await rejectsWith(loadUser('empty', { userDir }), 'CORRUPT', /empty\.key is not a readable PEM/);

    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await writeFile(join(userDir, 'rsa.key'), rsa, { mode: 0o600 });
    await rejectsWith(loadUser('rsa', { userDir }), 'WRONG_KEY_TYPE', /holds a rsa key; peercloud needs Ed25519/);

    await mkdir(join(userDir, 'dir.key'));
    await rejectsWith(loadUser('dir', { userDir }), 'CORRUPT', /is not a regular file/);

    const real = await createUser('real', { userDir });
    await symlink(join(userDir, 'real.key'), join(userDir, 'link.key'));
    await rejectsWith(loadUser('link', { userDir }), 'CORRUPT', /is not a regular file/);

    for (const mode of [0o644, 0o640, 0o604]) {
      await chmod(join(userDir, 'real.key'), mode);
      await rejectsWith(loadUser('real', { userDir }), 'INSECURE', new RegExp(`accessible by other accounts \\(mode ${mode.toString(8)}\\); refusing to use it: run chmod 600`));
    }
    await chmod(join(userDir, 'real.key'), 0o400);
    assert.equal((await loadUser('real', { userDir })).userId, real.userId, 'read-only for the owner is fine');
  });
});

test('listUsers: sorted, unusable keys listed with their error, other files ignored, no directory = no users', async () => {
  await withTempDir(async (root) => {
    assert.deepEqual(await listUsers({ userDir: join(root, 'absent') }), []);
    const userDir = join(root, 'users');
    const bob = await createUser('bob', { userDir });
    const ann = await createUser('ann', { userDir });
    await writeFile(join(userDir, 'broken.key'), 'garbage', { mode: 0o600 });
    await writeFile(join(userDir, 'notes.txt'), 'hello');
    await writeFile(join(userDir, 'Bad Name.key'), 'x');
    const entries = await listUsers({ userDir });
    assert.deepEqual(entries.map((e) => e.name), ['ann', 'bob', 'broken']);
    assert.equal(entries[0].user?.userId, ann.userId);
    assert.equal(entries[1].user?.userId, bob.userId);
    assert.equal(entries[2].user, undefined);
    assert.equal(entries[2].error?.code, 'CORRUPT');
  });
});

test('resolveUserDir: option, then PEERCLOUD_USER_DIR, then ~/.peercloud/users; ~ expands', () => {
  const homeDir = '/home/ann';
  assert.equal(resolveUserDir({ env: {}, homeDir }), '/home/ann/.peercloud/users');
  assert.equal(resolveUserDir({ env: { PEERCLOUD_USER_DIR: '/srv/keys' }, homeDir }), '/srv/keys');
  assert.equal(resolveUserDir({ env: { PEERCLOUD_USER_DIR: '~/k' }, homeDir }), '/home/ann/k');
  assert.equal(resolveUserDir({ userDir: '/opt/u', env: { PEERCLOUD_USER_DIR: '/srv/keys' }, homeDir }), '/opt/u');
  assert.equal(resolveUserDir({ env: { PEERCLOUD_USER_DIR: '  ' }, homeDir }), '/home/ann/.peercloud/users', 'blank means unset');
});

test('generateUser makes distinct users in memory', () => {
  const a = generateUser('a');
  const b = generateUser('b');
  assert.notEqual(a.userId, b.userId);
  assert.throws(() => generateUser('Not Valid'), UserKeyError);
});
