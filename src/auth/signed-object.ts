/**
 * Signed objects: bytes signed by a user for a named purpose, self-contained so that any node can
 * check them, not only the node the user talked to. This is how a user's operation travels by
 * gossip (e.g. a slice request relayed to candidate nodes): the API node verifies the user's HTTP
 * request, but the candidates only trust what the user signed.
 *
 * Same key and scheme as signed requests (user-signature.ts): the signature covers
 *
 *     "peercloud user signature v1\0" ‖ purpose ‖ "\0" ‖ issuedAt ‖ "\n" ‖ user ‖ "\n" ‖ payload
 *
 * with issuedAt in decimal milliseconds and user the base64url public key. The purpose separates
 * domains ("slice-op" signatures are not "slice-lease" signatures, and none is an HTTP request
 * signature: the purpose `http-request` is reserved). The payload is carried inside the object and
 * returned by `verifyObject` from those very bytes: decode what was verified, never a re-encoding.
 *
 * Freshness beyond "not from the future" and replay protection belong to the protocol carrying
 * the object (its operation ids, leases), which knows how long its messages may travel; pass
 * `maxAgeMs` to bound the age here.
 */
import { AuthError } from './auth-error.js';
import { signedObjectBody } from './signing-bytes.js';
import { type AuthAction, type AuthPolicy, authorize } from './policy.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS, REQUEST_PURPOSE, type VerifiedUser } from './signed-request.js';
import { userIdFromPublicKey } from './user-identity.js';
import {
  type UserSigningKey,
  checkPurpose,
  decodeBase64Url,
  decodePublicKey,
  decodeSignature,
  encodeBase64Url,
  show,
  signForPurpose,
  verifyForPurpose,
} from './user-signature.js';

export const SIGNED_OBJECT_VERSION = 1;
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** A signed object as it travels (JSON-friendly: bytes are unpadded base64url). */
export interface SignedObject {
  readonly v: typeof SIGNED_OBJECT_VERSION;
  readonly purpose: string;
  /** The signer's raw 32-byte public key. */
  readonly user: string;
  /** When it was signed, ms since 1970. */
  readonly issuedAt: number;
  readonly payload: string;
  readonly signature: string;
}

const FIELDS: readonly (keyof SignedObject)[] = ['v', 'purpose', 'user', 'issuedAt', 'payload', 'signature'];

export interface SignObjectOptions {
  /** issuedAt (default Date.now()). */
  readonly nowMs?: number;
}

export function signObject(user: UserSigningKey, purpose: string, bytes: Uint8Array, options: SignObjectOptions = {}): SignedObject {
  checkObjectPurpose(purpose);
  const issuedAt = options.nowMs ?? Date.now();
  if (!Number.isSafeInteger(issuedAt) || issuedAt < 0) throw new RangeError(`nowMs must be a non-negative integer, got ${issuedAt}`);
  const userText = encodeBase64Url(user.publicKey);
  const signature = signForPurpose(user, purpose, signedObjectBody(issuedAt, userText, bytes));
  return { v: SIGNED_OBJECT_VERSION, purpose, user: userText, issuedAt, payload: encodeBase64Url(bytes), signature: encodeBase64Url(signature) };
}

export interface VerifyObjectOptions {
  /** Our clock (default Date.now()). */
  readonly nowMs?: number;
  /** How far issuedAt may be ahead of our clock (default 5 minutes). */
  readonly maxClockSkewMs?: number;
  /** Older objects are EXPIRED (default: no limit; see the file comment). */
  readonly maxAgeMs?: number;
  /** Larger payloads are MALFORMED before anything is decoded (default 1 MiB). */
  readonly maxPayloadBytes?: number;
  /** Checked after the signature; omit to only authenticate. */
  readonly authorization?: { readonly policy: AuthPolicy; readonly action: AuthAction };
}

export interface VerifiedObject extends VerifiedUser {
  readonly issuedAtMs: number;
  /** The signed bytes, decoded from the object itself. */
  readonly payload: Uint8Array;
}

/**
 * Checks a signed object (any value: it comes from a peer) for `purpose`; returns the signer and
 * the payload. Throws AuthError MALFORMED, EXPIRED, BAD_SIGNATURE or DENIED.
 */
export function verifyObject(signed: unknown, purpose: string, options: VerifyObjectOptions = {}): VerifiedObject {
  checkObjectPurpose(purpose);
  const obj = readShape(signed, options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
  if (obj.purpose !== purpose) {
    throw new AuthError('BAD_SIGNATURE', `object is signed for purpose ${show(obj.purpose)}, not ${show(purpose)}`);
  }
  const publicKey = decodePublicKey(obj.user, 'signed object user');
  const signature = decodeSignature(obj.signature, 'signed object signature');
  const payload = decodeBase64Url(obj.payload, 'signed object payload');
  const userId = userIdFromPublicKey(publicKey);

  const nowMs = options.nowMs ?? Date.now();
  const maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  if (obj.issuedAt > nowMs + maxClockSkewMs) {
    throw new AuthError('EXPIRED', `signed object from user ${userId} is dated ${new Date(obj.issuedAt).toISOString()}, more than ${maxClockSkewMs} ms ahead of this node's clock`);
  }
  if (options.maxAgeMs !== undefined && nowMs - obj.issuedAt > options.maxAgeMs) {
    throw new AuthError('EXPIRED', `signed object from user ${userId} is dated ${new Date(obj.issuedAt).toISOString()}, older than ${options.maxAgeMs} ms`);
  }
  if (!verifyForPurpose(publicKey, purpose, signedObjectBody(obj.issuedAt, obj.user, payload), signature)) {
    throw new AuthError('BAD_SIGNATURE', `signed object is not validly signed by user ${userId}: its payload, date or key differ from what was signed`);
  }
  if (options.authorization) authorize(options.authorization.policy, userId, options.authorization.action);
  return { userId, publicKey, issuedAtMs: obj.issuedAt, payload };
}

function checkObjectPurpose(purpose: string): void {
  checkPurpose(purpose);
  if (purpose === REQUEST_PURPOSE) throw new RangeError(`purpose ${JSON.stringify(REQUEST_PURPOSE)} is reserved for signed HTTP requests`);
}

/** The object's fields, type-checked; extra fields are refused since they would not be signed. */
function readShape(value: unknown, maxPayloadBytes: number): SignedObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AuthError('MALFORMED', 'a signed object must be a JSON object');
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (extra.length > 0) throw new AuthError('MALFORMED', `signed object has unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => show(k, 40)).join(', ')}`);
  if (record.v !== SIGNED_OBJECT_VERSION) {
    throw new AuthError('MALFORMED', `signed object version ${show(String(record.v))} is not supported; this node understands ${SIGNED_OBJECT_VERSION}`);
  }
  for (const field of ['purpose', 'user', 'payload', 'signature'] as const) {
    if (typeof record[field] !== 'string') throw new AuthError('MALFORMED', `signed object field ${field} must be a string`);
  }
  const issuedAt = record.issuedAt;
  if (typeof issuedAt !== 'number' || !Number.isSafeInteger(issuedAt) || issuedAt < 0) {
    throw new AuthError('MALFORMED', 'signed object field issuedAt must be a non-negative integer (ms since 1970)');
  }
  // 4 base64 characters per 3 bytes: refuse oversized payloads before decoding them.
  if ((record.payload as string).length > Math.ceil((maxPayloadBytes * 4) / 3)) {
    throw new AuthError('MALFORMED', `signed object payload is larger than ${maxPayloadBytes} bytes`);
  }
  return record as unknown as SignedObject;
}
