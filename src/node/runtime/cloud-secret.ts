/**
 * Private clouds: a cloud-wide join secret that only invited machines know. With it configured,
 * every request a node sends starts with a 16-byte proof, and a node answers only requests whose
 * proof is right; a node without the secret can neither join nor gossip, and it learns nothing
 * (its requests are refused before anything is decoded).
 *
 * The proof is HMAC-SHA256(secret, context ‖ sender id ‖ receiver id), truncated to 16 bytes. It is
 * the same for every request between two nodes, which is enough: requests travel inside TLS (no
 * eavesdropper sees a proof), the transport has already authenticated both node ids with their keys
 * (a proof copied from one pair is useless for another), and the secret itself never travels.
 * Changing the secret means restarting every node with the new one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const PROOF_BYTES = 16;
const CONTEXT = 'peercloud cloud member v1\u0000';

export class CloudSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CloudSecretError';
  }
}

export class CloudSecret {
  private readonly key: Buffer;
  private readonly cache = new Map<string, Buffer>();

  constructor(secret: string) {
    if (typeof secret !== 'string' || secret.length < 16) throw new RangeError('a cloud join secret needs at least 16 characters');
    this.key = Buffer.from(secret, 'utf8');
  }

  /** The proof `from` puts in front of its requests to `to`. */
  proof(from: string, to: string): Buffer {
    const id = `${from}>${to}`;
    let p = this.cache.get(id);
    if (p === undefined) {
      p = createHmac('sha256', this.key).update(CONTEXT).update(from).update('\u0000').update(to).digest().subarray(0, PROOF_BYTES);
      if (this.cache.size > 4096) this.cache.clear();
      this.cache.set(id, p);
    }
    return p;
  }

  /** `payload` with the proof for a request from `from` to `to` in front. */
  seal(from: string, to: string, payload: Uint8Array): Uint8Array {
    const out = new Uint8Array(PROOF_BYTES + payload.length);
    out.set(this.proof(from, to), 0);
    out.set(payload, PROOF_BYTES);
    return out;
  }

  /** The request without its proof; throws CloudSecretError if the proof is missing or wrong. */
  open(from: string, to: string, payload: Uint8Array): Uint8Array {
    if (payload.length < PROOF_BYTES) throw new CloudSecretError('request without the cloud membership proof (this is a private cloud)');
    const expected = this.proof(from, to);
    if (!timingSafeEqual(Buffer.from(payload.buffer, payload.byteOffset, PROOF_BYTES), expected)) {
      throw new CloudSecretError('wrong cloud membership proof: the sender does not know this cloud\'s join secret');
    }
    return payload.subarray(PROOF_BYTES);
  }
}
