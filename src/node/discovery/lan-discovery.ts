/**
 * Optional LAN discovery: nodes multicast a tiny announcement (announcement.ts) to a site-local
 * group, and every node that hears one tells the daemon through `onPeer`. It is a bootstrap aid for
 * clouds on one network segment, where nobody wants to type `--join` addresses; off by default,
 * because it tells the whole LAN that a node is there.
 *
 * Discovery only *suggests* candidates. Announcements are unauthenticated and anyone on the LAN can
 * forge one, so nothing here is trusted: the node id in an announcement is used as the id the
 * transport pins when it dials (TLS with the peer's key checked against that id), so a forged
 * announcement can at worst make the daemon try a connection that fails authentication. Everything
 * else is about keeping that worst case cheap: datagrams are size-capped and strictly validated,
 * announced addresses must pass the same address policy as descriptors (and a loopback address is
 * only believed from the same machine), the cloud tag keeps different clouds on one LAN apart, and
 * `onPeer` is rate-limited per node id with a bounded table of ids (peer-notify-limiter.ts).
 * Nothing that arrives on the socket can throw out of this module; every dropped datagram is counted
 * in `stats` under the reason it was dropped.
 *
 * Multicast details: IPv4 only for now; the socket is bound with SO_REUSEADDR so several nodes on
 * one machine share the port, multicast loopback is on so they hear each other, and the TTL is 1 so
 * announcements never leave the segment. On Linux and macOS the socket is bound to the group address
 * itself, so it receives only that group's datagrams (not unicast sent to the port, nor other groups
 * joined on the host); Windows cannot bind to a multicast address, so there it binds to 0.0.0.0 and
 * relies on validation. When a node hears an id it did not know, it answers with one early
 * announcement (after a random delay of at most 250 ms, and at most one per tenth of the interval,
 * so invented ids cannot make it chatty), so a newly started node is found by, and finds, the others
 * within a fraction of a second instead of a full interval.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import type { Clock } from '../../core/clock.js';
import { type Random, SeededRandom } from '../../core/random.js';
import { type AddressPolicy, addressProblem, defaultAddressPolicy } from '../../network/codec/address.js';
import { type Cancel, type Timers, realTimers } from '../attributes-system.js';
import { DEFAULT_DISCOVERY_PORT } from '../config-settings.js';
import { isValidNodeId } from '../identity.js';
import { type Logger, silentLogger } from '../logger.js';
import { CycleTimer } from '../runtime/cycle-timer.js';
import { type Announcement, cloudTagHash, decodeAnnouncement, encodeAnnouncement, parseIpLiteral } from './announcement.js';
import { PeerNotifyLimiter } from './peer-notify-limiter.js';

/** The default group: administratively scoped (RFC 2365, 239.255.0.0/16), the config's default. */
export const DEFAULT_DISCOVERY_GROUP = '239.255.70.99';
export { DEFAULT_DISCOVERY_PORT };
export const DEFAULT_DISCOVERY_INTERVAL_MS = 10_000;
/** Announcement waits are drawn from interval × [1 − jitter, 1 + jitter]. */
export const DEFAULT_DISCOVERY_JITTER = 0.2;
export const DEFAULT_MAX_TRACKED_PEERS = 1024;
/** Least interval accepted (tests use short ones; the config allows 1 s and up). */
export const MIN_DISCOVERY_INTERVAL_MS = 10;

/** A candidate peer: dial `host:port` and require the peer to prove the key of `nodeId`. */
export interface DiscoveredPeer {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
}

export interface LanDiscoveryOptions {
  /** This node: its id and the transport address it advertises (what we announce). */
  readonly self: DiscoveredPeer;
  /** Called for each accepted announcement, at most once per `peerNotifyIntervalMs` per node id. Exceptions are caught and logged. */
  readonly onPeer: (peer: DiscoveredPeer) => void;
  /** IPv4 multicast group (default 239.255.70.99). */
  readonly group?: string;
  /** UDP port of the group (default 7948; 0 picks a free port, for tests: read `boundPort` and give it to the others). */
  readonly port?: number;
  /** IPv4 address of the interface to join the group on and multicast from (default: the kernel's choice, usually the default route's). */
  readonly interfaceAddress?: string;
  /** Mean time between announcements (default 10 000 ms). */
  readonly intervalMs?: number;
  /** Jitter fraction of the interval, 0..0.5 (default 0.2). */
  readonly jitter?: number;
  /** Clouds with different tags on one LAN ignore each other (default '': the untagged cloud). */
  readonly cloudTag?: string;
  /** Multicast TTL, 1..255 (default 1: the local segment only). */
  readonly ttl?: number;
  /** Per-node-id rate limit of `onPeer` (default intervalMs / 2, so on-schedule announcements all pass). */
  readonly peerNotifyIntervalMs?: number;
  /** Node ids remembered for rate limiting (default 1024); beyond that, new ids are ignored. */
  readonly maxTrackedPeers?: number;
  /** Which announced addresses are acceptable (default: the descriptor codec's default policy). */
  readonly addressPolicy?: AddressPolicy;
  readonly random?: Random;
  readonly timers?: Timers;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Why a received datagram led to no `onPeer` call. */
export type IgnoreReason =
  | 'oversized'
  | 'badMagic'
  | 'badVersion'
  | 'malformed'
  | 'otherCloud'
  | 'self'
  | 'badAddress'
  | 'rateLimited'
  | 'tooManyPeers';

export const IGNORE_REASONS: readonly IgnoreReason[] = [
  'oversized',
  'badMagic',
  'badVersion',
  'malformed',
  'otherCloud',
  'self',
  'badAddress',
  'rateLimited',
  'tooManyPeers',
];

/** Counters since construction. `received` = `accepted` + the sum of `ignored`. */
export interface LanDiscoveryStats {
  readonly sent: number;
  readonly sendErrors: number;
  readonly socketErrors: number;
  readonly received: number;
  readonly accepted: number;
  readonly ignored: Readonly<Record<IgnoreReason, number>>;
  /** `onPeer` calls that threw. */
  readonly callbackErrors: number;
}

export type LanDiscoveryErrorCode = 'INVALID_OPTION' | 'ALREADY_STARTED' | 'BIND_FAILED' | 'JOIN_GROUP_FAILED';

export class LanDiscoveryError extends Error {
  readonly code: LanDiscoveryErrorCode;
  constructor(code: LanDiscoveryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LanDiscoveryError';
    this.code = code;
  }
}

type State = 'idle' | 'starting' | 'running' | 'stopped';

interface MutableStats {
  sent: number;
  sendErrors: number;
  socketErrors: number;
  received: number;
  accepted: number;
  ignored: Record<IgnoreReason, number>;
  callbackErrors: number;
}

export class LanDiscovery {
  private readonly group: string;
  private readonly requestedPort: number;
  private readonly interfaceAddress: string | undefined;
  private readonly intervalMs: number;
  private readonly jitter: number;
  private readonly ttl: number;
  private readonly tagHash: Buffer;
  private readonly announcement: Buffer;
  private readonly policy: AddressPolicy;
  private readonly random: Random;
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly limiter: PeerNotifyLimiter;
  private readonly counters: MutableStats;

  private state: State = 'idle';
  private socket: Socket | undefined;
  private starting: Promise<void> | undefined;
  private cycle: CycleTimer | undefined;
  private cancelReply: Cancel | undefined;
  private lastReplyAt = Number.NEGATIVE_INFINITY;
  private sendFailing = false;
  private port = 0;

  constructor(private readonly options: LanDiscoveryOptions) {
    const { self } = options;
    if (typeof self !== 'object' || self === null) invalid('self must be { nodeId, host, port }');
    if (!isValidNodeId(self.nodeId)) invalid(`self.nodeId ${JSON.stringify(self.nodeId)} is not a node id`);
    if (!isPort(self.port, false)) invalid(`self.port must be an integer in 1..65535, got ${String(self.port)}`);
    if (typeof self.host !== 'string' || self.host.length === 0) invalid('self.host must be a non-empty string');
    if (typeof options.onPeer !== 'function') invalid('onPeer must be a function');

    this.group = options.group ?? DEFAULT_DISCOVERY_GROUP;
    const groupIp = parseIpLiteral(this.group);
    if (!groupIp || groupIp.range() !== 'multicast') invalid(`group ${JSON.stringify(this.group)} is not a multicast IP address`);
    if (groupIp.kind() !== 'ipv4') invalid(`group ${this.group} is IPv6; LAN discovery supports IPv4 multicast groups only`);
    this.requestedPort = options.port ?? DEFAULT_DISCOVERY_PORT;
    if (!isPort(this.requestedPort, true)) invalid(`port must be an integer in 0..65535, got ${String(this.requestedPort)}`);
    this.interfaceAddress = options.interfaceAddress;
    if (this.interfaceAddress !== undefined && parseIpLiteral(this.interfaceAddress)?.kind() !== 'ipv4') {
      invalid(`interfaceAddress ${JSON.stringify(this.interfaceAddress)} is not an IPv4 address`);
    }
    this.intervalMs = options.intervalMs ?? DEFAULT_DISCOVERY_INTERVAL_MS;
    if (!(Number.isFinite(this.intervalMs) && this.intervalMs >= MIN_DISCOVERY_INTERVAL_MS)) {
      invalid(`intervalMs must be at least ${MIN_DISCOVERY_INTERVAL_MS}, got ${String(this.intervalMs)}`);
    }
    this.jitter = options.jitter ?? DEFAULT_DISCOVERY_JITTER;
    if (!(this.jitter >= 0 && this.jitter <= 0.5)) invalid(`jitter must be in [0, 0.5], got ${String(this.jitter)}`);
    this.ttl = options.ttl ?? 1;
    if (!(Number.isInteger(this.ttl) && this.ttl >= 1 && this.ttl <= 255)) invalid(`ttl must be an integer in 1..255, got ${String(this.ttl)}`);
    const cloudTag = options.cloudTag ?? '';
    if (typeof cloudTag !== 'string') invalid('cloudTag must be a string');
    const notifyGap = options.peerNotifyIntervalMs ?? this.intervalMs / 2;
    if (!(Number.isFinite(notifyGap) && notifyGap >= 0)) invalid(`peerNotifyIntervalMs must be >= 0, got ${String(notifyGap)}`);
    const maxTracked = options.maxTrackedPeers ?? DEFAULT_MAX_TRACKED_PEERS;
    if (!(Number.isInteger(maxTracked) && maxTracked >= 1)) invalid(`maxTrackedPeers must be a positive integer, got ${String(maxTracked)}`);

    this.tagHash = cloudTagHash(cloudTag);
    this.announcement = encodeAnnouncement(ownAnnouncement(self, this.tagHash));
    this.policy = options.addressPolicy ?? defaultAddressPolicy;
    this.random = options.random ?? new SeededRandom(randomBytes(4).readUInt32LE(0));
    this.timers = options.timers ?? realTimers;
    this.clock = options.clock ?? { now: () => performance.now() };
    this.logger = options.logger ?? silentLogger();
    // An id is forgotten after three missed intervals: then it counts as new again (and gets an early reply).
    const forgetAfterMs = Math.max(3 * this.intervalMs * (1 + this.jitter), notifyGap);
    this.limiter = new PeerNotifyLimiter({ clock: this.clock, minNotifyGapMs: notifyGap, forgetAfterMs, maxTracked });
    this.counters = {
      sent: 0,
      sendErrors: 0,
      socketErrors: 0,
      received: 0,
      accepted: 0,
      ignored: Object.fromEntries(IGNORE_REASONS.map((r) => [r, 0])) as Record<IgnoreReason, number>,
      callbackErrors: 0,
    };
  }

  /** A snapshot of the counters. */
  get stats(): LanDiscoveryStats {
    return { ...this.counters, ignored: { ...this.counters.ignored } };
  }

  /** The UDP port the socket is bound to (the chosen one when `port` was 0); 0 before start. */
  get boundPort(): number {
    return this.port;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /**
   * Binds, joins the group, announces at once and then every interval (jittered). Rejects with a
   * LanDiscoveryError (BIND_FAILED, JOIN_GROUP_FAILED, ALREADY_STARTED) and leaves nothing open.
   */
  start(): Promise<void> {
    if (this.state !== 'idle') {
      return Promise.reject(new LanDiscoveryError('ALREADY_STARTED', `LAN discovery was already ${this.state === 'stopped' ? 'stopped' : 'started'}; create a new instance`));
    }
    this.state = 'starting';
    this.starting = this.open().then(
      () => {
        if (this.state !== 'starting') return; // stop() was called meanwhile and closes the socket
        this.state = 'running';
        this.logger.info(
          { group: this.group, port: this.port, interface: this.interfaceAddress ?? 'default', intervalMs: this.intervalMs },
          'LAN discovery started',
        );
        this.announce('periodic');
        this.cycle = new CycleTimer(this.intervalMs, this.jitter, this.timers, this.random, () => this.announce('periodic'));
        this.cycle.start();
      },
      (err: unknown) => {
        if (this.state === 'starting') this.state = 'stopped';
        throw err;
      },
    );
    return this.starting;
  }

  /** Stops announcing and closes the socket. Idempotent; safe during start(). */
  async stop(): Promise<void> {
    const wasStarting = this.starting;
    this.state = 'stopped';
    this.cycle?.stop();
    this.cycle = undefined;
    this.cancelReply?.();
    this.cancelReply = undefined;
    if (wasStarting) await wasStarting.catch(() => undefined);
    const socket = this.socket;
    this.socket = undefined;
    this.limiter.clear();
    if (socket) await closeSocket(socket);
  }

  private async open(): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    // Bound to the group where the OS allows it: only the group's datagrams arrive (see the module comment).
    const bindAddress = process.platform === 'win32' ? '0.0.0.0' : this.group;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port: this.requestedPort, address: bindAddress }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.socket = undefined;
      await closeSocket(socket);
      throw new LanDiscoveryError('BIND_FAILED', `cannot bind the LAN discovery socket to ${bindAddress}:${this.requestedPort}: ${errorText(err)}`, { cause: err });
    }
    try {
      socket.addMembership(this.group, this.interfaceAddress);
      if (this.interfaceAddress !== undefined) socket.setMulticastInterface(this.interfaceAddress);
      socket.setMulticastTTL(this.ttl);
      socket.setMulticastLoopback(true);
    } catch (err) {
      this.socket = undefined;
      await closeSocket(socket);
      throw new LanDiscoveryError(
        'JOIN_GROUP_FAILED',
        `cannot join multicast group ${this.group} on interface ${this.interfaceAddress ?? '(default)'}: ${errorText(err)}`,
        { cause: err },
      );
    }
    this.port = socket.address().port;
    socket.on('message', (datagram, from) => this.receive(datagram, from));
    socket.on('error', (err) => {
      this.counters.socketErrors++;
      this.logger.warn({ err }, 'LAN discovery socket error');
    });
  }

  private announce(why: 'periodic' | 'reply'): void {
    const socket = this.socket;
    if (this.state !== 'running' || socket === undefined) return;
    try {
      socket.send(this.announcement, this.port, this.group, (err) => this.sent(err, why));
    } catch (err) {
      this.sent(err instanceof Error ? err : new Error(String(err)), why);
    }
  }

  private sent(err: Error | null, why: string): void {
    if (!err) {
      this.counters.sent++;
      if (this.sendFailing) this.logger.info({ group: this.group }, 'LAN announcements are being sent again');
      this.sendFailing = false;
      return;
    }
    if (this.state !== 'running') return; // closed while the datagram was queued
    this.counters.sendErrors++;
    // One warning per outage (e.g. no route while the network is down), not one per interval.
    if (this.sendFailing) this.logger.debug({ err, why }, 'LAN announcement not sent');
    else this.logger.warn({ err, group: this.group, port: this.port }, 'LAN announcement not sent; will keep trying');
    this.sendFailing = true;
  }

  /** Everything that arrives on the socket goes through here; it must never throw. */
  private receive(datagram: Buffer, from: RemoteInfo): void {
    if (this.state !== 'running') return;
    this.counters.received++;
    try {
      this.accept(datagram, from);
    } catch (err) {
      // Only a bug gets here; count the datagram as malformed so the stats still add up.
      this.ignore('malformed', `internal error: ${errorText(err)}`, from);
      this.logger.error({ err }, 'LAN discovery failed on a datagram');
    }
  }

  private accept(datagram: Buffer, from: RemoteInfo): void {
    const decoded = decodeAnnouncement(datagram);
    if (!decoded.ok) return this.ignore(decoded.reason, decoded.detail, from);
    const a = decoded.announcement;
    if (!this.tagHash.equals(a.cloudTagHash)) return this.ignore('otherCloud', 'cloud tag hash differs', from);
    if (a.nodeId === this.options.self.nodeId) return this.ignore('self', 'our own announcement', from);
    const candidate = candidateAddress(a, from.address, this.policy);
    if ('problem' in candidate) return this.ignore('badAddress', candidate.problem, from);
    const { host } = candidate;
    const verdict = this.limiter.heard(a.nodeId);
    if (!verdict.notify) return this.ignore(verdict.reason, `node ${a.nodeId}`, from);
    this.counters.accepted++;
    const peer: DiscoveredPeer = { nodeId: a.nodeId, host, port: a.port };
    if (verdict.isNew) {
      this.logger.info({ peer: peer.nodeId, address: `${host}:${a.port}` }, 'LAN discovery heard a new node');
      this.scheduleReply();
    } else {
      this.logger.debug({ peer: peer.nodeId, address: `${host}:${a.port}` }, 'LAN discovery heard a node again');
    }
    try {
      this.options.onPeer(peer);
    } catch (err) {
      this.counters.callbackErrors++;
      this.logger.error({ err, peer: peer.nodeId }, 'LAN discovery onPeer callback threw');
    }
  }

  private ignore(reason: IgnoreReason, detail: string, from: RemoteInfo): void {
    this.counters.ignored[reason]++;
    if (this.logger.isLevelEnabled('debug')) this.logger.debug({ reason, detail, from: `${from.address}:${from.port}`, bytes: from.size }, 'LAN datagram ignored');
  }

  /** One early announcement, after a short random delay, at most once per tenth of the interval. */
  private scheduleReply(): void {
    // A reply already pending covers every newcomer heard before it goes out.
    if (this.cancelReply !== undefined) return;
    const now = this.clock.now();
    if (now - this.lastReplyAt < this.intervalMs / 10) return;
    this.lastReplyAt = now;
    // Spread out so that every node hearing a newcomer does not answer in the same millisecond.
    const delay = this.random.next() * Math.min(250, this.intervalMs / 20);
    this.cancelReply = this.timers.schedule(() => {
      this.cancelReply = undefined;
      this.announce('reply');
    }, delay);
  }
}

/**
 * Where to dial the node behind an announcement received from `source`: the announced host if any,
 * else the source address; either must pass `policy`, and an announced loopback address is only
 * believed from a loopback source (from another machine it names the receiver itself).
 */
export function candidateAddress(announcement: Pick<Announcement, 'host' | 'port'>, source: string, policy: AddressPolicy): { host: string } | { problem: string } {
  const named = announcement.host !== undefined;
  const host = announcement.host ?? source;
  const problem = addressProblem({ host, port: announcement.port }, policy);
  if (problem) return { problem: `${named ? 'announced' : 'source'} address ${host}:${announcement.port}: ${problem}` };
  if (named && parseIpLiteral(host)?.range() === 'loopback' && parseIpLiteral(source)?.range() !== 'loopback') {
    return { problem: `loopback address ${host} announced from another machine (${source})` };
  }
  return { host };
}

/** What this node announces: its host only when it is a concrete IP (see announcement.ts). */
function ownAnnouncement(self: DiscoveredPeer, tagHash: Uint8Array): Announcement {
  const ip = parseIpLiteral(self.host);
  const named = ip !== null && ip.range() !== 'unspecified';
  return named ? { cloudTagHash: tagHash, nodeId: self.nodeId, port: self.port, host: self.host } : { cloudTagHash: tagHash, nodeId: self.nodeId, port: self.port };
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

function isPort(value: unknown, allowZero: boolean): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= (allowZero ? 0 : 1) && value <= 65535;
}

function invalid(message: string): never {
  throw new LanDiscoveryError('INVALID_OPTION', `LAN discovery: ${message}`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
