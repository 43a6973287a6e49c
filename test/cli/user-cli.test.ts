/**
 * `peercloud user …`, run in-process through a program built like src/cli/main.ts builds it (same
 * exit-code mapping), with the command's output captured.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Command, CommanderError } from 'commander';
import { isValidUserId, loadUser } from '../../src/auth/user-identity.js';
import { CliError } from '../../src/cli/commands/cli-error.js';
import { userCommand } from '../../src/cli/commands/user.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let root: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'peercloud-user-cli-'));
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Runs `peercloud user ARGS` with `env`, mapping errors to exit codes as main.ts does. */
async function user(args: string[], env: Record<string, string> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), env };
  const program = new Command('peercloud').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  program.addCommand(userCommand(io).exitOverride());
  try {
    await program.parseAsync(['node', 'peercloud', 'user', ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode === 0 ? 0 : 2, stdout, stderr };
    if (err instanceof CliError) return { code: err.exitCode, stdout, stderr: `${stderr}peercloud: error: ${err.message}\n` };
    throw err;
  }
}

test('user create prints the user id, writes a 0600 key, and refuses to replace it', async () => {
  const dir = join(root, 'a');
  const r = await user(['create', 'ann', '--user-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.ok(isValidUserId(id), id);
  assert.match(r.stderr, new RegExp(`created user ann in ${join(dir, 'ann.key')}`));
  assert.equal(statSync(join(dir, 'ann.key')).mode & 0o777, 0o600);
  assert.equal((await loadUser('ann', { userDir: dir })).userId, id);

  const again = await user(['create', 'ann', '--user-dir', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /error: a user named "ann" already exists .*choose another name/);
  assert.equal((await loadUser('ann', { userDir: dir })).userId, id, 'the key was not replaced');
});

test('user create --json; PEERCLOUD_USER_DIR is honoured when --user-dir is absent', async () => {
  const dir = join(root, 'env');
  const r = await user(['create', 'bob', '--json'], { PEERCLOUD_USER_DIR: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const body = JSON.parse(r.stdout) as Record<string, string>;
  assert.deepEqual(Object.keys(body).sort(), ['keyFile', 'name', 'publicKey', 'userId']);
  assert.equal(body.name, 'bob');
  assert.equal(body.keyFile, join(dir, 'bob.key'));
  assert.match(body.publicKey, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(body.userId, (await loadUser('bob', { userDir: dir })).userId);
});

test('bad names are usage errors (exit 2) that say what a name may be', async () => {
  for (const name of ['Ann', '../x', '_x', 'a b', 'x'.repeat(64)]) {
    const r = await user(['create', name, '--user-dir', join(root, 'bad')]);
    assert.equal(r.code, 2, name);
    assert.match(r.stderr, /invalid user name .*: use 1 to 63 lowercase letters, digits/);
  }
  const missingArg = await user(['create', '--user-dir', join(root, 'bad')]);
  assert.equal(missingArg.code, 2);
  assert.match(missingArg.stderr, /missing required argument 'name'/);
});

test('user show prints the id and base64url public key; --json gives the same fields', async () => {
  const dir = join(root, 'show');
  const id = (await user(['create', 'carol', '--user-dir', dir])).stdout.trim();
  const text = await user(['show', 'carol', '--user-dir', dir]);
  assert.equal(text.code, 0, text.stderr);
  const json = await user(['show', 'carol', '--user-dir', dir, '--json']);
  const body = JSON.parse(json.stdout) as Record<string, string>;
  assert.equal(body.userId, id);
  assert.equal(Buffer.from(body.publicKey, 'base64url').length, 32);
  assert.match(text.stdout, new RegExp(`user id +${id}`));
  assert.match(text.stdout, new RegExp(`public key +${body.publicKey}`));
  assert.match(text.stdout, new RegExp(`key file +${join(dir, 'carol.key')}`));

  const missing = await user(['show', 'dave', '--user-dir', dir]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no user named "dave" in .*; create it with `peercloud user create dave`/);

  chmodSync(join(dir, 'carol.key'), 0o644);
  const insecure = await user(['show', 'carol', '--user-dir', dir]);
  assert.equal(insecure.code, 1);
  assert.match(insecure.stderr, /accessible by other accounts \(mode 644\); refusing to use it: run chmod 600/);
});

test('user list: a table, JSON, unusable keys flagged, and an empty directory explained', async () => {
  const dir = join(root, 'list');
  const empty = await user(['list', '--user-dir', dir]);
  assert.equal(empty.code, 0);
  assert.match(empty.stdout, /^no users in .*list; create one with `peercloud user create NAME`\n$/);
  assert.deepEqual(JSON.parse((await user(['list', '--user-dir', dir, '--json'])).stdout), { userDir: dir, users: [] });

  const zed = (await user(['create', 'zed', '--user-dir', dir])).stdout.trim();
  const amy = (await user(['create', 'amy', '--user-dir', dir])).stdout.trim();
  writeFileSync(join(dir, 'junk.key'), 'garbage', { mode: 0o600 });
  const table = await user(['list', '--user-dir', dir]);
  assert.equal(table.code, 0);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^name +user id$/);
  assert.match(lines[2], new RegExp(`^amy +${amy}$`));
  assert.match(lines[3], /^junk +\(unusable: corrupt\)$/);
  assert.match(lines[4], new RegExp(`^zed +${zed}$`));
  assert.match(table.stderr, /warning: user key .*junk\.key is not a readable PEM private key/);

  const json = JSON.parse((await user(['list', '--user-dir', dir, '--json'])).stdout) as { userDir: string; users: Record<string, unknown>[] };
  assert.equal(json.userDir, dir);
  assert.deepEqual(json.users.map((u) => u.name), ['amy', 'junk', 'zed']);
  assert.equal(json.users[0].userId, amy);
  assert.equal((json.users[1].error as { code: string }).code, 'CORRUPT');
});

test('help documents the subcommands and their options', async () => {
  const help = await user(['--help']);
  assert.equal(help.code, 0);
  for (const sub of ['create', 'list', 'show']) assert.match(help.stdout, new RegExp(`\\b${sub}\\b`));
  const create = await user(['create', '--help']);
  for (const flag of ['--user-dir', '--json', 'PEERCLOUD_USER_DIR']) assert.ok(create.stdout.includes(flag), flag);
});
