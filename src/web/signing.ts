/**
 * The signed-in user, in the browser: their Ed25519 key (loaded from the `.key` file that
 * `peercloud user create` wrote) signs API requests and slice grants here, so the key never goes
 * to any daemon. The bytes signed come from src/auth/signing-bytes.ts, shared with the CLI, and
 * Ed25519 signatures are deterministic: the browser and the CLI sign a request identically.
 */
import * as ed from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { base32 } from '../core/base32.js';
import { base64UrlEncode, canonicalRequest, signedObjectBody, signingInput } from '../auth/signing-bytes.js';

ed.hashes.sha512 = sha512;

/** PKCS#8 wrapping of an Ed25519 private key (RFC 8410): this prefix, then the 32-byte seed. */
const PKCS8_ED25519_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

export interface BrowserUser {
  readonly name: string;
  readonly userId: string;
  readonly publicKey: Uint8Array;
  readonly seed: Uint8Array;
}

export class KeyFileError extends Error {}

/** Reads a PKCS#8 PEM Ed25519 private key, as `peercloud user create` writes it. */
export function parseUserKey(name: string, pem: string): BrowserUser {
  const m = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem);
  if (!m) throw new KeyFileError('not a PEM private key: expected a file from `peercloud user create` (~/.peercloud/users/NAME.key)');
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob(m[1].replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  } catch {
    throw new KeyFileError('the PEM body is not valid base64');
  }
  if (der.length !== 48 || PKCS8_ED25519_PREFIX.some((b, i) => der[i] !== b)) throw new KeyFileError('not an Ed25519 private key (peercloud user keys are Ed25519)');
  const seed = der.slice(16);
  const publicKey = ed.getPublicKey(seed);
  return { name, userId: userIdOf(publicKey), publicKey, seed };
}

/** `pu` + base32 of the first 20 bytes of SHA-256(public key), as src/auth/user-identity.ts. */
export function userIdOf(publicKey: Uint8Array): string {
  return `pu${base32(sha256(publicKey).subarray(0, 20))}`;
}

function sign(user: BrowserUser, purpose: string, body: Uint8Array): Uint8Array {
  return ed.sign(signingInput(purpose, body), user.seed);
}

/** The four Peercloud-* headers of a signed request (src/auth/signed-request.ts). */
export function signRequestHeaders(user: BrowserUser, method: string, url: URL, body: string | undefined, nowMs = Date.now()): Record<string, string> {
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  const publicKey = base64UrlEncode(user.publicKey);
  const fields = {
    method: method.toUpperCase(),
    host: url.host,
    path: url.pathname + url.search,
    bodySha256: base64UrlEncode(sha256(new TextEncoder().encode(body ?? ''))),
    timestamp: String(nowMs),
    nonce: base64UrlEncode(nonce),
    publicKey,
  };
  const signature = sign(user, 'http-request', canonicalRequest(fields));
  return {
    'Peercloud-User': publicKey,
    'Peercloud-Timestamp': fields.timestamp,
    'Peercloud-Nonce': fields.nonce,
    'Peercloud-Signature': `v1=${base64UrlEncode(signature)}`,
  };
}

/** A signed object (src/auth/signed-object.ts), e.g. a slice grant. */
export function signObject(user: BrowserUser, purpose: string, payload: Uint8Array, nowMs = Date.now()) {
  const userText = base64UrlEncode(user.publicKey);
  const signature = sign(user, purpose, signedObjectBody(nowMs, userText, payload));
  return { v: 1, purpose, user: userText, issuedAt: nowMs, payload: base64UrlEncode(payload), signature: base64UrlEncode(signature) };
}

const STORAGE_KEY = 'peercloud.user';

/** The key stays in this tab (sessionStorage), or in this browser if the user asked (localStorage). */
export function saveUser(name: string, pem: string, remember: boolean): void {
  const value = JSON.stringify({ name, pem });
  (remember ? localStorage : sessionStorage).setItem(STORAGE_KEY, value);
  (remember ? sessionStorage : localStorage).removeItem(STORAGE_KEY);
}

export function loadSavedUser(): BrowserUser | null {
  const text = sessionStorage.getItem(STORAGE_KEY) ?? localStorage.getItem(STORAGE_KEY);
  if (text === null) return null;
  try {
    const { name, pem } = JSON.parse(text) as { name: string; pem: string };
    return parseUserKey(name, pem);
  } catch {
    forgetUser();
    return null;
  }
}

export function forgetUser(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  localStorage.removeItem(STORAGE_KEY);
}
