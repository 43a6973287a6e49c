/**
 * A node's identity: an Ed25519 key pair kept in its data directory, and the node id derived from
 * the public key.
 *
 * The node id is a name nobody can claim without the private key: `pc` followed by the lowercase
 * RFC 4648 base32 (no padding) of the first 20 bytes of SHA-256(raw 32-byte public key), 34
 * characters in all. The transport pins every connection to it (the TLS peer's key must hash to the
 * id we dialled), and signed descriptors are checked with `verify` against the key that hashes to
 * the id they advertise.
 */
import {
  type KeyObject,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { base32 } from '../core/base32.js';
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** File name of the private key inside a data directory. */
export const IDENTITY_FILE = 'identity.key';

export const NODE_ID_PREFIX = 'pc';
/** Bytes of SHA-256(public key) that make up a node id: 160 bits, 32 base32 characters. */
const NODE_ID_HASH_BYTES = 20;
export const NODE_ID_LENGTH = NODE_ID_PREFIX.length + (NODE_ID_HASH_BYTES * 8) / 5;
const NODE_ID_PATTERN = /^pc[a-z2-7]{32}$/;

export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface NodeIdentity {
  /** `pc` + base32 of the key's hash; see `nodeIdFromPublicKey`. */
  readonly nodeId: string;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

export type IdentityErrorCode = 'EXISTS' | 'MISSING' | 'CORRUPT' | 'WRONG_KEY_TYPE' | 'IO';

/** Why an identity could not be created or loaded; `path` names the key file. */
export class IdentityError extends Error {
  readonly code: IdentityErrorCode;
  readonly path: string;
  constructor(code: IdentityErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityError';
    this.code = code;
    this.path = path;
  }
}


/** The node id of a raw 32-byte Ed25519 public key. */
export function nodeIdFromPublicKey(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) {
    throw new RangeError(`publicKey must be ${PUBLIC_KEY_BYTES} raw bytes, got ${describe(publicKey)}`);
  }
  const digest = createHash('sha256').update(publicKey).digest();
  return NODE_ID_PREFIX + base32(digest.subarray(0, NODE_ID_HASH_BYTES));
}

/** True for a well-formed node id (it says nothing about whether that node exists). */
export function isValidNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_PATTERN.test(value);
}

/** The raw 32-byte public key of an Ed25519 key object (public or private). */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519') {
    throw new RangeError(`expected an Ed25519 key, got ${pub.asymmetricKeyType ?? pub.type}`);
  }
  const spki = pub.export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(ED25519_SPKI_PREFIX.length));
}

/** The key object for a raw 32-byte Ed25519 public key. */
export function publicKeyFromRaw(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== PUBLIC_KEY_BYTES) {
    throw new RangeError(`publicKey must be ${PUBLIC_KEY_BYTES} raw bytes, got ${publicKey.length}`);
  }
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

/** An identity for a private key object (which must be Ed25519). */
export function identityFromPrivateKey(privateKey: KeyObject): NodeIdentity {
  if (privateKey.type !== 'private') throw new RangeError(`expected a private key, got a ${privateKey.type} key`);
  const publicKey = rawPublicKey(privateKey);
  return { nodeId: nodeIdFromPublicKey(publicKey), publicKey, privateKey };
}

/** A fresh identity in memory (tests, simulations); `createIdentity` also stores it. */
export function generateIdentity(): NodeIdentity {
  return identityFromPrivateKey(generateKeyPairSync('ed25519').privateKey);
}

/** The private key as PKCS#8 PEM, the format of the identity file. */
export function privateKeyPem(identity: NodeIdentity): string {
  return identity.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export interface CreateIdentityOptions {
  /** Replace an existing identity file (the node gets a new id). */
  force?: boolean;
}

/**
 * Generates a key pair and writes it to `<dataDir>/identity.key` (PKCS#8 PEM, mode 0600),
 * creating `dataDir` (mode 0700) if needed. Refuses to replace an existing identity unless `force`:
 * losing the key means losing the node id.
 */
export async function createIdentity(dataDir: string, options: CreateIdentityOptions = {}): Promise<NodeIdentity> {
  const path = identityPath(dataDir);
  const identity = generateIdentity();
  const pem = privateKeyPem(identity);
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new IdentityError('IO', path, `cannot create data directory ${dataDir}: ${errorMessage(err)}`, { cause: err });
  }
  if (options.force) {
    // Write beside it and rename over it, so a crash never leaves a half-written key.
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await writeExclusive(tmp, pem);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw new IdentityError('IO', path, `cannot write identity ${path}: ${errorMessage(err)}`, { cause: err });
    }
    await saveCertificate(dataDir, identity);
    return identity;
  }
  try {
    await writeExclusive(path, pem);
  } catch (err) {
    if (isErrno(err, 'EEXIST')) {
      throw new IdentityError('EXISTS', path, `an identity already exists at ${path}; use force to replace it (the node id will change)`, { cause: err });
    }
    throw new IdentityError('IO', path, `cannot write identity ${path}: ${errorMessage(err)}`, { cause: err });
  }
  await saveCertificate(dataDir, identity);
  return identity;
}

/**
 * The TLS certificate goes with the key (node-certificate.ts), so that the daemon never needs the
 * X.509 library. Best effort: a daemon that finds no usable certificate makes one itself.
 */
async function saveCertificate(dataDir: string, identity: NodeIdentity): Promise<void> {
  try {
    const { saveNodeCertificate } = await import('./node-certificate.js');
    await saveNodeCertificate(dataDir, identity);
  } catch {
    // see above
  }
}

export interface LoadIdentityOptions {
  /** Receives warnings such as a key file readable by others; defaults to process.emitWarning. */
  warn?: (message: string) => void;
}

/** Reads `<dataDir>/identity.key`; errors name the file and what is wrong with it. */
export async function loadIdentity(dataDir: string, options: LoadIdentityOptions = {}): Promise<NodeIdentity> {
  const path = identityPath(dataDir);
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, 'IdentityWarning'));
  let text: string;
  try {
    const info = await lstat(path);
    if (!info.isFile()) throw new IdentityError('CORRUPT', path, `identity ${path} is not a regular file`);
    // POSIX permission bits only mean something off Windows.
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      warn(`identity ${path} is accessible by other users (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`);
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof IdentityError) throw err;
    if (isErrno(err, 'ENOENT')) {
      throw new IdentityError('MISSING', path, `no identity at ${path}; create one with \`peercloud init\``, { cause: err });
    }
    throw new IdentityError('IO', path, `cannot read identity ${path}: ${errorMessage(err)}`, { cause: err });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (err) {
    throw new IdentityError('CORRUPT', path, `identity ${path} is not a readable PEM private key: ${errorMessage(err)}`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new IdentityError('WRONG_KEY_TYPE', path, `identity ${path} holds a ${key.asymmetricKeyType ?? 'unknown'} key; peercloud needs Ed25519`);
  }
  return identityFromPrivateKey(key);
}

export function identityPath(dataDir: string): string {
  return join(dataDir, IDENTITY_FILE);
}

/** An Ed25519 signature (64 bytes) of `bytes` by the identity's private key. */
export function sign(identity: NodeIdentity, bytes: Uint8Array): Uint8Array {
  return new Uint8Array(cryptoSign(null, bytes, identity.privateKey));
}

/**
 * Whether `signature` is a valid Ed25519 signature of `bytes` by the raw 32-byte `publicKey`.
 * Never throws: anything malformed (wrong lengths, not bytes, a point that is not a key) is false,
 * because its inputs come straight from peers.
 */
export function verify(publicKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) return false;
    if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false;
    if (!(bytes instanceof Uint8Array)) return false;
    return cryptoVerify(null, bytes, publicKeyFromRaw(publicKey), signature);
  } catch {
    return false;
  }
}

async function writeExclusive(path: string, contents: string): Promise<void> {
  // O_EXCL: fail rather than follow or clobber whatever is there; mode applies at creation.
  const handle = await open(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return value === null ? 'null' : typeof value;
}
