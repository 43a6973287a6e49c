/**
 * The self-signed X.509 certificate a node presents in TLS: it only carries the node's Ed25519
 * public key. Nobody checks it against a CA; what authenticates a peer is TLS 1.3's CertificateVerify
 * (proof of the private key) plus the pinning of that key to the node id (see peer-certificate.ts).
 * The certificate is made at start-up from the identity key and never stored.
 */
// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the Reflect metadata
// API; importing the polyfill first (ES modules evaluate imports in order) satisfies it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';
import { type NodeIdentity, privateKeyPem, publicKeyFromRaw } from '../node/identity.js';

export interface NodeCertificate {
  /** The certificate, PEM. */
  readonly certPem: string;
  /** The identity's private key, PKCS#8 PEM, as TLS wants it. */
  readonly keyPem: string;
}

const ED25519 = { name: 'Ed25519' } as const;

/** RFC 5280 4.1.2.5: the GeneralizedTime 99991231235959Z means "no well-defined expiration". */
const NO_EXPIRY = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

let providerSet = false;

export async function createNodeCertificate(identity: NodeIdentity): Promise<NodeCertificate> {
  if (!providerSet) {
    // Node's WebCrypto implements Ed25519 (since 18.4). The casts bridge Node's WebCrypto typings
    // and the DOM ones the library is typed against (this project compiles without the DOM lib).
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    providerSet = true;
  }
  const subtle = webcrypto.subtle;
  const privateKey = await subtle.importKey(
    'pkcs8',
    identity.privateKey.export({ format: 'der', type: 'pkcs8' }),
    ED25519,
    false,
    ['sign'],
  );
  const publicKey = await subtle.importKey(
    'spki',
    publicKeyFromRaw(identity.publicKey).export({ format: 'der', type: 'spki' }),
    ED25519,
    true,
    ['verify'],
  );
  // Serial numbers are positive: clear the top bit of 16 random bytes.
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [identity.nodeId] }],
    // A day back, so a peer whose clock is behind ours sees nothing odd in logs or tools.
    notBefore: new Date(Date.now() - 24 * 3600 * 1000),
    notAfter: NO_EXPIRY,
    signingAlgorithm: ED25519,
    keys: { privateKey, publicKey } as unknown as x509.X509CertificateCreateSelfSignedParams['keys'],
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: privateKeyPem(identity) };
}
