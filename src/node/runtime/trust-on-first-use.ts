/**
 * Trust on first use: learning the node id behind a bare `host:port` join entry.
 *
 * The transport pins every connection to a node id and has no "accept any key" mode, so we dial the
 * address under a random id nobody holds. The TLS handshake completes, the transport sees a key
 * that does not hash to that id, refuses the connection (PEER_KEY_MISMATCH) and logs the id the
 * peer did prove in the `actual` field; `TofuResolver` wraps the transport logger to catch it.
 * The id is then used like a configured one: every later connection is pinned to it.
 *
 * This leans on the transport's log fields; a `probe(host, port)` method on the Transport
 * interface would be the clean way and should replace this when the transport grows one.
 */
import { randomBytes } from 'node:crypto';
import { type Transport, TransportError, type TransportLogger } from '../../network/transport.js';
import { isValidNodeId } from '../identity.js';
import { MESSAGE_TYPES } from './envelope.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A syntactically valid node id that no key hashes to in practice. */
export function randomNodeId(): string {
  const bytes = randomBytes(32);
  let id = 'pc';
  for (const b of bytes) id += BASE32[b & 31];
  return id;
}

export class TofuResolver {
  private readonly waiting = new Map<string, (actual: string) => void>();

  /** The transport logger to give the transport: passes everything on to `next`. */
  wrap(next: TransportLogger): TransportLogger {
    return (level, message, fields) => {
      const probe = fields?.peer;
      const actual = fields?.actual;
      if (typeof probe === 'string' && typeof actual === 'string' && isValidNodeId(actual)) this.waiting.get(probe)?.(actual);
      next(level, message, fields);
    };
  }

  /** The id of the node at host:port; rejects with the TransportError if none could be learned. */
  async resolve(transport: Transport, host: string, port: number, timeoutMs: number): Promise<string> {
    const probe = randomNodeId();
    let learned: string | undefined;
    this.waiting.set(probe, (actual) => {
      learned = actual;
    });
    try {
      await transport.request({ nodeId: probe, host, port }, MESSAGE_TYPES.hello, new Uint8Array(0), { timeoutMs });
    } catch (err) {
      if (learned !== undefined) return learned;
      throw err;
    } finally {
      this.waiting.delete(probe);
    }
    throw new TransportError('PROTOCOL_ERROR', `${host}:${port} answered a request meant for a random node id`);
  }
}
