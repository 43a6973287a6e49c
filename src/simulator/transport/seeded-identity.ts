/**
 * Node identities drawn from the simulation's seeded generator, so that a simulated cloud has the
 * same node ids (and the same signatures: Ed25519 signing is deterministic) in every run of a seed.
 * The keys are real Ed25519 keys and go through the daemon's own identity code; they are not
 * secret (anyone with the seed has them), which is the point in a simulation and the reason this
 * lives in the simulator, never in the daemon.
 */
import { createPrivateKey } from 'node:crypto';
import type { Random } from '../../core/random.js';
import { type NodeIdentity, identityFromPrivateKey } from '../../node/identity.js';

/** DER prefix of an Ed25519 PKCS#8 private key (RFC 8410): the raw 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An identity whose 32-byte Ed25519 seed is drawn from `random`. */
export function seededIdentity(random: Random): NodeIdentity {
  const seed = Buffer.alloc(32);
  for (let i = 0; i < seed.length; i++) seed[i] = random.int(256);
  const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return identityFromPrivateKey(key);
}
