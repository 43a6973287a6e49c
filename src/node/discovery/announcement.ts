/**
 * The LAN discovery announcement: the one datagram a node multicasts to say "a peercloud node with
 * this id listens on this port". Fixed layout, big-endian, version 1:
 *
 *   offset size  field
 *        0    4  magic "PCLD" (0x50 0x43 0x4c 0x44): not a peercloud announcement otherwise
 *        4    1  version = 1
 *        5    1  flags: bits 0-1 = host kind (0 none, 1 IPv4, 2 IPv6); bits 2-7 must be 0
 *        6    8  cloud tag hash (see cloudTagHash)
 *       14   34  node id, ASCII ("pc" + 32 base32 characters, as in identity.ts)
 *       48    2  transport port, 1..65535
 *       50 0/4/16 host (raw IP bytes, as the host kind says)
 *
 * 50, 54 or 66 bytes: far below any MTU, so an announcement is never fragmented. Without a host the
 * receiver uses the datagram's source address, which is right whenever the node's transport listens
 * on the interface it multicasts from; a node announces a host only when it advertises an explicit
 * IP. Host names are never carried: a receiver would have to resolve them, and DNS lookups triggered
 * by unauthenticated datagrams are a cost anyone on the LAN could impose.
 *
 * Version 1 is strict: any other length, a non-zero reserved bit or an invalid field is malformed.
 * A later version gets a new version byte (and may be longer, up to MAX_DATAGRAM_BYTES).
 */
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { NODE_ID_LENGTH, isValidNodeId } from '../identity.js';

export const ANNOUNCEMENT_MAGIC = Buffer.from('PCLD', 'latin1');
export const ANNOUNCEMENT_VERSION = 1;
/** Bytes of SHA-256 kept as the cloud tag hash: enough to make accidental collisions negligible. */
export const CLOUD_TAG_HASH_BYTES = 8;
/** Datagrams longer than this are dropped unread (no version of the format needs more). */
export const MAX_DATAGRAM_BYTES = 512;

const OFFSET_VERSION = 4;
const OFFSET_FLAGS = 5;
const OFFSET_TAG = 6;
const OFFSET_NODE_ID = OFFSET_TAG + CLOUD_TAG_HASH_BYTES;
const OFFSET_PORT = OFFSET_NODE_ID + NODE_ID_LENGTH;
const OFFSET_HOST = OFFSET_PORT + 2;
/** Length of a version-1 announcement without a host. */
export const ANNOUNCEMENT_BASE_BYTES = OFFSET_HOST;

const HOST_NONE = 0;
const HOST_IPV4 = 1;
const HOST_IPV6 = 2;
const HOST_KIND_MASK = 0b11;

/** Domain separation: the hash of a tag means nothing outside this protocol. */
const TAG_HASH_PREFIX = 'peercloud lan discovery v1\0';

/**
 * The first 8 bytes of SHA-256 over a fixed prefix and the UTF-8 tag. The tag is a filter, not a
 * secret or a credential: anyone who hears an announcement can replay its hash. '' is the default
 * cloud.
 */
export function cloudTagHash(cloudTag: string): Buffer {
  return createHash('sha256').update(TAG_HASH_PREFIX).update(cloudTag, 'utf8').digest().subarray(0, CLOUD_TAG_HASH_BYTES);
}

export interface Announcement {
  readonly cloudTagHash: Uint8Array;
  readonly nodeId: string;
  readonly port: number;
  /** Canonical IP text (dotted quad or RFC 5952), or undefined: use the datagram's source address. */
  readonly host?: string;
}

/** Why a datagram is not an acceptable announcement (decoding only; policy checks come later). */
export type DecodeFailure = 'oversized' | 'badMagic' | 'badVersion' | 'malformed';

export type DecodeResult = { readonly ok: true; readonly announcement: Announcement } | { readonly ok: false; readonly reason: DecodeFailure; readonly detail: string };

/** Encodes an announcement; throws a RangeError naming the field if it cannot be represented. */
export function encodeAnnouncement(announcement: Announcement): Buffer {
  const { nodeId, port, host } = announcement;
  if (!isValidNodeId(nodeId)) throw new RangeError(`announcement nodeId ${JSON.stringify(nodeId)} is not a node id`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`announcement port must be an integer in 1..65535, got ${port}`);
  if (announcement.cloudTagHash.length !== CLOUD_TAG_HASH_BYTES) {
    throw new RangeError(`announcement cloudTagHash must be ${CLOUD_TAG_HASH_BYTES} bytes, got ${announcement.cloudTagHash.length}`);
  }
  let hostKind = HOST_NONE;
  let hostBytes: number[] = [];
  if (host !== undefined) {
    const ip = parseIpLiteral(host);
    if (!ip) throw new RangeError(`announcement host ${JSON.stringify(host)} is not an IP address`);
    hostKind = ip.kind() === 'ipv4' ? HOST_IPV4 : HOST_IPV6;
    hostBytes = ip.toByteArray();
  }
  const out = Buffer.alloc(OFFSET_HOST + hostBytes.length);
  ANNOUNCEMENT_MAGIC.copy(out, 0);
  out[OFFSET_VERSION] = ANNOUNCEMENT_VERSION;
  out[OFFSET_FLAGS] = hostKind;
  out.set(announcement.cloudTagHash, OFFSET_TAG);
  out.write(nodeId, OFFSET_NODE_ID, 'latin1');
  out.writeUInt16BE(port, OFFSET_PORT);
  out.set(hostBytes, OFFSET_HOST);
  return out;
}

/** Decodes a datagram. Never throws: every way it can be wrong is a DecodeFailure. */
export function decodeAnnouncement(datagram: Uint8Array): DecodeResult {
  const n = datagram.length;
  if (n > MAX_DATAGRAM_BYTES) return failure('oversized', `${n} bytes, at most ${MAX_DATAGRAM_BYTES}`);
  if (n < ANNOUNCEMENT_MAGIC.length || !ANNOUNCEMENT_MAGIC.equals(datagram.subarray(0, ANNOUNCEMENT_MAGIC.length))) {
    return failure('badMagic', 'does not start with the announcement magic "PCLD"');
  }
  if (n <= OFFSET_VERSION) return failure('malformed', 'truncated before the version byte');
  const version = datagram[OFFSET_VERSION];
  if (version !== ANNOUNCEMENT_VERSION) return failure('badVersion', `version ${version}, this node speaks ${ANNOUNCEMENT_VERSION}`);
  if (n < OFFSET_HOST) return failure('malformed', `${n} bytes, a version-1 announcement has at least ${OFFSET_HOST}`);
  const flags = datagram[OFFSET_FLAGS];
  const hostKind = flags & HOST_KIND_MASK;
  if (flags & ~HOST_KIND_MASK || hostKind === 3) return failure('malformed', `flags 0x${flags.toString(16)} has reserved bits set`);
  const hostLength = hostKind === HOST_IPV4 ? 4 : hostKind === HOST_IPV6 ? 16 : 0;
  if (n !== OFFSET_HOST + hostLength) return failure('malformed', `${n} bytes, expected ${OFFSET_HOST + hostLength} for host kind ${hostKind}`);
  const bytes = Buffer.from(datagram.buffer, datagram.byteOffset, n);
  const nodeId = bytes.toString('latin1', OFFSET_NODE_ID, OFFSET_PORT);
  if (!isValidNodeId(nodeId)) return failure('malformed', 'the node id field is not a node id');
  const port = bytes.readUInt16BE(OFFSET_PORT);
  if (port === 0) return failure('malformed', 'port 0');
  let host: string | undefined;
  if (hostLength > 0) {
    const ip = ipaddr.fromByteArray(Array.from(bytes.subarray(OFFSET_HOST, OFFSET_HOST + hostLength)));
    host = canonicalIp(ip);
  }
  const cloudTagHash = Uint8Array.from(bytes.subarray(OFFSET_TAG, OFFSET_TAG + CLOUD_TAG_HASH_BYTES));
  return { ok: true, announcement: host === undefined ? { cloudTagHash, nodeId, port } : { cloudTagHash, nodeId, port, host } };
}

/**
 * A dotted-quad IPv4 or an IPv6 literal (no zone), or null. ipaddr.js also accepts octal, hex and
 * short IPv4 forms, which resolvers interpret inconsistently, so only four decimal parts count.
 */
export function parseIpLiteral(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return null;
}

/** The canonical text of an address, as network/codec/address.ts expects it. */
export function canonicalIp(ip: ipaddr.IPv4 | ipaddr.IPv6): string {
  return ip.kind() === 'ipv4' ? (ip as ipaddr.IPv4).octets.join('.') : (ip as ipaddr.IPv6).toRFC5952String();
}

function failure(reason: DecodeFailure, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}
