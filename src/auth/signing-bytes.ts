/**
 * The exact bytes users sign, in one dependency-free module (no Node APIs) so that every signer
 * builds them the same way: the CLI and the daemon (through user-signature.ts, signed-request.ts
 * and signed-object.ts, which add node:crypto) and the web dashboard (src/web/signing.ts, with
 * @noble/ed25519). Change nothing here without a new signature version: nodes would refuse the
 * signatures of every client that did not change too.
 */
export const USER_SIGNATURE_CONTEXT = 'peercloud user signature v1\u0000';
export const PURPOSE_PATTERN = /^[a-z][a-z0-9.-]{0,62}$/;

const encoder = new TextEncoder();

export function checkPurpose(purpose: string): void {
  if (!PURPOSE_PATTERN.test(purpose)) {
    throw new RangeError(`purpose must be 1 to 63 characters: a lowercase letter, then lowercase letters, digits, '.' or '-'; got ${JSON.stringify(purpose)}`);
  }
}

function concat(head: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/** The exact bytes an Ed25519 signature covers for `purpose` and `body`. */
export function signingInput(purpose: string, body: Uint8Array): Uint8Array {
  checkPurpose(purpose);
  return concat(encoder.encode(`${USER_SIGNATURE_CONTEXT}${purpose}\u0000`), body);
}

/** The fields of a signed HTTP request (see signed-request.ts), each already checked or encoded. */
export interface CanonicalRequestFields {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  /** base64url of SHA-256 of the body bytes. */
  readonly bodySha256: string;
  readonly timestamp: string;
  readonly nonce: string;
  readonly publicKey: string;
}

/** The signed bytes of a request: the fields one per line (none can contain LF). */
export function canonicalRequest(f: CanonicalRequestFields): Uint8Array {
  return encoder.encode([f.method, f.host, f.path, f.bodySha256, f.timestamp, f.nonce, f.publicKey].join('\n'));
}

/** The signed body of a signed object (see signed-object.ts): date, signer, then the payload. */
export function signedObjectBody(issuedAt: number, user: string, payload: Uint8Array): Uint8Array {
  return concat(encoder.encode(`${issuedAt}\n${user}\n`), payload);
}

/** Unpadded base64url (RFC 4648 §5), the encoding of every key, nonce and signature we send. */
export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
