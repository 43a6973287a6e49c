/**
 * Why a signed request or signed object was refused. One class for every refusal so that callers
 * (the API, the gossip layer) catch one thing; `code` says which check failed and `status` the HTTP
 * status it maps to: 401 when we cannot tell who is asking (or cannot believe them), 403 when we
 * know who is asking and the answer is no.
 */
export type AuthErrorCode =
  /** No signature at all, or some of its parts absent. */
  | 'MISSING'
  /** A signature part is present but unreadable (bad encoding, wrong length, unknown version). */
  | 'MALFORMED'
  /** Well-formed, but not a valid signature of this request by this key. */
  | 'BAD_SIGNATURE'
  /** The timestamp is outside the accepted clock window. */
  | 'EXPIRED'
  /** The nonce was already used (or is too old for the replay cache to vouch for). */
  | 'REPLAYED'
  /** Authenticated, but the policy does not allow this user this action. */
  | 'DENIED';

export const AUTH_ERROR_CODES: readonly AuthErrorCode[] = ['MISSING', 'MALFORMED', 'BAD_SIGNATURE', 'EXPIRED', 'REPLAYED', 'DENIED'];

export class AuthError extends Error {
  readonly code: AuthErrorCode;
  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthError';
    this.code = code;
  }

  /** 403 for DENIED (we know who asks), 401 for everything else (we do not, or cannot believe it). */
  get status(): 401 | 403 {
    return this.code === 'DENIED' ? 403 : 401;
  }
}
