/**
 * Signed API requests, version 1: a user signs each mutating request with their Ed25519 key, and
 * the node checks it before anything changes.
 *
 * Transport: four HTTP headers, not a JSON envelope around the body.
 *
 *     Peercloud-User:      base64url of the raw 32-byte public key (the user id is its hash)
 *     Peercloud-Timestamp: milliseconds since the epoch, decimal
 *     Peercloud-Nonce:     base64url of 16 random bytes
 *     Peercloud-Signature: v1=<base64url of the 64-byte Ed25519 signature>
 *
 * Why headers: request bodies stay the API's plain documented JSON (schemas and OpenAPI do not
 * change, `curl` works the same), bodiless requests such as `DELETE /v1/slices/web` are signed
 * exactly like the others, and a node can refuse an unsigned request from its headers alone
 * before reading the body. It is the shape of AWS SigV4 and RFC 9421 HTTP Message Signatures,
 * reduced to what peercloud needs (one algorithm, a fixed set of covered fields); full RFC 9421
 * would add structured-field parsing and choices we do not want to offer. Gossip between nodes has
 * no HTTP, so operations relayed to other nodes use signed objects (signed-object.ts) with the same
 * key and signature scheme.
 *
 * The signature (see user-signature.ts, purpose `http-request`) covers these lines, joined by LF:
 *
 *     METHOD             uppercase, e.g. POST
 *     host               the Host header, lowercase (binds the request to the node it was sent
 *                        to: the replay cache is per node, so without it a request sent to one
 *                        node could be replayed at another within the clock window)
 *     path               the request target exactly as sent: path and query, no normalization
 *     body digest        base64url of SHA-256 of the body bytes exactly as sent (empty: no body)
 *     timestamp          as in the header
 *     nonce              as in the header
 *     public key         as in the header
 *
 * A node accepts a request if the headers are complete and well formed, the timestamp is within
 * ±maxClockSkewMs (default 5 minutes) of its clock, the signature is valid, the policy allows the
 * user the action, and the nonce was not seen (ReplayCache) — checked in that order, cheapest
 * first; only requests that pass all of them are recorded in the replay cache.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AuthError } from './auth-error.js';
import { type CanonicalRequestFields, canonicalRequest } from './signing-bytes.js';
import { type AuthAction, type AuthPolicy, authorize } from './policy.js';
import type { ReplayCache } from './replay-cache.js';
import { userIdFromPublicKey } from './user-identity.js';
import {
  type UserSigningKey,
  decodeBase64Url,
  decodePublicKey,
  decodeSignature,
  encodeBase64Url,
  show,
  signForPurpose,
  verifyForPurpose,
} from './user-signature.js';

export const REQUEST_PURPOSE = 'http-request';
export const REQUEST_SIGNATURE_VERSION = 'v1';

export const USER_HEADER = 'Peercloud-User';
export const TIMESTAMP_HEADER = 'Peercloud-Timestamp';
export const NONCE_HEADER = 'Peercloud-Nonce';
export const SIGNATURE_HEADER = 'Peercloud-Signature';
export const SIGNED_REQUEST_HEADERS = [USER_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER] as const;
export type SignedRequestHeaderName = (typeof SIGNED_REQUEST_HEADERS)[number];
export type SignedRequestHeaders = Readonly<Record<SignedRequestHeaderName, string>>;

export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60_000;
export const NONCE_BYTES = 16;

const METHOD_PATTERN = /^[A-Z]{1,16}$/;
/** A request target: visible ASCII only (anything else must arrive percent-encoded). */
const PATH_PATTERN = /^\/[\x21-\x7e]*$/;
const HOST_PATTERN = /^[\x21-\x7e]{1,300}$/;
const TIMESTAMP_PATTERN = /^(0|[1-9][0-9]{0,15})$/;
const SIGNATURE_VALUE_PATTERN = /^(v[0-9]+)=(.*)$/;

export interface RequestToSign {
  readonly method: string;
  /** The absolute URL the request goes to; host and path+query are signed as fetch sends them. */
  readonly url: string | URL;
  /** The body bytes exactly as sent (a string is sent as UTF-8); none for a bodiless request. */
  readonly body?: Uint8Array | string;
}

export interface SignRequestOptions {
  /** Timestamp to sign (default Date.now()). */
  readonly nowMs?: number;
  /** 16 nonce bytes (default: random). Only tests should pass one. */
  readonly nonce?: Uint8Array;
}

/** The headers to add to the request: the user's key, timestamp, nonce and signature. */
export function signRequest(user: UserSigningKey, request: RequestToSign, options: SignRequestOptions = {}): SignedRequestHeaders {
  const method = request.method.toUpperCase();
  if (!METHOD_PATTERN.test(method)) throw new RangeError(`method must be an HTTP method such as POST, got ${JSON.stringify(request.method)}`);
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new RangeError(`url must be an absolute URL, got ${JSON.stringify(String(request.url))}`);
  }
  const timestampMs = options.nowMs ?? Date.now();
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) throw new RangeError(`nowMs must be a non-negative integer, got ${timestampMs}`);
  const nonceBytes = options.nonce ?? randomBytes(NONCE_BYTES);
  if (nonceBytes.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes, got ${nonceBytes.length}`);
  const fields: CanonicalRequestFields = {
    method,
    host: url.host,
    path: url.pathname + url.search,
    bodySha256: encodeBase64Url(sha256(request.body)),
    timestamp: String(timestampMs),
    nonce: encodeBase64Url(nonceBytes),
    publicKey: encodeBase64Url(user.publicKey),
  };
  const signature = signForPurpose(user, REQUEST_PURPOSE, canonicalRequest(fields));
  return {
    [USER_HEADER]: fields.publicKey,
    [TIMESTAMP_HEADER]: fields.timestamp,
    [NONCE_HEADER]: fields.nonce,
    [SIGNATURE_HEADER]: `${REQUEST_SIGNATURE_VERSION}=${encodeBase64Url(signature)}`,
  };
}

/** Headers as node's http module gives them (lowercase names) or any casing. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface RequestToVerify {
  /** As received, e.g. request.method. */
  readonly method: string;
  /** The Host header as received (fastify: request.host). */
  readonly host: string;
  /** The request target as received: path and query (fastify: request.url). */
  readonly path: string;
  readonly headers: RequestHeaders;
  /** The body bytes as received; give this or `bodySha256`. Absent both: an empty body. */
  readonly body?: Uint8Array | string;
  /** SHA-256 of the body bytes, when they were hashed while streaming in. */
  readonly bodySha256?: Uint8Array;
}

export interface VerifyRequestOptions {
  /** Where accepted nonces are remembered; share one per node. */
  readonly replayCache: ReplayCache;
  /** Accepted distance between the request's timestamp and our clock (default 5 minutes). */
  readonly maxClockSkewMs?: number;
  /** Checked after the signature; omit to only authenticate. */
  readonly authorization?: { readonly policy: AuthPolicy; readonly action: AuthAction };
}

/** Who signed: the public key and the user id derived from it. */
export interface VerifiedUser {
  readonly userId: string;
  readonly publicKey: Uint8Array;
}

export interface VerifiedRequest extends VerifiedUser {
  readonly timestampMs: number;
  readonly nonce: string;
}

/** The signature headers, parsed but not yet verified. */
export interface SignatureHeaders {
  readonly publicKey: Uint8Array;
  readonly publicKeyText: string;
  readonly userId: string;
  readonly timestampMs: number;
  readonly timestampText: string;
  readonly nonce: string;
  readonly signature: Uint8Array;
}

/**
 * Checks a signed request and records its nonce; returns who signed it. Throws AuthError: MISSING,
 * MALFORMED, EXPIRED, BAD_SIGNATURE, DENIED or REPLAYED (in the order they are checked).
 */
export function verifyRequest(request: RequestToVerify, nowMs: number, options: VerifyRequestOptions): VerifiedRequest {
  const maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  const parsed = precheckRequest(request.headers, nowMs, maxClockSkewMs);
  if (!METHOD_PATTERN.test(request.method)) throw new AuthError('MALFORMED', `cannot verify a request with method ${show(request.method)}`);
  if (!PATH_PATTERN.test(request.path)) throw new AuthError('MALFORMED', `cannot verify a request with target ${show(request.path)}`);
  if (!HOST_PATTERN.test(request.host)) throw new AuthError('MALFORMED', `cannot verify a request with Host ${show(request.host)}`);
  if (request.body !== undefined && request.bodySha256 !== undefined) throw new RangeError('give body or bodySha256, not both');
  const fields: CanonicalRequestFields = {
    method: request.method,
    host: request.host.toLowerCase(),
    path: request.path,
    bodySha256: encodeBase64Url(request.bodySha256 ?? sha256(request.body)),
    timestamp: parsed.timestampText,
    nonce: parsed.nonce,
    publicKey: parsed.publicKeyText,
  };
  if (!verifyForPurpose(parsed.publicKey, REQUEST_PURPOSE, canonicalRequest(fields), parsed.signature)) {
    throw new AuthError(
      'BAD_SIGNATURE',
      `the ${SIGNATURE_HEADER} is not a valid signature of this request by user ${parsed.userId}: the method, host, path, body, timestamp, nonce or key differ from what was signed`,
    );
  }
  if (options.authorization) authorize(options.authorization.policy, parsed.userId, options.authorization.action);
  const verdict = options.replayCache.check(`${parsed.userId}/${parsed.nonce}`, parsed.timestampMs, parsed.timestampMs + maxClockSkewMs, nowMs);
  if (verdict === 'replayed') {
    throw new AuthError('REPLAYED', `request nonce ${parsed.nonce} of user ${parsed.userId} was already used; sign every request afresh`);
  }
  if (verdict === 'too-old') {
    throw new AuthError(
      'REPLAYED',
      `request timestamp ${new Date(parsed.timestampMs).toISOString()} is older than this node can check for replays (its replay cache is full); sign the request again`,
    );
  }
  return { userId: parsed.userId, publicKey: parsed.publicKey, timestampMs: parsed.timestampMs, nonce: parsed.nonce };
}

/**
 * The checks that need only the headers and the clock (MISSING, MALFORMED, EXPIRED), so a server
 * can refuse before reading the body. `verifyRequest` repeats them.
 */
export function precheckRequest(headers: RequestHeaders, nowMs: number, maxClockSkewMs = DEFAULT_MAX_CLOCK_SKEW_MS): SignatureHeaders {
  const parsed = readSignatureHeaders(headers);
  checkClockWindow(parsed.timestampMs, nowMs, maxClockSkewMs);
  return parsed;
}

/** Parses the four headers; MISSING names the absent ones, MALFORMED the unreadable one. */
export function readSignatureHeaders(headers: RequestHeaders): SignatureHeaders {
  const lower = new Map<string, string | readonly string[]>();
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) lower.set(name.toLowerCase(), value);
  const values = SIGNED_REQUEST_HEADERS.map((name) => [name, lower.get(name.toLowerCase())] as const);
  const missing = values.filter(([, v]) => v === undefined).map(([name]) => name);
  if (missing.length === SIGNED_REQUEST_HEADERS.length) {
    throw new AuthError('MISSING', `this request must be signed by a user key (headers ${SIGNED_REQUEST_HEADERS.join(', ')}); create a key with \`peercloud user create NAME\``);
  }
  if (missing.length > 0) throw new AuthError('MISSING', `signed request lacks header${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const [user, timestamp, nonce, signature] = values.map(([name, v]) => single(name, v!));

  const publicKey = decodePublicKey(user, `header ${USER_HEADER}`);
  if (!TIMESTAMP_PATTERN.test(timestamp) || !Number.isSafeInteger(Number(timestamp))) {
    throw new AuthError('MALFORMED', `header ${TIMESTAMP_HEADER} must be milliseconds since 1970 as a decimal integer, got ${show(timestamp)}`);
  }
  decodeBase64Url(nonce, `header ${NONCE_HEADER}`, NONCE_BYTES);
  const match = SIGNATURE_VALUE_PATTERN.exec(signature);
  if (!match) throw new AuthError('MALFORMED', `header ${SIGNATURE_HEADER} must be ${REQUEST_SIGNATURE_VERSION}=<base64url signature>, got ${show(signature)}`);
  if (match[1] !== REQUEST_SIGNATURE_VERSION) {
    throw new AuthError('MALFORMED', `header ${SIGNATURE_HEADER} uses signature version ${match[1]}; this node understands ${REQUEST_SIGNATURE_VERSION}`);
  }
  return {
    publicKey,
    publicKeyText: user,
    userId: userIdFromPublicKey(publicKey),
    timestampMs: Number(timestamp),
    timestampText: timestamp,
    nonce,
    signature: decodeSignature(match[2], `header ${SIGNATURE_HEADER}`),
  };
}

/** EXPIRED unless |now − timestamp| ≤ maxClockSkewMs; the message says by how much and which way. */
export function checkClockWindow(timestampMs: number, nowMs: number, maxClockSkewMs: number): void {
  const skew = timestampMs - nowMs;
  if (Math.abs(skew) <= maxClockSkewMs) return;
  const minutes = (ms: number) => (ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`);
  const where = skew < 0 ? 'behind' : 'ahead of';
  throw new AuthError(
    'EXPIRED',
    `request timestamp ${new Date(timestampMs).toISOString()} is ${minutes(Math.abs(skew))} ${where} this node's clock; signed requests are accepted within ±${minutes(maxClockSkewMs)}: sign it again, and check the clocks if this repeats`,
  );
}

/** SHA-256 of a body; a string is hashed as its UTF-8 bytes, no body as zero bytes. */
export function sha256(body: Uint8Array | string | undefined): Uint8Array {
  return new Uint8Array(createHash('sha256').update(body ?? new Uint8Array(0)).digest());
}

function single(name: string, value: string | readonly string[]): string {
  if (typeof value === 'string') return value;
  if (value.length === 1) return value[0];
  throw new AuthError('MALFORMED', `header ${name} was sent ${value.length} times`);
}
