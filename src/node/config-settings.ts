/**
 * Every setting of the daemon, in one table: its key in config files, its environment variable, its
 * flag, its kind (how it is parsed and checked) and its default. config.ts reads sources through
 * this table and docs/CONFIG.md documents it (a test checks that every row is documented).
 *
 * Naming: file keys are camelCase and grouped in tables (`[peerSampling] viewSize = 30`); the
 * environment variable is PEERCLOUD_ plus the key path in UPPER_SNAKE_CASE; flags are the
 * kebab-case words of the key, shortened where the group is obvious (`--view-size`).
 */
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_FRAME_BYTES, MAX_MAX_FRAME_BYTES } from '../network/framing.js';
import {
  type HostPort,
  type JoinTarget,
  type Labels,
  NODE_NAME_PATTERN,
  type SettingKind,
  booleanKind,
  byteSizeKind,
  hostPortKind,
  integerKind,
  userIdListKind,
  secretKind,
  joinListKind,
  labelsKind,
  multicastGroupKind,
  nodeNameKind,
  numberKind,
  oneOfKind,
  pathKind,
} from './config-values.js';

/** Port of the node-to-node interface (the one Serf uses: one well-known port for gossip). */
export const DEFAULT_NODE_PORT = 7946;
/** Port of the user HTTP API. */
export const DEFAULT_API_PORT = 7947;
/** Port of LAN discovery announcements. */
export const DEFAULT_DISCOVERY_PORT = 7948;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const PEER_SAMPLING_PROTOCOLS = ['newscast', 'cyclon'] as const;
export type PeerSamplingProtocol = (typeof PEER_SAMPLING_PROTOCOLS)[number];

/** What defaults may depend on. */
export interface DefaultsContext {
  readonly homeDir: string;
  readonly hostname: string;
}

export interface Setting<T> {
  readonly kind: SettingKind<T>;
  /** The default, or a function of the environment (home directory, host name). */
  readonly default: T | ((context: DefaultsContext) => T);
  /** One line for docs and --help. */
  readonly description: string;
  /** Long flag name without dashes, e.g. 'data-dir'. */
  readonly flag: string;
  /** The flag may be given several times (values add up). */
  readonly repeatable?: boolean;
}

function setting<T>(kind: SettingKind<T>, defaultValue: Setting<T>['default'], flag: string, description: string, repeatable = false): Setting<T> {
  return { kind, default: defaultValue, flag, description, repeatable };
}

/** A host name usable as a node name: the first label, cleaned; 'node' if nothing is left. */
export function defaultNodeName(host: string): string {
  const first = host.split('.')[0].replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
  return NODE_NAME_PATTERN.test(first) ? first : 'node';
}

/** The table. Keys are the dotted paths of the settings in config files and in `Config`. */
export const SETTINGS = {
  dataDir: setting(pathKind, (c: DefaultsContext) => join(c.homeDir, '.peercloud'), 'data-dir', 'Directory with the node key, persisted view and availability history.'),
  name: setting(nodeNameKind, (c: DefaultsContext) => defaultNodeName(c.hostname), 'name', 'Human-readable node name shown in the API and logs (default: the host name). Not unique and not authenticated: the node id is.'),
  listen: setting(
    hostPortKind({ defaultPort: DEFAULT_NODE_PORT, allowPortZero: true, bind: true }),
    { host: '127.0.0.1', port: DEFAULT_NODE_PORT },
    'listen',
    'Node-to-node (TLS) address to listen on. 127.0.0.1 by default, so a fresh node is not reachable from other machines until you choose so; use 0.0.0.0 with advertise to join a cloud across machines.',
  ),
  advertise: setting<HostPort | undefined>(
    { ...hostPortKind({ defaultPort: DEFAULT_NODE_PORT, allowPortZero: false, bind: false }) } as SettingKind<HostPort | undefined>,
    undefined,
    'advertise',
    'Address other nodes should dial, signed into this node\'s descriptor (default: the listen address; required when listening on 0.0.0.0 or ::).',
  ),
  api: setting(
    hostPortKind({ defaultPort: DEFAULT_API_PORT, allowPortZero: true, bind: true }),
    { host: '127.0.0.1', port: DEFAULT_API_PORT },
    'api',
    'User HTTP API address. The API has no authentication: keep it on 127.0.0.1 unless a firewall or proxy protects it.',
  ),
  join: setting<readonly JoinTarget[]>(
    joinListKind(DEFAULT_NODE_PORT),
    [],
    'join',
    'Nodes to join through, as nodeId@host:port (the key is pinned) or host:port (trust on first use, see joinTrustOnFirstUse).',
    true,
  ),
  joinTrustOnFirstUse: setting(
    booleanKind,
    true,
    'join-trust-on-first-use',
    'Allow join addresses without a node id: the first key the address presents is trusted. Set false to require nodeId@host:port.',
  ),
  joinRetryIntervalMs: setting(integerKind(100, 3_600_000, 'milliseconds'), 5_000, 'join-retry-interval-ms', 'Wait between join attempts while the view is empty.'),
  cyclePeriodMs: setting(integerKind(50, 600_000, 'milliseconds'), 1_000, 'cycle-period-ms', 'Gossip cycle: every protocol starts one exchange per cycle.'),
  cycleJitter: setting(
    numberKind(0, 0.5, 'a fraction'),
    0.1,
    'cycle-jitter',
    'Each wait between cycles is drawn uniformly from period × [1 − jitter, 1 + jitter], so nodes started together do not gossip in lock step.',
  ),
  'peerSampling.protocol': setting(
    oneOfKind(PEER_SAMPLING_PROTOCOLS),
    'newscast' as PeerSamplingProtocol,
    'peer-sampling',
    'Peer sampling protocol: newscast (random peer, drops oldest entries: fastest removal of dead nodes) or cyclon (oldest peer, swaps entries: more even in-degrees).',
  ),
  'peerSampling.viewSize': setting(integerKind(2, 255), 20, 'view-size', 'Descriptors in the peer sampling view (c). 20 keeps the overlay connected through heavy churn at any realistic size; each round sends half of it.'),
  'peerSampling.shuffleLength': setting(integerKind(1, 255), 8, 'shuffle-length', 'Cyclon: descriptors exchanged per shuffle (l, at most the view size).'),
  'aggregation.epochLength': setting(
    integerKind(5, 100_000, 'cycles'),
    30,
    'epoch-length',
    'Aggregation restarts every this many cycles; estimates are those of the last completed epoch.',
  ),
  'auth.policy': setting(
    oneOfKind(['open', 'allow-list'] as const),
    'open' as 'open' | 'allow-list',
    'auth-policy',
    'Who may put this node in a slice: open (any user with a valid signature) or allow-list (only the users in auth.allowUsers).',
  ),
  'auth.allowUsers': setting(userIdListKind, [] as readonly string[], 'allow-user', 'User ids allowed by the allow-list policy (repeatable flag, comma-separated in the environment).', true),
  'cloud.joinSecret': setting(
    secretKind,
    '',
    'cloud-join-secret',
    'A private cloud\'s shared secret: only nodes configured with the same secret can join or talk to each other. Prefer the environment variable or the config file (mode 0600) to the flag, which other users can see in the process list.',
  ),
  'slices.leaseMs': setting(
    integerKind(3_000, 3_600_000, 'milliseconds'),
    30_000,
    'slice-lease-ms',
    'Lease of slice membership: slices coordinated by this node renew their members every third of it; a node whose owner stops renewing leaves after it.',
  ),
  'slices.maxShare': setting(
    numberKind(0.001, 1, 'a fraction'),
    1,
    'slice-max-share',
    'Share of this machine a slice may use: the node offers itself to slice queries with floor(share × cores) cores and floor(share × memory) of memory, and --where is evaluated against those.',
  ),
  'slicing.slices': setting(integerKind(1, 1_000), 10, 'slices', 'Number of equal slices the slicing protocol divides the network into (by CPU capacity).'),
  labels: setting<Labels>(labelsKind, {}, 'label', 'Owner labels, e.g. zone=lab2. Merged across sources: a key from a higher source replaces the same key from a lower one.', true),
  'discovery.multicast': setting(booleanKind, false, 'multicast', 'Find nodes on the local network by multicast announcements (off by default: it reveals the node to the whole LAN).'),
  'discovery.multicastGroup': setting(
    multicastGroupKind(DEFAULT_DISCOVERY_PORT),
    { host: '239.255.70.99', port: DEFAULT_DISCOVERY_PORT },
    'multicast-group',
    'Multicast group and port for LAN discovery (administratively scoped 239.255.0.0/16 by default).',
  ),
  'discovery.intervalMs': setting(integerKind(1_000, 3_600_000, 'milliseconds'), 10_000, 'multicast-interval-ms', 'Time between LAN announcements.'),
  'log.level': setting(oneOfKind(LOG_LEVELS), 'info' as LogLevel, 'log-level', 'Least severe level written to the JSON log on stdout.'),
  'limits.maxConnections': setting(integerKind(8, 65_535), 256, 'max-connections', 'Node-to-node message connections open at once, both directions.'),
  'limits.idleConnectionMs': setting(
    integerKind(1_000, 3_600_000, 'milliseconds'),
    60_000,
    'idle-connection-ms',
    'A node-to-node connection unused this long is closed (each open one costs ~50 KiB of memory; each new one a TLS handshake).',
  ),
  'limits.maxFrameBytes': setting(
    byteSizeKind(4 * 1024, MAX_MAX_FRAME_BYTES),
    DEFAULT_MAX_FRAME_BYTES,
    'max-frame-bytes',
    'Largest node-to-node message; larger ones close the connection.',
  ),
  'limits.apiMaxBodyBytes': setting(byteSizeKind(1024, 16 * 1024 * 1024), 64 * 1024, 'api-max-body-bytes', 'Largest HTTP request body the API reads (413 above).'),
  'attributes.refreshIntervalMs': setting(
    integerKind(1_000, 3_600_000, 'milliseconds'),
    10_000,
    'attributes-refresh-interval-ms',
    'How often the node re-reads free memory, free disk and load.',
  ),
} satisfies Record<string, Setting<unknown>>;

export type SettingKey = keyof typeof SETTINGS;

/** The typed value of each setting. */
export type SettingValues = { -readonly [K in SettingKey]: (typeof SETTINGS)[K] extends Setting<infer T> ? T : never };

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** The groups (tables) a config file may have. */
export const SETTING_GROUPS: ReadonlySet<string> = new Set(SETTING_KEYS.filter((k) => k.includes('.')).map((k) => k.split('.')[0]));

/** PEERCLOUD_PEER_SAMPLING_VIEW_SIZE for 'peerSampling.viewSize'. */
export function envName(key: string): string {
  return `PEERCLOUD_${key
    .replace(/\./g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()}`;
}

/** The config file to read, when no file is given explicitly. */
export const CONFIG_FILE_ENV = 'PEERCLOUD_CONFIG';

export function defaultValue<K extends SettingKey>(key: K, context: DefaultsContext): SettingValues[K] {
  const def = SETTINGS[key].default as SettingValues[K] | ((c: DefaultsContext) => SettingValues[K]);
  return typeof def === 'function' ? (def as (c: DefaultsContext) => SettingValues[K])(context) : def;
}

export function defaultsContext(overrides: Partial<DefaultsContext> = {}): DefaultsContext {
  return { homeDir: overrides.homeDir ?? homedir(), hostname: overrides.hostname ?? hostname() };
}
