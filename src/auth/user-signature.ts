/**
 * The one signature scheme of user keys, shared by signed HTTP requests and signed objects
 * (gossiped slice operations): Ed25519 over
 *
 *     "peercloud user signature v1\0" ‖ purpose ‖ "\0" ‖ body
 *
 * The purpose (domain separation) makes a signature made for one use worthless for every other
 * use of the same key: an HTTP request signature is never a valid "slice-op" object signature, and
 * neither is ever valid as a node descriptor signature (which has its own context string, and is
 * made by node keys anyway). Purposes are short lowercase tokens without NUL, so the encoding is
 * unambiguous: the first NUL after the context ends the purpose.
 */
import { type KeyObject, sign as cryptoSign } from 'node:crypto';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, verify } from '../node/identity.js';
import { AuthError } from './auth-error.js';
import { signingInput } from './signing-bytes.js';

export { USER_SIGNATURE_CONTEXT, PURPOSE_PATTERN, checkPurpose, signingInput } from './signing-bytes.js';

/** What signing needs of a user: the private key and the raw public key it belongs to. */
export interface UserSigningKey {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

export function signForPurpose(user: UserSigningKey, purpose: string, body: Uint8Array): Uint8Array {
  return new Uint8Array(cryptoSign(null, signingInput(purpose, body), user.privateKey));
}

/** Never throws: a malformed key or signature is simply not valid. */
export function verifyForPurpose(publicKey: Uint8Array, purpose: string, body: Uint8Array, signature: Uint8Array): boolean {
  return verify(publicKey, signingInput(purpose, body), signature);
}

const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

/**
 * Strict unpadded base64url: only the alphabet, and the canonical encoding of the bytes (Buffer's
 * decoder would silently skip junk and ignore stray trailing bits, giving one value many spellings).
 * `bytes` fixes the decoded length; `what` names the field in the MALFORMED error.
 */
export function decodeBase64Url(text: string, what: string, bytes?: number): Uint8Array {
  if (!BASE64URL_PATTERN.test(text)) throw new AuthError('MALFORMED', `${what} must be unpadded base64url, got ${show(text)}`);
  const decoded = Buffer.from(text, 'base64url');
  if (decoded.toString('base64url') !== text) throw new AuthError('MALFORMED', `${what} is not canonical base64url: ${show(text)}`);
  if (bytes !== undefined && decoded.length !== bytes) {
    throw new AuthError('MALFORMED', `${what} must encode ${bytes} bytes, got ${decoded.length}`);
  }
  return new Uint8Array(decoded);
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

export const decodePublicKey = (text: string, what: string): Uint8Array => decodeBase64Url(text, what, PUBLIC_KEY_BYTES);
export const decodeSignature = (text: string, what: string): Uint8Array => decodeBase64Url(text, what, SIGNATURE_BYTES);

/** A value from a request, quoted and cut for an error message. */
export function show(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max - 3)}...` : text);
}
