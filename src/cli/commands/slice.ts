/**
 * `peercloud slice create|grow|shrink|delete|list|describe` and the design report's EC2-like
 * aliases (`run-instances`, `add-instances`, `terminate-instances`, `describe-instances`). Changes
 * are HTTP requests signed with the user's key (`--user NAME`, default $PEERCLOUD_USER or the only
 * key in the user directory); a create also carries a grant, signed by the same key, that the nodes
 * joining the slice verify themselves.
 */
import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { signObject } from '../../auth/signed-object.js';
import { type UserIdentity, UserKeyError, listUsers, loadUser } from '../../auth/user-identity.js';
import { signRequest } from '../../auth/signed-request.js';
import { GRANT_PURPOSE } from '../../slices/messages.js';
import { grantPayload } from '../../slices/owner.js';
import { QueryError } from '../../slices/query-errors.js';
import type { MembershipView, SliceView } from '../../slices/slice-api.js';
import { parseSliceSpec } from '../../slices/spec.js';
import { specToWire } from '../../slices/spec-wire.js';
import { formatTable } from '../output.js';
import { defaultApiUrl } from './api-client.js';
import { CliError } from './cli-error.js';

interface Common {
  api?: string;
  json?: boolean;
  user?: string;
  userDir?: string;
}

/** Creating a slice waits for the allocation (the node answers once members are confirmed). */
const CREATE_TIMEOUT_MS = 60_000;

async function call(opts: Common, method: string, path: string, body?: unknown, user?: UserIdentity, timeoutMs = 15_000): Promise<unknown> {
  const base = opts.api ?? defaultApiUrl();
  let url: URL;
  try {
    url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new CliError(`invalid --api URL ${JSON.stringify(base)}`, 2);
  }
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (text !== undefined) headers['content-type'] = 'application/json';
  if (user) Object.assign(headers, signRequest(user, { method, url, body: text }));
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body: text, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
    throw new CliError(`cannot reach the peercloud API at ${url.origin} (${why}); is the node running? Point --api at a running node`);
  }
  const raw = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new CliError(`${url.href} answered ${response.status} with something that is not JSON`);
  }
  if (!response.ok) {
    const message = (parsed as { error?: { message?: unknown } } | null)?.error?.message;
    throw new CliError(typeof message === 'string' ? message : `${url.href} answered ${response.status}`, response.status === 400 ? 2 : 1);
  }
  return parsed;
}

async function resolveUser(opts: Common): Promise<UserIdentity> {
  const dirOptions = opts.userDir ? { userDir: opts.userDir } : {};
  let name = opts.user ?? process.env.PEERCLOUD_USER;
  if (name === undefined) {
    const users = (await listUsers(dirOptions)).filter((u) => 'userId' in u);
    if (users.length === 1) name = users[0].name;
    else if (users.length === 0) throw new CliError('no user key: create one with `peercloud user create NAME`', 2);
    else throw new CliError(`several user keys (${users.map((u) => u.name).join(', ')}): choose one with --user NAME or $PEERCLOUD_USER`, 2);
  }
  try {
    return await loadUser(name, dirOptions);
  } catch (err) {
    if (err instanceof UserKeyError) throw new CliError(err.message, 2);
    throw err;
  }
}

function withCommon(c: Command, signed: boolean): Command {
  c.option('--api <url>', `the node's API (default: $PEERCLOUD_API or ${defaultApiUrl({})})`).option('--json', 'print JSON instead of tables');
  if (signed) c.option('--user <name>', 'the user whose key signs the request (default: $PEERCLOUD_USER, or the only key)').option('--user-dir <dir>', 'where user keys are (default: $PEERCLOUD_USER_DIR or ~/.peercloud/users)');
  return c;
}

function print(opts: Common, body: unknown, render: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(body, null, 2)}\n` : render());
}

export function renderSlice(s: SliceView): string {
  const head = `slice ${s.name} (${s.sliceId}): ${s.size} of ${s.target} members; ${s.spec.text}${s.spec.keepSize ? '; keeps its size' : ''}\nowner user ${s.ownerUser}, coordinated by node ${s.ownerNode}\n`;
  if (s.members.length === 0) return head;
  return `${head}${formatTable(['member', 'address', 'since'], s.members.map((m) => [m.nodeId, `${m.host}:${m.port}`, m.since ? new Date(m.since).toISOString() : '-']))}\n`;
}

function renderList(slices: SliceView[]): string {
  if (slices.length === 0) return 'no slices coordinated by this node\n';
  return `${formatTable(['name', 'size', 'target', 'spec', 'owner user'], slices.map((s) => [s.name, s.size, s.target, s.spec.text, s.ownerUser]))}\n`;
}

function renderMembership(m: MembershipView): string {
  if (m.state !== 'member' || m.slice === null) return `this node is ${m.state === 'reserved' ? 'reserved for a slice being allocated' : 'in no slice'}\n`;
  const head = `this node is in slice ${m.slice.name} (${m.slice.sliceId}), coordinated by ${m.slice.ownerNode}; lease until ${new Date(m.leaseUntil ?? 0).toISOString()}\n`;
  return m.members.length === 0 ? head : `${head}${formatTable(['member', 'address'], m.members.map((x) => [x.nodeId, `${x.host}:${x.port}`]))}\n`;
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw new CliError(`${what} must be a positive whole number, got ${JSON.stringify(text)}`, 2);
  return n;
}

interface CreateOptions extends Common {
  nodes?: string;
  fraction?: string;
  where?: string;
  rank?: string;
  keepSize?: boolean;
}

async function create(name: string, opts: CreateOptions): Promise<void> {
  if ((opts.nodes === undefined) === (opts.fraction === undefined)) throw new CliError('give either --nodes N or --fraction F (e.g. 5%)', 2);
  let spec;
  try {
    spec = parseSliceSpec({ name, nodes: opts.nodes, fraction: opts.fraction, where: opts.where, rank: opts.rank, keepSize: opts.keepSize === true });
  } catch (err) {
    if (err instanceof QueryError) throw new CliError(`--${err.field === 'count' ? (opts.nodes !== undefined ? 'nodes' : 'fraction') : err.field === 'keepSize' ? 'keep-size' : err.field}: ${err.message}${err.excerpt() ? `\n${err.excerpt()}` : ''}`, 2);
    throw err;
  }
  const user = await resolveUser(opts);
  const node = (await call(opts, 'GET', '/v1/node')) as { id: string };
  const sliceId = randomBytes(16).toString('hex');
  const wire = specToWire(spec);
  const grant = signObject(user, GRANT_PURPOSE, grantPayload(sliceId, spec, node.id, wire));
  if (!opts.json) process.stderr.write(`allocating slice ${name} through node ${node.id}…\n`);
  const created = (await call(opts, 'POST', '/v1/slices', { sliceId, spec: wire, grant }, user, CREATE_TIMEOUT_MS)) as SliceView;
  print(opts, created, () => renderSlice(created));
}

async function grow(name: string, n: string, opts: Common): Promise<void> {
  const user = await resolveUser(opts);
  const body = (await call(opts, 'POST', `/v1/slices/${encodeURIComponent(name)}/grow`, { nodes: positiveInt(n, 'N') }, user, CREATE_TIMEOUT_MS)) as { added: number; slice: SliceView };
  print(opts, body, () => `added ${body.added} node(s)\n${renderSlice(body.slice)}`);
}

async function shrink(name: string, which: string[], opts: Common): Promise<void> {
  if (which.length === 0) throw new CliError('give a number of nodes to remove, or the node ids', 2);
  const byCount = which.length === 1 && /^\d+$/.test(which[0]);
  const user = await resolveUser(opts);
  const body = (await call(opts, 'POST', `/v1/slices/${encodeURIComponent(name)}/shrink`, byCount ? { nodes: positiveInt(which[0], 'N') } : { members: which }, user)) as { removed: string[]; slice: SliceView };
  print(opts, body, () => `removed ${body.removed.length} node(s)\n${renderSlice(body.slice)}`);
}

async function remove(name: string, opts: Common): Promise<void> {
  const user = await resolveUser(opts);
  const body = (await call(opts, 'DELETE', `/v1/slices/${encodeURIComponent(name)}`, undefined, user)) as { name: string; released: number };
  print(opts, body, () => `deleted slice ${body.name}; released ${body.released} node(s)\n`);
}

async function list(opts: Common): Promise<void> {
  const body = (await call(opts, 'GET', '/v1/slices')) as { slices: SliceView[] };
  print(opts, body, () => renderList(body.slices));
}

async function describe(name: string, opts: Common): Promise<void> {
  const body = (await call(opts, 'GET', `/v1/slices/${encodeURIComponent(name)}`)) as SliceView;
  print(opts, body, () => renderSlice(body));
}

function createOptions(c: Command): Command {
  return c
    .addOption(new Option('--nodes <n>', 'how many nodes'))
    .addOption(new Option('--fraction <f>', 'a share of the matching nodes, e.g. 5% or 0.05'))
    .option('--where <expr>', 'which nodes qualify, e.g. "cores>=4, mem>=8GiB, label.zone=lab2" (see src/slices/QUERY.md)')
    .option('--rank <attr[:asc|desc]>', 'prefer the best nodes by this attribute, e.g. cpu or load:asc')
    .option('--keep-size', 'replace members that leave, so the slice keeps its size');
}

export function sliceCommand(): Command {
  const slice = new Command('slice').description('create, resize, inspect and delete slices (sub-clouds of nodes)');
  slice.addCommand(withCommon(createOptions(new Command('create').argument('<name>', 'slice name (lowercase letters, digits, -)').description('allocate a new slice')), true).action(create));
  slice.addCommand(withCommon(new Command('grow').argument('<name>').argument('<n>', 'nodes to add').description('add N nodes to a slice'), true).action(grow));
  slice.addCommand(withCommon(new Command('shrink').argument('<name>').argument('<n-or-nodes...>', 'how many nodes to remove, or their node ids').description('remove nodes from a slice'), true).action(shrink));
  slice.addCommand(withCommon(new Command('delete').argument('<name>').description('delete a slice and release its nodes'), true).action(remove));
  slice.addCommand(withCommon(new Command('list').description('slices coordinated by the node'), false).action(list));
  slice.addCommand(withCommon(new Command('describe').argument('<name>').description('a slice, its spec and its members'), false).action(describe));
  return slice;
}

/** The design report's EC2-like verbs, as aliases of the slice commands. */
export function instanceCommands(): Command[] {
  const run = withCommon(createOptions(new Command('run-instances').argument('<slice>').argument('<n>', 'nodes').description('alias of `slice create SLICE --nodes N`')), true).action(
    (name: string, n: string, opts: CreateOptions) => create(name, { ...opts, nodes: String(positiveInt(n, 'N')) }),
  );
  const add = withCommon(new Command('add-instances').argument('<slice>').argument('<n>').description('alias of `slice grow SLICE N`'), true).action(grow);
  const terminate = withCommon(new Command('terminate-instances').argument('<slice>').argument('<nodes...>', 'node ids (or a count)').description('alias of `slice shrink SLICE NODE…`'), true).action(shrink);
  const describeInstances = withCommon(
    new Command('describe-instances').argument('[slice]', 'a slice coordinated by the node; without it: the node\'s own slice and ring neighbours').description('a slice\'s members, or the node\'s own membership'),
    false,
  ).action(async (name: string | undefined, opts: Common) => {
    if (name !== undefined) return describe(name, opts);
    const body = (await call(opts, 'GET', '/v1/membership')) as MembershipView;
    print(opts, body, () => renderMembership(body));
  });
  return [run, add, terminate, describeInstances];
}
