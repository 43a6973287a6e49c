/**
 * The kinds of value a setting can hold, each with the two forms a value arrives in: native (from
 * a TOML/YAML file, or a flag the CLI already parsed) and text (an environment variable or a flag
 * given as a string). Both forms are checked with zod and produce the same typed value, so the
 * precedence logic in config.ts never looks at raw input.
 *
 * A kind also carries `expected`, the human phrase an error message ends with ("expected an integer
 * from 2 to 255"), and `format`, which renders a value back in the text form for docs and --help.
 */
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import * as z from '../core/zod.js';
import { type AddressPolicy, defaultAddressPolicy, normalizeAddress } from '../network/codec/address.js';
import { isValidNodeId } from './identity.js';

/** A host and port, host canonical (lowercase name, dotted quad, RFC 5952 IPv6). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** A node to join through. Without `nodeId` the first key it presents is trusted (TOFU). */
export interface JoinTarget extends HostPort {
  readonly nodeId?: string;
}

/** Owner labels, e.g. `{ zone: 'lab2' }`. */
export type Labels = Readonly<Record<string, string>>;

/** What a value is resolved against: relative paths and `~`. */
export interface PathContext {
  /** Directory relative paths start from: the config file's directory, or the working directory. */
  readonly baseDir: string;
  readonly homeDir: string;
}

export interface SettingKind<T> {
  /** "an integer from 2 to 255": what an error message says was expected. */
  readonly expected: string;
  /** Type name for docs: integer, boolean, host:port, ... */
  readonly typeName: string;
  /** Checks a value from a file or an already-typed flag. */
  native(context: PathContext): z.ZodMiniType<T>;
  /** Parses an environment variable or a string flag. */
  text(context: PathContext): z.ZodMiniType<T, string>;
  /** The value in text form (for docs, --help and logs). */
  format(value: T): string;
}

/** What a transform gets besides the value: the parse in progress, where it adds its issues. */
type Ctx = z.core.ParsePayload;

/**
 * A reason attached to a value by a custom check; the error message shows it before `expected`.
 * (zod/mini's transforms get the bare payload, without classic's `addIssue`: the issue is pushed.)
 */
function fail(ctx: Ctx, message: string): typeof z.NEVER {
  ctx.issues.push({ code: 'custom', message, input: ctx.value });
  return z.NEVER;
}

/** A string checked and converted by `convert`, which rejects it with `fail`. */
function fromString<T>(convert: (s: string, ctx: Ctx) => T): z.ZodMiniType<T, string> {
  return z.pipe(z.string(), z.transform(convert));
}

/** Any value checked and converted by `convert`, which rejects it with `fail`. */
function fromUnknown<T>(convert: (v: unknown, ctx: Ctx) => T): z.ZodMiniType<T> {
  return z.pipe(z.unknown(), z.transform(convert));
}

/** Shows a raw value in an error message: strings quoted, long ones cut. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list (${showValue(JSON.stringify(value))})`;
  if (value instanceof Date) return `a date (${value.toISOString()})`;
  if (typeof value === 'object') return `a table (${showValue(JSON.stringify(value))})`;
  if (typeof value === 'bigint') return `${value}`;
  return String(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

// ---------------------------------------------------------------------------------------------
// numbers

const DECIMAL_INTEGER = /^[+-]?\d+$/;
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export function integerKind(min: number, max: number, unit = ''): SettingKind<number> {
  const expected = `an integer from ${min} to ${max}${unit ? ` (${unit})` : ''}`;
  const native = z.int().check(z.minimum(min), z.maximum(max));
  return {
    expected,
    typeName: 'integer',
    native: () => native,
    text: () =>
      fromString((s, ctx) => {
        const t = s.trim();
        if (!DECIMAL_INTEGER.test(t)) return fail(ctx, `${showValue(s)} is not a decimal integer`);
        const n = Number(t);
        if (n < min || n > max) return fail(ctx, `${n} is out of range`);
        return n;
      }),
    format: (v) => String(v),
  };
}

export function numberKind(min: number, max: number, what: string): SettingKind<number> {
  const expected = `${what} from ${min} to ${max}`;
  const native = z.number().check(z.minimum(min), z.maximum(max));
  return {
    expected,
    typeName: 'number',
    native: () => native,
    text: () =>
      fromString((s, ctx) => {
        const t = s.trim();
        if (!DECIMAL_NUMBER.test(t)) return fail(ctx, `${showValue(s)} is not a number`);
        const n = Number(t);
        if (!(n >= min && n <= max)) return fail(ctx, `${n} is out of range`);
        return n;
      }),
    format: (v) => String(v),
  };
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const BYTE_SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/** Parses "1048576", "1MiB", "64 KiB", "1.5MB"; null when it is not a size. */
export function parseByteSize(text: string): number | null {
  const m = BYTE_SIZE.exec(text.trim());
  if (!m) return null;
  const unit = BYTE_UNITS[m[2].toLowerCase()];
  if (unit === undefined) return null;
  const n = Number(m[1]) * unit;
  return Number.isSafeInteger(n) ? n : null;
}

function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

/** A size in bytes: an integer, or a string with a unit (B, KB, MB, GB, KiB, MiB, GiB). */
export function byteSizeKind(min: number, max: number): SettingKind<number> {
  const expected = `a size from ${formatBytes(min)} to ${formatBytes(max)} (bytes, or a number with a unit such as 64KiB or 1MiB)`;
  const check = (n: number, ctx: Ctx): number => (n < min || n > max ? fail(ctx, `${formatBytes(n)} is out of range`) : n);
  const fromText = (s: string, ctx: Ctx): number => {
    const n = parseByteSize(s);
    if (n === null) return fail(ctx, `${showValue(s)} is not a size`);
    return check(n, ctx);
  };
  return {
    expected,
    typeName: 'size',
    native: () =>
      fromUnknown((v, ctx) => {
        if (typeof v === 'number') return Number.isInteger(v) ? check(v, ctx) : fail(ctx, `${v} is not a whole number of bytes`);
        if (typeof v === 'string') return fromText(v, ctx);
        return fail(ctx, `got ${showValue(v)}`);
      }),
    text: () => fromString(fromText),
    format: formatBytes,
  };
}

// ---------------------------------------------------------------------------------------------
// booleans, enums, strings

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export const booleanKind: SettingKind<boolean> = {
  expected: 'true or false',
  typeName: 'boolean',
  native: () => z.boolean(),
  text: () =>
    fromString((s, ctx) => {
      const t = s.trim().toLowerCase();
      if (TRUE_WORDS.has(t)) return true;
      if (FALSE_WORDS.has(t)) return false;
      return fail(ctx, `${showValue(s)} is not a boolean (true/false, 1/0, yes/no, on/off)`);
    }),
  format: (v) => String(v),
};

export function oneOfKind<const T extends string>(values: readonly T[]): SettingKind<T> {
  const expected = `one of ${values.join(', ')}`;
  const native = z.enum(values as unknown as [T, ...T[]]);
  return {
    expected,
    typeName: values.join('|'),
    native: () => native,
    text: () =>
      fromString((s, ctx) => {
        const t = s.trim().toLowerCase();
        return (values as readonly string[]).includes(t) ? (t as T) : fail(ctx, `${showValue(s)} is not a choice`);
      }),
    format: (v) => v,
  };
}

/** A node name: letters, digits, '.', '_' and '-', starting with a letter or digit, 1..63 characters. */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const secretSchema = z.string().check(
  z.maxLength(4096),
  z.refine((s) => s === '' || s.length >= 16, 'a secret needs at least 16 characters'),
);

/**
 * A secret (the cloud's join secret): at least 16 characters; '' means none. Never shown: its
 * formatted form, used in docs, --help and logs, only says whether it is set.
 */
export const secretKind: SettingKind<string> = {
  expected: 'a secret of at least 16 characters (or empty for none)',
  typeName: 'secret',
  native: () => secretSchema,
  text: () => secretSchema,
  format: (v) => (v === '' ? '(none)' : '(set)'),
};

export const nodeNameKind: SettingKind<string> = {
  expected: "1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit",
  typeName: 'name',
  native: () => z.string().check(z.regex(NODE_NAME_PATTERN)),
  text: () => fromString((s, ctx) => (NODE_NAME_PATTERN.test(s.trim()) ? s.trim() : fail(ctx, `${showValue(s)} is not a valid name`))),
  format: (v) => v,
};

/** Expands a leading `~` and makes the path absolute against the context's base directory. */
export function resolvePath(path: string, context: PathContext): string {
  if (path === '~') return context.homeDir;
  if (path.startsWith('~/')) return resolve(context.homeDir, path.slice(2));
  return isAbsolute(path) ? resolve(path) : resolve(context.baseDir, path);
}

export const pathKind: SettingKind<string> = {
  expected: 'a directory path (relative paths start from the config file, or from the working directory for env and flags)',
  typeName: 'path',
  native: (context) =>
    fromString((s, ctx) => {
      if (s.trim() === '') return fail(ctx, 'the path is empty');
      if (s.includes('\0')) return fail(ctx, 'the path contains a NUL character');
      return resolvePath(s, context);
    }),
  text: (context) => pathKind.native(context) as z.ZodMiniType<string, string>,
  format: (v) => v,
};

// ---------------------------------------------------------------------------------------------
// addresses

/** Bind addresses may be the unspecified address (all interfaces) and link-local. */
const bindPolicy: AddressPolicy = { ...defaultAddressPolicy, allowSpecial: true, allowLinkLocal: true };

/**
 * Splits "host:port", "[v6]:port", "host" or "[v6]" (the port then defaults). A bare IPv6 literal
 * without brackets is taken as a host, since its last group cannot be told apart from a port.
 */
export function splitHostPort(text: string, defaultPort: number): { host: string; port: string } | string {
  const t = text.trim();
  if (t === '') return 'the address is empty';
  if (t.startsWith('[')) {
    const end = t.indexOf(']');
    if (end < 0) return `${showValue(text)} has "[" without "]"`;
    const host = t.slice(1, end);
    const rest = t.slice(end + 1);
    if (rest === '') return { host, port: String(defaultPort) };
    if (!rest.startsWith(':')) return `${showValue(text)} has something other than ":port" after "]"`;
    return { host, port: rest.slice(1) };
  }
  const colons = t.split(':').length - 1;
  if (colons === 0) return { host: t, port: String(defaultPort) };
  if (colons > 1) {
    if (ipaddr.IPv6.isValid(t)) return { host: t, port: String(defaultPort) };
    return `${showValue(text)}: write an IPv6 address with a port as [address]:port`;
  }
  const i = t.lastIndexOf(':');
  return { host: t.slice(0, i), port: t.slice(i + 1) };
}

/** Parses and normalizes an address; a string describing the problem when it is not usable. */
export function parseHostPort(
  text: string,
  options: { defaultPort: number; allowPortZero: boolean; bind: boolean },
): HostPort | string {
  const parts = splitHostPort(text, options.defaultPort);
  if (typeof parts === 'string') return parts;
  if (!/^\d{1,5}$/.test(parts.port)) return `port ${showValue(parts.port)} is not a number`;
  const port = Number(parts.port);
  if (port > 65535) return `port ${port} is above 65535`;
  if (port === 0 && !options.allowPortZero) return 'port 0 is not an address peers can connect to';
  const host = normalizeHost(parts.host, options.bind);
  return 'problem' in host ? host.problem : { host: host.host, port };
}

/**
 * The canonical host, checked with the codec's address policy (the one peers apply to the
 * descriptors we advertise), relaxed for bind addresses, which may be 0.0.0.0 or link-local.
 */
function normalizeHost(host: string, bind: boolean): { host: string } | { problem: string } {
  try {
    // normalizeAddress checks connectable addresses, so it refuses port 0: check the host with port 1.
    return { host: normalizeAddress({ host, port: 1 }, bind ? bindPolicy : defaultAddressPolicy).host };
  } catch (err) {
    // normalizeAddress prefixes its message with the address; keep only the reason.
    const message = err instanceof Error ? err.message : String(err);
    return { problem: `${showValue(host)}: ${message.replace(/^address .*?:1: /, '')}` };
  }
}

export function hostPortKind(options: { defaultPort: number; allowPortZero: boolean; bind: boolean }): SettingKind<HostPort> {
  const expected = options.bind
    ? `host:port to listen on (an IP address or host name; port ${options.allowPortZero ? '0..65535, 0 = any free port' : '1..65535'}; default port ${options.defaultPort})`
    : `host:port that other nodes can connect to (not 0.0.0.0, multicast or port 0; default port ${options.defaultPort})`;
  const fromText = (s: string, ctx: Ctx): HostPort => {
    const parsed = parseHostPort(s, options);
    return typeof parsed === 'string' ? fail(ctx, parsed) : parsed;
  };
  return {
    expected,
    typeName: 'host:port',
    native: () => fromString(fromText),
    text: () => fromString(fromText),
    format: formatHostPort,
  };
}

export function formatHostPort(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** A multicast group: an IPv4 or IPv6 multicast address and a port. */
export function multicastGroupKind(defaultPort: number): SettingKind<HostPort> {
  const base = hostPortKind({ defaultPort, allowPortZero: false, bind: true });
  const check = (address: HostPort, ctx: Ctx): HostPort => {
    const ip = ipaddr.isValid(address.host) ? ipaddr.parse(address.host) : null;
    if (!ip || ip.range() !== 'multicast') return fail(ctx, `${address.host} is not a multicast IP address`);
    return address;
  };
  return {
    expected: `a multicast IP address and port, e.g. 239.255.70.99:${defaultPort}`,
    typeName: 'host:port',
    native: (c) => z.pipe(base.native(c), z.transform(check)),
    text: (c) => z.pipe(base.text(c), z.transform(check)),
    format: formatHostPort,
  };
}

// ---------------------------------------------------------------------------------------------
// join list

/** Parses "nodeId@host:port" or "host:port" (port defaults). */
export function parseJoinTarget(text: string, defaultPort: number): JoinTarget | string {
  const t = text.trim();
  const at = t.indexOf('@');
  let nodeId: string | undefined;
  let address = t;
  if (at >= 0) {
    nodeId = t.slice(0, at);
    address = t.slice(at + 1);
    if (!isValidNodeId(nodeId)) return `${showValue(nodeId)} before "@" is not a node id (pc followed by 32 base32 characters)`;
  }
  const parsed = parseHostPort(address, { defaultPort, allowPortZero: false, bind: false });
  if (typeof parsed === 'string') return `${showValue(t)}: ${parsed}`;
  return nodeId === undefined ? parsed : { nodeId, ...parsed };
}

export function formatJoinTarget(target: JoinTarget): string {
  return target.nodeId === undefined ? formatHostPort(target) : `${target.nodeId}@${formatHostPort(target)}`;
}

/** At most this many join addresses: a node needs a handful of contacts, not a directory. */
export const MAX_JOIN_TARGETS = 64;

export function joinListKind(defaultPort: number): SettingKind<readonly JoinTarget[]> {
  const parseAll = (entries: readonly string[], ctx: Ctx): JoinTarget[] => {
    const items = entries.map((e) => e.trim()).filter((e) => e !== '');
    if (items.length > MAX_JOIN_TARGETS) return fail(ctx, `${items.length} addresses, at most ${MAX_JOIN_TARGETS} allowed`);
    const out: JoinTarget[] = [];
    for (const item of items) {
      const target = parseJoinTarget(item, defaultPort);
      if (typeof target === 'string') return fail(ctx, target);
      out.push(target);
    }
    return out;
  };
  const fromText = (s: string, ctx: Ctx): JoinTarget[] => parseAll(s.split(','), ctx);
  return {
    expected: `a list of [nodeId@]host:port addresses (comma-separated in env and flags; default port ${defaultPort})`,
    typeName: 'list of [nodeId@]host:port',
    native: () =>
      fromUnknown((v, ctx) => {
        if (typeof v === 'string') return fromText(v, ctx);
        // A repeated flag may also carry comma lists: --join a:1,b:2 --join c:3.
        if (isStringArray(v)) return parseAll(v.flatMap((e) => e.split(',')), ctx);
        return fail(ctx, `got ${showValue(v)}`);
      }),
    text: () => fromString(fromText),
    format: (v) => v.map(formatJoinTarget).join(','),
  };
}

// ---------------------------------------------------------------------------------------------
// user ids

/** User ids (`peercloud user show NAME`): "pu" + 32 base32 characters. */
export const USER_ID_PATTERN = /^pu[a-z2-7]{32}$/;
export const MAX_ALLOWED_USERS = 1024;

export const userIdListKind: SettingKind<readonly string[]> = (() => {
  const parseAll = (entries: readonly string[], ctx: Ctx): string[] => {
    const items = [...new Set(entries.map((e) => e.trim()).filter((e) => e !== ''))];
    if (items.length > MAX_ALLOWED_USERS) return fail(ctx, `${items.length} user ids, at most ${MAX_ALLOWED_USERS} allowed`);
    const bad = items.find((id) => !USER_ID_PATTERN.test(id));
    if (bad !== undefined) return fail(ctx, `${showValue(bad)} is not a user id ("pu" and 32 base32 characters, see \`peercloud user show NAME\`)`);
    return items;
  };
  return {
    expected: 'a list of user ids (comma-separated in env and flags)',
    typeName: 'list of user ids',
    native: () =>
      fromUnknown((v, ctx) => {
        if (typeof v === 'string') return parseAll(v.split(','), ctx);
        if (isStringArray(v)) return parseAll(v.flatMap((e) => e.split(',')), ctx);
        return fail(ctx, `got ${showValue(v)}`);
      }),
    text: () => fromString((s, ctx) => parseAll(s.split(','), ctx)),
    format: (v) => v.join(','),
  };
})();

// ---------------------------------------------------------------------------------------------
// labels

/**
 * Label keys are lowercase DNS-like words ("zone", "gpu.model", "rack-2"), so they read the same
 * everywhere and fit in metrics and descriptors; values are short printable tokens. Keys starting
 * with "peercloud." are reserved for attributes the daemon itself may publish.
 */
export const LABEL_KEY_PATTERN = /^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$/;
export const LABEL_VALUE_PATTERN = /^[A-Za-z0-9._:/+-]{1,128}$/;
export const MAX_LABELS = 32;
export const RESERVED_LABEL_PREFIX = 'peercloud.';

function labelProblem(key: string, value: string): string | null {
  if (!LABEL_KEY_PATTERN.test(key)) {
    return `label key ${showValue(key)} must be 1..63 lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit`;
  }
  if (key.startsWith(RESERVED_LABEL_PREFIX)) return `label key ${showValue(key)} uses the reserved prefix "${RESERVED_LABEL_PREFIX}"`;
  if (!LABEL_VALUE_PATTERN.test(value)) {
    return `label ${key}: value ${showValue(value)} must be 1..128 letters, digits or . _ : / + -`;
  }
  return null;
}

/** Parses "key=value". */
export function parseLabel(text: string): [string, string] | string {
  const t = text.trim();
  const eq = t.indexOf('=');
  if (eq < 0) return `${showValue(text)} is not key=value`;
  const key = t.slice(0, eq).trim();
  const value = t.slice(eq + 1).trim();
  const problem = labelProblem(key, value);
  return problem ?? [key, value];
}

export const labelsKind: SettingKind<Labels> = (() => {
  const build = (pairs: ReadonlyArray<readonly [string, unknown]>, ctx: Ctx): Labels => {
    const out: Record<string, string> = {};
    for (const [key, raw] of pairs) {
      const value = typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : raw;
      if (typeof value !== 'string') return fail(ctx, `label ${showValue(key)}: value must be a string, got ${showValue(raw)}`);
      const problem = labelProblem(key, value);
      if (problem) return fail(ctx, problem);
      out[key] = value;
    }
    if (Object.keys(out).length > MAX_LABELS) return fail(ctx, `${Object.keys(out).length} labels, at most ${MAX_LABELS} allowed`);
    return out;
  };
  const fromEntries = (entries: readonly string[], ctx: Ctx): Labels => {
    const pairs: [string, string][] = [];
    for (const entry of entries) {
      if (entry.trim() === '') continue;
      const pair = parseLabel(entry);
      if (typeof pair === 'string') return fail(ctx, pair);
      pairs.push(pair);
    }
    return build(pairs, ctx);
  };
  const fromText = (s: string, ctx: Ctx): Labels => fromEntries(s.split(','), ctx);
  return {
    expected: `key=value labels (a table in files; comma-separated in env; --label repeated), at most ${MAX_LABELS}`,
    typeName: 'key=value,...',
    native: () =>
      fromUnknown((v, ctx) => {
        if (typeof v === 'string') return fromText(v, ctx);
        if (isStringArray(v)) return fromEntries(v.flatMap((e) => e.split(',')), ctx);
        if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)) return build(Object.entries(v), ctx);
        return fail(ctx, `got ${showValue(v)}`);
      }),
    text: () => fromString(fromText),
    format: (v) =>
      Object.entries(v)
        .map(([k, val]) => `${k}=${val}`)
        .join(','),
  };
})();

/** The user's home directory, as the default for `~`. */
export function defaultHomeDir(): string {
  return homedir();
}
