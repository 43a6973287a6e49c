/**
 * The node's TLS certificate, kept beside its identity key in `<dataDir>/node-certificate.pem`.
 *
 * Why kept: making it takes @peculiar/x509 and its reflect-metadata polyfill, ~6 MiB of resident
 * memory that a daemon would carry for the rest of its life, to produce the same kind of certificate
 * at every start. Read back, it costs a PEM parse with node:crypto. `createIdentity` writes it with
 * the key (so even a first start does without the library); a daemon makes and saves it only when
 * the file is missing or does not belong to its key.
 *
 * The certificate is public (it carries the identity's public key and nothing else, see
 * src/network/self-signed-certificate.ts). Whatever the file holds is checked against the identity's
 * private key before use: a stale certificate (after `init --force`) or a foreign one is replaced,
 * never presented.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeCertificate } from '../network/self-signed-certificate.js';
import { type NodeIdentity, privateKeyPem } from './identity.js';

export const CERTIFICATE_FILE = 'node-certificate.pem';

export function certificatePath(dataDir: string): string {
  return join(dataDir, CERTIFICATE_FILE);
}

/**
 * The identity's certificate: the saved one if it matches the key, else a new one (saved for next
 * time; a failure to save is reported to `warn` and changes nothing else).
 */
export async function loadNodeCertificate(dataDir: string, identity: NodeIdentity, warn: (message: string) => void = () => {}): Promise<NodeCertificate> {
  const path = certificatePath(dataDir);
  let pem: string | undefined;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot read ${path} (${(err as Error).message}); making a new certificate`);
  }
  if (pem !== undefined) {
    const problem = certificateProblem(pem, identity);
    if (problem === null) return { certPem: pem, keyPem: privateKeyPem(identity) };
    warn(`${path} ${problem}; making a new certificate`);
  }
  const certificate = await makeCertificate(identity);
  try {
    await writeAtomically(path, certificate.certPem);
  } catch (err) {
    warn(`cannot save the certificate to ${path}: ${(err as Error).message}`);
  }
  return certificate;
}

/** Makes the identity's certificate and saves it in the data directory (what `createIdentity` does). */
export async function saveNodeCertificate(dataDir: string, identity: NodeIdentity): Promise<void> {
  await writeAtomically(certificatePath(dataDir), (await makeCertificate(identity)).certPem);
}

/** Why `pem` is not a certificate for `identity`'s key, or null. */
export function certificateProblem(pem: string, identity: NodeIdentity): string | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    return `is not a PEM certificate (${(err as Error).message})`;
  }
  if (cert.publicKey.asymmetricKeyType !== 'ed25519') return `holds a ${cert.publicKey.asymmetricKeyType ?? 'unknown'} key, not Ed25519`;
  if (!cert.checkPrivateKey(identity.privateKey)) return `is for another key than this node's identity (${identity.nodeId})`;
  return null;
}

/** The library is loaded here only, when a certificate must be made (see the header). */
async function makeCertificate(identity: NodeIdentity): Promise<NodeCertificate> {
  const { createNodeCertificate } = await import('../network/self-signed-certificate.js');
  return createNodeCertificate(identity);
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
