/**
 * Who is at the other end of a TLS connection: the Ed25519 key in the peer's certificate, and the
 * node id it hashes to. TLS 1.3's CertificateVerify has already proved the peer holds that key's
 * private half, so the certificate's own (self-)signature and CA chain carry no weight and are not
 * checked; the key is everything.
 */
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { nodeIdFromPublicKey, rawPublicKey } from '../node/identity.js';
import { type RemotePeer, TransportError } from './transport.js';

/** The authenticated peer of a connected TLS socket, or why it cannot be one. */
export function authenticatePeer(socket: TLSSocket): RemotePeer | TransportError {
  let cert: X509Certificate | undefined;
  try {
    cert = socket.getPeerX509Certificate();
  } catch (err) {
    return new TransportError('HANDSHAKE_FAILED', `unreadable peer certificate: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (cert === undefined) return new TransportError('HANDSHAKE_FAILED', 'peer presented no certificate');
  const key = cert.publicKey;
  if (key.asymmetricKeyType !== 'ed25519') {
    return new TransportError('HANDSHAKE_FAILED', `peer certificate key is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
  }
  const publicKey = rawPublicKey(key);
  return {
    nodeId: nodeIdFromPublicKey(publicKey),
    publicKey,
    remoteAddress: { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
  };
}
