/**
 * The daemon's configuration: defaults < config file < environment (PEERCLOUD_*) < flags.
 *
 * The shape follows HashiCorp's agents (Serf, Consul): a data directory, a node name, a bind address
 * and an advertise address for node-to-node traffic, a separate client (API) address on loopback,
 * a join list retried until it works, labels (Serf's tags, Consul's node_meta), LAN discovery off
 * by default, and limits. Every setting is in config-settings.ts; docs/CONFIG.md is the reference.
 *
 * Joining and keys. A node's id is the hash of its public key and the transport pins every
 * connection to the id it dials, so the safe join entry is `nodeId@host:port`. Plain `host:port`
 * is accepted too, meaning "trust whatever key answers there the first time" (TOFU, as ssh does
 * for unknown hosts): convenient for `cluster up` and first setups, but whoever controls that
 * address (or the path to it) at first contact chooses who we bootstrap from. After that first
 * contact every peer is authenticated and descriptors are signed, so a bad seed can only feed us a
 * view of its own making until gossip mixes in others. `joinTrustOnFirstUse = false` refuses plain
 * entries.
 */
import { resolve } from 'node:path';
import type * as z from '../core/zod.js';
import { type ConfigIssue, type ConfigSource, ConfigError, describeSource, suggest } from './config-errors.js';
import { fileEntries, readConfigFile } from './config-file.js';
import {
  CONFIG_FILE_ENV,
  type DefaultsContext,
  type LogLevel,
  type PeerSamplingProtocol,
  SETTINGS,
  SETTING_KEYS,
  type SettingKey,
  type SettingValues,
  defaultValue,
  defaultsContext,
  envName,
} from './config-settings.js';
import { type HostPort, type JoinTarget, type Labels, type PathContext, formatHostPort, showValue } from './config-values.js';

export { ConfigError, type ConfigIssue, type ConfigSource, describeSource, formatIssue } from './config-errors.js';
export { DEFAULT_API_PORT, DEFAULT_NODE_PORT, LOG_LEVELS, type LogLevel, type PeerSamplingProtocol, envName } from './config-settings.js';
export { type HostPort, type JoinTarget, type Labels, formatHostPort, formatJoinTarget } from './config-values.js';

export interface Config {
  /** Absolute path. */
  readonly dataDir: string;
  readonly name: string;
  /** Node-to-node listen address (port 0: any free port). */
  readonly listen: HostPort;
  /** Address other nodes dial; undefined: the bound listen address. */
  readonly advertise: HostPort | undefined;
  /** User API listen address (port 0: any free port). */
  readonly api: HostPort;
  readonly join: readonly JoinTarget[];
  readonly joinTrustOnFirstUse: boolean;
  readonly joinRetryIntervalMs: number;
  readonly cyclePeriodMs: number;
  /** Fraction in [0, 0.5]. */
  readonly cycleJitter: number;
  readonly peerSampling: { readonly protocol: PeerSamplingProtocol; readonly viewSize: number; readonly shuffleLength: number };
  readonly aggregation: { readonly epochLength: number };
  readonly slicing: { readonly slices: number };
  readonly labels: Labels;
  readonly discovery: { readonly multicast: boolean; readonly multicastGroup: HostPort; readonly intervalMs: number };
  /** Who may put this node in a slice. */
  readonly auth: { readonly policy: 'open' | 'allow-list'; readonly allowUsers: readonly string[] };
  readonly slices: { readonly leaseMs: number; readonly maxShare: number };
  /** The private cloud's join secret ('' for an open cloud). */
  readonly cloud: { readonly joinSecret: string };
  readonly log: { readonly level: LogLevel };
  readonly limits: { readonly maxConnections: number; readonly idleConnectionMs: number; readonly maxFrameBytes: number; readonly apiMaxBodyBytes: number };
  readonly attributes: { readonly refreshIntervalMs: number };
}

/** Flag values as a CLI parser gives them: keyed by long name ('data-dir') or camelCase ('dataDir'). */
export type ConfigFlags = Readonly<Record<string, string | readonly string[] | number | boolean | undefined>>;

export interface LoadConfigOptions {
  /** Config file; default: flag `config`, else PEERCLOUD_CONFIG, else none. */
  readonly file?: string;
  /** Usually process.env. Only PEERCLOUD_* variables are read. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly flags?: ConfigFlags;
  /** Base of relative paths given in env and flags (default: process.cwd()). */
  readonly cwd?: string;
  /** For `~` and the default data directory, and the default name (default: the machine's). */
  readonly homeDir?: string;
  readonly hostname?: string;
  /** Told about things that are not errors, e.g. an unknown PEERCLOUD_ variable. */
  readonly onWarning?: (message: string) => void;
}

export interface LoadedConfig {
  readonly config: Config;
  /** Where each setting's value came from (for labels: the highest source that set any key). */
  readonly origins: Readonly<Record<SettingKey, ConfigSource>>;
  /** The config file read, if any (absolute). */
  readonly file: string | undefined;
}

/** Environment variables the CLI reads that are not settings. */
const OTHER_ENV = new Set([CONFIG_FILE_ENV]);

interface Candidate {
  readonly key: SettingKey;
  readonly raw: unknown;
  readonly source: ConfigSource;
  readonly form: 'native' | 'text';
  readonly paths: PathContext;
}

/** Loads, checks and merges the configuration. Throws ConfigError listing every problem. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  return (await loadConfigDetailed(options)).config;
}

export async function loadConfigDetailed(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? {};
  const flags = options.flags ?? {};
  const cwd = options.cwd ?? process.cwd();
  const defaults: DefaultsContext = defaultsContext({ homeDir: options.homeDir, hostname: options.hostname });
  const cwdPaths: PathContext = { baseDir: cwd, homeDir: defaults.homeDir };
  const issues: ConfigIssue[] = [];
  const candidates: Candidate[] = [];

  // 1. The file.
  const flagFile = flagValue(flags, 'config');
  const fileOption = options.file ?? (typeof flagFile === 'string' ? flagFile : undefined) ?? nonEmpty(env[CONFIG_FILE_ENV]);
  const file = fileOption === undefined ? undefined : resolve(cwd, fileOption);
  if (file !== undefined) {
    const doc = await readConfigFile(file);
    if (isIssue(doc)) {
      issues.push(doc);
    } else {
      const walked = fileEntries(doc, file);
      issues.push(...walked.issues);
      const filePaths: PathContext = { baseDir: resolve(file, '..'), homeDir: defaults.homeDir };
      for (const { key, value } of walked.entries) {
        candidates.push({ key, raw: value, source: { kind: 'file', path: file, key }, form: 'native', paths: filePaths });
      }
    }
  }

  // 2. The environment. An empty variable counts as unset (as `FOO=` in compose files usually means).
  const envNames = new Map(SETTING_KEYS.map((k) => [envName(k), k] as const));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('PEERCLOUD_') || value === undefined || value === '') continue;
    const key = envNames.get(name);
    if (key !== undefined) candidates.push({ key, raw: value, source: { kind: 'env', name }, form: 'text', paths: cwdPaths });
    else if (!OTHER_ENV.has(name)) {
      const known = [...envNames.keys(), ...OTHER_ENV];
      // PEERCLOUD_VIEW_SIZE for PEERCLOUD_PEER_SAMPLING_VIEW_SIZE: a group left out is the likely slip.
      const tail = name.slice('PEERCLOUD'.length);
      const hint = suggest(name, known) ?? known.find((k) => k.endsWith(tail));
      options.onWarning?.(`ignoring unknown environment variable ${name}${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
  }

  // 3. The flags. Values the CLI already typed (booleans, numbers, repeated strings) are native.
  for (const key of SETTING_KEYS) {
    const { flag } = SETTINGS[key];
    const value = flagValue(flags, flag);
    if (value === undefined) continue;
    // A number for a non-numeric setting (`--name 7` parsed as a number) is read as its text.
    const raw = typeof value === 'number' && !isNumericSetting(key) ? String(value) : value;
    candidates.push({ key, raw, source: { kind: 'flag', name: flag }, form: typeof raw === 'string' ? 'text' : 'native', paths: cwdPaths });
  }

  // Check each candidate on its own, so every bad value is reported with its own source.
  const values = new Map<SettingKey, { value: unknown; source: ConfigSource }[]>();
  for (const c of candidates) {
    const kind = SETTINGS[c.key].kind;
    const schema = (c.form === 'text' ? kind.text(c.paths) : kind.native(c.paths)) as z.ZodMiniType<unknown, unknown>;
    const result = schema.safeParse(c.raw);
    if (!result.success) {
      const custom = result.error.issues.find((i) => i.code === 'custom');
      issues.push({ setting: c.key, source: c.source, problem: custom ? custom.message : `got ${showValue(c.raw)}`, expected: kind.expected });
      continue;
    }
    const list = values.get(c.key) ?? [];
    list.push({ value: result.data, source: c.source });
    values.set(c.key, list);
  }

  // Merge by precedence: candidates were collected file, env, flags, so the last one wins, except
  // labels, which merge key by key.
  const merged = {} as SettingValues;
  const origins = {} as Record<SettingKey, ConfigSource>;
  for (const key of SETTING_KEYS) {
    const list = values.get(key);
    if (!list || list.length === 0) {
      (merged as Record<SettingKey, unknown>)[key] = defaultValue(key, defaults);
      origins[key] = { kind: 'default' };
    } else if (key === 'labels') {
      merged.labels = Object.assign({}, ...list.map((v) => v.value as Labels)) as Labels;
      origins[key] = list[list.length - 1].source;
    } else {
      (merged as Record<SettingKey, unknown>)[key] = list[list.length - 1].value;
      origins[key] = list[list.length - 1].source;
    }
  }

  if (issues.length === 0) issues.push(...crossChecks(merged, origins));
  if (issues.length > 0) throw new ConfigError(issues);
  return { config: assemble(merged), origins, file };
}

/** Rules between settings; each issue names both settings and where their values came from. */
function crossChecks(v: SettingValues, origins: Readonly<Record<SettingKey, ConfigSource>>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const from = (key: SettingKey): string => `${key} = ${display(key, v)} from ${describeSource(origins[key])}`;
  if (v.advertise === undefined && (v.listen.host === '0.0.0.0' || v.listen.host === '::')) {
    issues.push({
      setting: 'advertise',
      source: origins.listen,
      problem: `listen is ${formatHostPort(v.listen)} (all interfaces), so peers need to be told which address to dial`,
      expected: 'advertise set to this machine\'s reachable host:port',
    });
  }
  if (v['peerSampling.protocol'] === 'cyclon' && v['peerSampling.shuffleLength'] > v['peerSampling.viewSize']) {
    issues.push({
      setting: 'peerSampling.shuffleLength',
      source: origins['peerSampling.shuffleLength'],
      problem: `${v['peerSampling.shuffleLength']} is larger than the view (${from('peerSampling.viewSize')})`,
      expected: 'a shuffle length at most the view size',
    });
  }
  if (v.listen.port !== 0 && v.listen.port === v.api.port && sameBindHost(v.listen.host, v.api.host)) {
    issues.push({
      setting: 'api',
      source: origins.api,
      problem: `${formatHostPort(v.api)} is the node-to-node address too (${from('listen')})`,
      expected: 'a different port for the API',
    });
  }
  if (!v.joinTrustOnFirstUse) {
    const plain = v.join.filter((t) => t.nodeId === undefined);
    if (plain.length > 0) {
      issues.push({
        setting: 'join',
        source: origins.join,
        problem: `${plain.map(formatHostPort).join(', ')} ha${plain.length === 1 ? 's' : 've'} no node id, and ${from('joinTrustOnFirstUse')}`,
        expected: 'nodeId@host:port entries',
      });
    }
  }
  return issues;
}

function sameBindHost(a: string, b: string): boolean {
  const any = (h: string): boolean => h === '0.0.0.0' || h === '::';
  return a === b || any(a) || any(b);
}

function display(key: SettingKey, v: SettingValues): string {
  const kind = SETTINGS[key].kind as { format(value: unknown): string };
  const value = v[key];
  return value === undefined ? '(unset)' : kind.format(value);
}

function assemble(v: SettingValues): Config {
  return {
    dataDir: v.dataDir,
    name: v.name,
    listen: v.listen,
    advertise: v.advertise,
    api: v.api,
    join: v.join,
    joinTrustOnFirstUse: v.joinTrustOnFirstUse,
    joinRetryIntervalMs: v.joinRetryIntervalMs,
    cyclePeriodMs: v.cyclePeriodMs,
    cycleJitter: v.cycleJitter,
    peerSampling: { protocol: v['peerSampling.protocol'], viewSize: v['peerSampling.viewSize'], shuffleLength: v['peerSampling.shuffleLength'] },
    aggregation: { epochLength: v['aggregation.epochLength'] },
    slicing: { slices: v['slicing.slices'] },
    labels: v.labels,
    discovery: { multicast: v['discovery.multicast'], multicastGroup: v['discovery.multicastGroup'], intervalMs: v['discovery.intervalMs'] },
    auth: { policy: v['auth.policy'], allowUsers: v['auth.allowUsers'] },
    slices: { leaseMs: v['slices.leaseMs'], maxShare: v['slices.maxShare'] },
    cloud: { joinSecret: v['cloud.joinSecret'] },
    log: { level: v['log.level'] },
    limits: { maxConnections: v['limits.maxConnections'], idleConnectionMs: v['limits.idleConnectionMs'], maxFrameBytes: v['limits.maxFrameBytes'], apiMaxBodyBytes: v['limits.apiMaxBodyBytes'] },
    attributes: { refreshIntervalMs: v['attributes.refreshIntervalMs'] },
  };
}

function isIssue(value: Record<string, unknown> | ConfigIssue): value is ConfigIssue {
  return typeof value.setting === 'string' && typeof value.problem === 'string' && typeof value.source === 'object' && value.source !== null && 'kind' in value.source;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function flagValue(flags: ConfigFlags, flag: string): ConfigFlags[string] {
  return flags[flag] ?? flags[camelCase(flag)];
}

function isNumericSetting(key: SettingKey): boolean {
  const type = SETTINGS[key].kind.typeName;
  return type === 'integer' || type === 'number' || type === 'size';
}

/** One setting, for docs and --help. */
export interface SettingDescription {
  /** Key in config files (dotted: a table and a key). */
  readonly key: SettingKey;
  readonly env: string;
  /** With dashes, e.g. '--data-dir'. */
  readonly flag: string;
  readonly type: string;
  readonly expected: string;
  /** The default in text form ('' when none; computed defaults are described, e.g. "~/.peercloud"). */
  readonly default: string;
  readonly description: string;
  readonly repeatable: boolean;
}

/** Every setting, in table order. Defaults are shown for a machine with home `~` and host name `<hostname>`. */
export function describeConfig(): SettingDescription[] {
  const shown: DefaultsContext = { homeDir: '~', hostname: '<hostname>' };
  return SETTING_KEYS.map((key) => {
    const s = SETTINGS[key];
    const kind = s.kind as { format(value: unknown): string; expected: string; typeName: string };
    const def = key === 'name' ? 'the host name' : key === 'advertise' ? 'the listen address' : kind.format(defaultValue(key, shown));
    return {
      key,
      env: envName(key),
      flag: `--${s.flag}`,
      type: kind.typeName,
      expected: kind.expected,
      default: def,
      description: s.description,
      repeatable: s.repeatable ?? false,
    };
  });
}
