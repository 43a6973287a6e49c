/**
 * Network addresses in node descriptors: validation and wire form. A descriptor tells other nodes
 * where to connect, so an address a peer could not sensibly connect to (0.0.0.0, multicast,
 * broadcast, port 0) is refused outright, and loopback / private / link-local addresses only under
 * a policy that allows them. IP literals travel as 4 or 16 raw bytes (one canonical form each:
 * an IPv4 address is never sent as IPv4-mapped IPv6); DNS names as lowercase LDH strings.
 * Hostnames are not resolved here: the transport must apply the same policy to what they resolve to.
 */
import ipaddr from 'ipaddr.js';
import { CodecError } from './errors.js';
import { bytes, show } from './fields.js';

export interface NodeAddress {
  /** IPv4 dotted quad, IPv6 in RFC 5952 form, or a lowercase DNS name. */
  readonly host: string;
  readonly port: number;
}

export interface AddressPolicy {
  /** 127.0.0.0/8 and ::1: single-machine clusters and tests. */
  readonly allowLoopback: boolean;
  /** RFC 1918, 100.64.0.0/10 and fc00::/7: clouds on a LAN. */
  readonly allowPrivate: boolean;
  /** 169.254.0.0/16 and fe80::/10 (an IPv6 link-local address is ambiguous without a zone). */
  readonly allowLinkLocal: boolean;
  /** Unspecified (0.0.0.0, ::), multicast, limited broadcast and reserved ranges. */
  readonly allowSpecial: boolean;
  readonly allowHostnames: boolean;
  /** At most 253 (the DNS limit). */
  readonly maxHostnameLength: number;
}

/** Private and loopback addresses are allowed by default: peercloud runs on LANs and on one machine in tests. */
export const defaultAddressPolicy: AddressPolicy = Object.freeze({
  allowLoopback: true,
  allowPrivate: true,
  allowLinkLocal: false,
  allowSpecial: false,
  allowHostnames: true,
  maxHostnameLength: 253,
});

/** The wire form (`Address` in schema.ts). */
export interface WireAddress {
  ip?: Uint8Array;
  hostname?: string;
  port: number;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const NUMERIC = /^[0-9]+$/;

/** Why `address` is not acceptable under `policy`, or null. Hosts must already be canonical. */
export function addressProblem(address: NodeAddress, policy: AddressPolicy): string | null {
  if (typeof address !== 'object' || address === null) return 'must be a {host, port} object';
  const { host, port } = address;
  const bad = portProblem(port);
  if (bad) return bad;
  if (typeof host !== 'string') return `host must be a string, got ${show(host)}`;
  const ip = parseIp(host);
  if (ip) {
    if (ip.toCanonical() !== host) return `host ${show(host)} is not in canonical form (${ip.toCanonical()})`;
    return ipProblem(ip.address, policy);
  }
  return hostnameProblem(host, policy);
}

/** `address` with its host in canonical form (lowercase name, compact IPv6); throws a RangeError if unusable. */
export function normalizeAddress(address: NodeAddress, policy: AddressPolicy = defaultAddressPolicy): NodeAddress {
  const host = typeof address.host === 'string' ? address.host.trim() : address.host;
  const ip = typeof host === 'string' ? parseIp(host) : null;
  const normalized = { host: ip ? ip.toCanonical() : typeof host === 'string' ? host.toLowerCase() : host, port: address.port };
  const problem = addressProblem(normalized, policy);
  if (problem) throw new RangeError(`address ${show(address.host)}:${show(address.port)}: ${problem}`);
  return normalized;
}

/** The wire form of a canonical, valid address. */
export function addressToWire(address: NodeAddress): WireAddress {
  const ip = parseIp(address.host);
  if (ip) return { ip: new Uint8Array(ip.address.toByteArray()), port: address.port };
  return { hostname: address.host, port: address.port };
}

/** A decoded `Address` message, checked against `policy`. */
export function addressFromWire(raw: Record<string, unknown>, policy: AddressPolicy, field: string): NodeAddress {
  // protobufjs applies protobuf's rule for a oneof sent twice (the last member wins), so at most one is set.
  const hasIp = Object.prototype.hasOwnProperty.call(raw, 'ip');
  const hasName = Object.prototype.hasOwnProperty.call(raw, 'hostname');
  const port = raw.port as number;
  let host: string;
  let problem: string | null = portProblem(port);
  if (hasIp) {
    const b = bytes(`${field}.ip`, raw.ip, {});
    if (b.length !== 4 && b.length !== 16) throw new CodecError(`${field}.ip`, `must be 4 or 16 bytes, got ${b.length}`);
    const address = ipaddr.fromByteArray(Array.from(b));
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      throw new CodecError(`${field}.ip`, 'IPv4-mapped IPv6 address (send the IPv4 address)');
    }
    // Checked on the parsed address: formatting it and parsing the text again is most of the cost.
    host = canonicalIp(address);
    problem ??= ipProblem(address, policy);
  } else if (hasName) {
    if (typeof raw.hostname !== 'string') throw new CodecError(`${field}.hostname`, `must be a string, got ${show(raw.hostname)}`);
    host = raw.hostname;
    problem ??= hostnameProblem(host, policy);
  } else {
    throw new CodecError(field, 'has neither an IP address nor a hostname');
  }
  if (problem) throw new CodecError(field, problem);
  return { host, port };
}

function portProblem(port: unknown): string | null {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return `port must be an integer in 1..65535, got ${show(port)}`;
  return null;
}

interface ParsedIp {
  address: ipaddr.IPv4 | ipaddr.IPv6;
  toCanonical(): string;
}

function parseIp(host: string): ParsedIp | null {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  // Only plain dotted quads count as IPv4 (ipaddr.js also accepts octal/hex/short forms, which
  // resolvers interpret inconsistently); IPv6 zone ids have no meaning for another machine.
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) address = ipaddr.IPv4.parse(host);
  else if (host.includes(':') && !host.includes('%') && ipaddr.IPv6.isValid(host)) address = ipaddr.IPv6.parse(host);
  else return null;
  return { address, toCanonical: () => canonicalIp(address) };
}

function canonicalIp(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  return address.kind() === 'ipv4' ? (address as ipaddr.IPv4).octets.join('.') : (address as ipaddr.IPv6).toRFC5952String();
}

function ipProblem(address: ipaddr.IPv4 | ipaddr.IPv6, policy: AddressPolicy): string | null {
  const range: string = address.range();
  const text = canonicalIp(address);
  switch (range) {
    case 'unspecified':
    case 'multicast':
    case 'broadcast':
    case 'reserved':
      return policy.allowSpecial ? null : `${text} is a ${range} address, not one a peer can connect to`;
    case 'loopback':
      return policy.allowLoopback ? null : `${text} is a loopback address (not allowed by the address policy)`;
    case 'private':
    case 'carrierGradeNat':
    case 'uniqueLocal':
      return policy.allowPrivate ? null : `${text} is a private address (not allowed by the address policy)`;
    case 'linkLocal':
      return policy.allowLinkLocal ? null : `${text} is a link-local address (not allowed by the address policy)`;
    case 'ipv4Mapped':
      return `${text} is an IPv4-mapped IPv6 address (use the IPv4 address)`;
    default:
      return null;
  }
}

function hostnameProblem(host: string, policy: AddressPolicy): string | null {
  if (!policy.allowHostnames) return `hostnames are not allowed by the address policy, got ${show(host)}`;
  if (host.length === 0) return 'host is empty';
  if (host.length > policy.maxHostnameLength) return `hostname is ${host.length} characters, at most ${policy.maxHostnameLength} allowed`;
  const labels = host.split('.');
  for (const label of labels) {
    if (!LABEL.test(label)) return `hostname ${show(host)} is not a lowercase DNS name (letters, digits, inner hyphens; labels of 1..63)`;
  }
  // An all-numeric last label would make the name look like an IPv4 address to resolvers.
  if (NUMERIC.test(labels[labels.length - 1])) return `hostname ${show(host)} ends in a numeric label`;
  return null;
}
