/**
 * User identities: one Ed25519 key pair per user, kept as PKCS#8 PEM in `<userDir>/<NAME>.key`
 * (mode 0600, directory 0700), and the user id derived from the public key.
 *
 * A user id is `pu` followed by the same 32 base32 characters a node id has for that key (SHA-256
 * of the raw public key, first 20 bytes; see src/node/identity.ts), so ids of users and nodes
 * never collide and both pin the key that must answer for them. The name is local: it names the
 * key file on this machine and is never trusted by other nodes, which only see the key.
 *
 * Unlike a node key (which warns), a user key readable by other accounts is refused, as ssh does:
 * a user key signs requests that spend other people's machines, and a daemon running as another
 * account on the same host must not be able to borrow it.
 */
import { type KeyObject, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultHomeDir, resolvePath } from '../node/config-values.js';
import { NODE_ID_LENGTH, NODE_ID_PREFIX, PUBLIC_KEY_BYTES, nodeIdFromPublicKey, rawPublicKey } from '../node/identity.js';

export const USER_ID_PREFIX = 'pu';
export const USER_ID_LENGTH = NODE_ID_LENGTH;
const USER_ID_PATTERN = /^pu[a-z2-7]{32}$/;

/** Lowercase only: names are file names, and `Ann.key` and `ann.key` are one file on macOS. */
export const USER_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const USER_NAME_RULE = "1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit";

export const USER_KEY_EXTENSION = '.key';
/** Environment variable that moves the user key directory. */
export const USER_DIR_ENV = 'PEERCLOUD_USER_DIR';

export interface UserIdentity {
  /** The local name (the key file's name without `.key`). */
  readonly name: string;
  /** `pu` + base32 of the key's hash; see `userIdFromPublicKey`. */
  readonly userId: string;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

/** What may be shown to anyone: the public half, with the key as base64url. */
export interface PublicUser {
  readonly name: string;
  readonly userId: string;
  readonly publicKey: string;
}

export type UserKeyErrorCode = 'BAD_NAME' | 'EXISTS' | 'MISSING' | 'CORRUPT' | 'WRONG_KEY_TYPE' | 'INSECURE' | 'IO';

/** Why a user key could not be created or loaded; `path` names the key file (or directory). */
export class UserKeyError extends Error {
  readonly code: UserKeyErrorCode;
  readonly path: string;
  constructor(code: UserKeyErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserKeyError';
    this.code = code;
    this.path = path;
  }
}

/** The user id of a raw 32-byte Ed25519 public key. */
export function userIdFromPublicKey(publicKey: Uint8Array): string {
  // The node id's hash part, re-prefixed: one derivation for both kinds of id.
  return USER_ID_PREFIX + nodeIdFromPublicKey(publicKey).slice(NODE_ID_PREFIX.length);
}

/** True for a well-formed user id (it says nothing about whether such a user exists). */
export function isValidUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID_PATTERN.test(value);
}

export function isValidUserName(value: unknown): value is string {
  return typeof value === 'string' && USER_NAME_PATTERN.test(value);
}

/** The public key as printed and sent in headers: unpadded base64url of the raw 32 bytes. */
export function encodePublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new RangeError(`publicKey must be ${PUBLIC_KEY_BYTES} raw bytes, got ${publicKey.length}`);
  return Buffer.from(publicKey).toString('base64url');
}

export function publicUser(user: UserIdentity): PublicUser {
  return { name: user.name, userId: user.userId, publicKey: encodePublicKey(user.publicKey) };
}

/** A user identity for a private key object (which must be Ed25519). */
export function userFromPrivateKey(name: string, privateKey: KeyObject): UserIdentity {
  if (privateKey.type !== 'private') throw new RangeError(`expected a private key, got a ${privateKey.type} key`);
  const publicKey = rawPublicKey(privateKey);
  return { name, userId: userIdFromPublicKey(publicKey), publicKey, privateKey };
}

/** A fresh user in memory (tests); `createUser` also stores it. */
export function generateUser(name: string): UserIdentity {
  checkName(name, '(memory)');
  return userFromPrivateKey(name, generateKeyPairSync('ed25519').privateKey);
}

export interface UserDirOptions {
  /** The key directory; default `$PEERCLOUD_USER_DIR`, else `~/.peercloud/users`. */
  readonly userDir?: string;
  /** Where `PEERCLOUD_USER_DIR` is read (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** For `~` and the default (default: the account's home directory). */
  readonly homeDir?: string;
}

/** The user key directory: the option, else `$PEERCLOUD_USER_DIR`, else `~/.peercloud/users`; absolute. */
export function resolveUserDir(options: UserDirOptions = {}): string {
  const homeDir = options.homeDir ?? defaultHomeDir();
  const context = { baseDir: process.cwd(), homeDir };
  const given = options.userDir ?? (options.env ?? process.env)[USER_DIR_ENV];
  if (given !== undefined && given.trim() !== '') {
    if (given.includes('\0')) throw new RangeError('the user directory path contains a NUL character');
    return resolvePath(given.trim(), context);
  }
  return resolve(homeDir, '.peercloud', 'users');
}

/** `<userDir>/<name>.key`; the name is checked first so it can never walk out of the directory. */
export function userKeyPath(name: string, options: UserDirOptions = {}): string {
  const dir = resolveUserDir(options);
  checkName(name, dir);
  return join(dir, `${name}${USER_KEY_EXTENSION}`);
}

/**
 * Generates a key pair and writes it to `<userDir>/<name>.key` (PKCS#8 PEM, mode 0600), creating
 * the directory (mode 0700) if needed. Never replaces an existing key: losing it means losing the
 * user id and with it every slice the user owns.
 */
export async function createUser(name: string, options: UserDirOptions = {}): Promise<UserIdentity> {
  const dir = resolveUserDir(options);
  const path = userKeyPath(name, options);
  const user = generateUser(name);
  const pem = user.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new UserKeyError('IO', dir, `cannot create the user key directory ${dir}: ${errorMessage(err)}`, { cause: err });
  }
  let handle: FileHandle;
  try {
    // O_EXCL: fail rather than follow a symlink or clobber a key; the mode applies at creation.
    handle = await open(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  } catch (err) {
    if (isErrno(err, 'EEXIST')) {
      throw new UserKeyError('EXISTS', path, `a user named ${JSON.stringify(name)} already exists (${path}); choose another name, or use that key`, { cause: err });
    }
    throw new UserKeyError('IO', path, `cannot write the user key ${path}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    await handle.writeFile(pem);
    await handle.sync();
  } catch (err) {
    await handle.close();
    // A half-written key would later read as CORRUPT and block the name: remove it.
    await rm(path, { force: true });
    throw new UserKeyError('IO', path, `cannot write the user key ${path}: ${errorMessage(err)}`, { cause: err });
  }
  await handle.close();
  return user;
}

/** Reads `<userDir>/<name>.key`; errors name the file, what is wrong with it and what to do. */
export async function loadUser(name: string, options: UserDirOptions = {}): Promise<UserIdentity> {
  const path = userKeyPath(name, options);
  let text: string;
  try {
    const info = await lstat(path);
    if (!info.isFile()) throw new UserKeyError('CORRUPT', path, `user key ${path} is not a regular file`);
    // POSIX permission bits only mean something off Windows.
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new UserKeyError(
        'INSECURE',
        path,
        `user key ${path} is accessible by other accounts (mode ${(info.mode & 0o777).toString(8)}); refusing to use it: run chmod 600 ${path}`,
      );
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof UserKeyError) throw err;
    if (isErrno(err, 'ENOENT')) {
      throw new UserKeyError('MISSING', path, `no user named ${JSON.stringify(name)} in ${resolveUserDir(options)}; create it with \`peercloud user create ${name}\``, { cause: err });
    }
    throw new UserKeyError('IO', path, `cannot read the user key ${path}: ${errorMessage(err)}`, { cause: err });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (err) {
    throw new UserKeyError('CORRUPT', path, `user key ${path} is not a readable PEM private key: ${errorMessage(err)}`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new UserKeyError('WRONG_KEY_TYPE', path, `user key ${path} holds a ${key.asymmetricKeyType ?? 'unknown'} key; peercloud needs Ed25519`);
  }
  return userFromPrivateKey(name, key);
}

/** One key file found by `listUsers`: the user, or why it could not be loaded. */
export type UserListEntry =
  | { readonly name: string; readonly path: string; readonly user: UserIdentity; readonly error?: undefined }
  | { readonly name: string; readonly path: string; readonly user?: undefined; readonly error: UserKeyError };

/**
 * Every `<name>.key` in the user directory, sorted by name. A key that cannot be loaded is listed
 * with its error rather than failing the whole listing; files that are not user keys (other
 * extensions, invalid names) are ignored. A directory that does not exist yet holds no users.
 */
export async function listUsers(options: UserDirOptions = {}): Promise<UserListEntry[]> {
  const dir = resolveUserDir(options);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw new UserKeyError('IO', dir, `cannot read the user key directory ${dir}: ${errorMessage(err)}`, { cause: err });
  }
  const users = names
    .filter((file) => file.endsWith(USER_KEY_EXTENSION))
    .map((file) => file.slice(0, -USER_KEY_EXTENSION.length))
    .filter(isValidUserName)
    .sort();
  const fixed = { ...options, userDir: dir };
  return Promise.all(
    users.map(async (name): Promise<UserListEntry> => {
      const path = userKeyPath(name, fixed);
      try {
        return { name, path, user: await loadUser(name, fixed) };
      } catch (err) {
        if (err instanceof UserKeyError) return { name, path, error: err };
        throw err;
      }
    }),
  );
}

function checkName(name: string, dir: string): void {
  if (!isValidUserName(name)) {
    throw new UserKeyError('BAD_NAME', dir, `invalid user name ${JSON.stringify(name)}: use ${USER_NAME_RULE}`);
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
