/**
 * The T-Man ring position of a node: a 32-bit key derived from its node id. Node ids are hashes of
 * public keys, so keys are uniform on the ring and nobody picks their neighbours; hashing the id
 * once more (rather than reading its base32 digits) keeps the key independent of how ids are spelled.
 */
import { createHash } from 'node:crypto';

/** An unsigned 32-bit integer: the first 4 bytes (big-endian) of SHA-256 of the node id's UTF-8 text. */
export function ringKeyOf(nodeId: string): number {
  return createHash('sha256').update(nodeId, 'utf8').digest().readUInt32BE(0);
}
