/**
 * What a daemon loads decides most of its resident memory (every ES module stays in the heap for
 * good): `peercloud node start` must not load the simulator and its plotting libraries, nor
 * TypeBox (the API's schemas are literals), prom-client only once /metrics is scraped, and
 * @fastify/swagger only once /openapi.json is asked for.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { buildProgram } from '../../src/cli/main.js';
import { packageFile } from '../../src/core/package-files.js';
import { readCpuScore, writeCpuScore } from '../../src/node/cpu-score-file.js';
import { type Daemon, killAll, runCli, startDaemon, waitExit } from './node-helpers.js';

/** Module hooks (they run on the loader thread) appending every loaded URL to `out`. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function load(url, context, next) {
  const result = await next(url, context);
  appendFileSync(out, url + '\\n');
  return result;
}
`;

const REGISTER = (hooks: string, out: string) => `
import { register } from 'node:module';
import { writeFileSync } from 'node:fs';
register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { out: ${JSON.stringify(out)} } });
// Node's own modules loaded with require() pass no hook: list them from the process itself.
setInterval(() => writeFileSync(${JSON.stringify(`${out}.builtins`)}, process.moduleLoadList.join('\\n')), 200).unref();
`;

/** Node's built-in modules the daemon has loaded (process.moduleLoadList, "NativeModule x" entries). */
function builtinsLoaded(out: string): string[] {
  return readFileSync(`${out}.builtins`, 'utf8').split('\n').filter((l) => l.startsWith('NativeModule ')).map((l) => l.slice('NativeModule '.length));
}

/** The bundled CLI's chunks (dist/cli/*.js) and the modules each holds, from the build's metafile. */
const CHUNK_INPUTS: ReadonlyMap<string, readonly string[]> = (() => {
  const meta = JSON.parse(readFileSync(packageFile('dist', 'cli', 'metafile.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  return new Map(Object.entries(meta.outputs).map(([file, o]) => [pathToFileURL(packageFile(file)).href, Object.keys(o.inputs).map((i) => pathToFileURL(packageFile(i)).href)]));
})();

/** The URLs of the modules the daemon loaded: a chunk of the bundle stands for the modules in it. */
function loaded(out: string): string[] {
  return readFileSync(out, 'utf8').split('\n').filter(Boolean).flatMap((url) => CHUNK_INPUTS.get(url) ?? [url]);
}

const STORED_SCORE = 4242;

const packageOf = (url: string) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

describe('modules a daemon loads', () => {
  let dir: string;
  let out: string;
  let daemon: Daemon;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'peercloud-modules-'));
    const hooks = join(dir, 'hooks.mjs');
    const register = join(dir, 'register.mjs');
    out = join(dir, 'loaded.txt');
    writeFileSync(hooks, HOOKS);
    writeFileSync(register, REGISTER(hooks, out));
    writeFileSync(out, '');
    const init = await runCli(['init', '--data-dir', join(dir, 'node')]);
    assert.equal(init.code, 0, init.stderr);
    // init measured the CPU score into the data dir; a distinctive one shows the daemon uses it.
    assert.equal((await readCpuScore(join(dir, 'node'))).kind, 'ok', 'init stored the CPU score');
    await writeCpuScore(join(dir, 'node'), STORED_SCORE);
    daemon = await startDaemon(join(dir, 'node'), [], 30_000, { NODE_OPTIONS: `--import ${pathToFileURL(register).href}` });
  });

  after(async () => {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('node start loads none of the simulator, vega, TypeBox, zod classic, prom-client or the OpenAPI generator', () => {
    const urls = loaded(out);
    assert.ok(urls.some((u) => u.endsWith('/dist/src/node/runtime/node-runtime.js')), 'the hooks saw the daemon load');
    const packages = new Set(urls.map(packageOf).filter((p) => p !== undefined));
    // Without a config file, no config parser either (node/config-file.ts).
    for (const heavy of ['vega', 'vega-lite', 'typebox', 'prom-client', '@fastify/swagger', 'yaml', 'smol-toml']) assert.ok(!packages.has(heavy), `${heavy} was loaded`);
    assert.deepEqual(urls.filter((u) => u.includes('/dist/src/simulator/')), []);
    // zod's classic API cannot be tree-shaken and costs ~2.5 MiB more than zod/mini (src/core/zod.ts).
    assert.deepEqual(urls.filter((u) => u.includes('/node_modules/zod/v4/classic/')), []);
    assert.ok(urls.some((u) => u.includes('/node_modules/zod/v4/mini/')), 'the daemon validates with zod/mini');
    // fastify requires these for options the daemon does not use (scripts/build-cli.mjs, lazy built-ins).
    const builtins = builtinsLoaded(out);
    assert.ok(builtins.includes('tls') && builtins.includes('http'), `the list is read: ${builtins.length} built-ins`);
    for (const unused of ['http2', 'https']) assert.ok(!builtins.includes(unused), `${unused} was loaded`);
    assert.deepEqual(urls.filter((u) => u.includes('/dist/src/cli/commands/') && !/\/(node|cli-error)\.js$/.test(u)), []);
  });

  it('uses the CPU score stored in its data dir instead of measuring it', async () => {
    const res = await fetch(new URL('/v1/node', daemon.api), { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200);
    const node = (await res.json()) as { attributes: { cpuScore: number } };
    assert.equal(node.attributes.cpuScore, STORED_SCORE);
  });

  it('the first /openapi.json loads @fastify/swagger and answers with the document', async () => {
    const res = await fetch(new URL('/openapi.json', daemon.api), { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok('/v1/node' in doc.paths && '/openapi.json' in doc.paths, Object.keys(doc.paths).join(', '));
    assert.ok(loaded(out).some((u) => packageOf(u) === '@fastify/swagger'), '@fastify/swagger loaded by the request');
  });

  it('the first /metrics scrape loads prom-client and answers', async () => {
    const res = await fetch(new URL('/metrics', daemon.api), { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^peercloud_process_cpu_seconds_total /m);
    assert.ok(loaded(out).some((u) => packageOf(u) === 'prom-client'), 'prom-client loaded by the scrape');
    daemon.child.kill('SIGTERM');
    assert.equal((await waitExit(daemon)).code, 0);
  });
});

describe('the program a command line needs', () => {
  it('`node start` builds only the node command; no command builds all of them, in order', async () => {
    const names = (p: Awaited<ReturnType<typeof buildProgram>>) => p.commands.map((c) => c.name());
    assert.deepEqual(names(await buildProgram(['node', 'peercloud', 'node', 'start', '--data-dir', 'x'])), ['node']);
    assert.deepEqual(names(await buildProgram(['node', 'peercloud', 'peers', '--json'])), ['status', 'peers', 'network']);
    const all = names(await buildProgram());
    for (const expected of ['sim', 'demo', 'init', 'node', 'cluster', 'status', 'peers', 'network']) assert.ok(all.includes(expected), `${expected} in ${all.join(', ')}`);
    assert.deepEqual(all.slice(0, 6), ['sim', 'demo', 'sim-demo', 'init', 'node', 'cluster']);
    assert.deepEqual(names(await buildProgram(['node', 'peercloud', '--help'])), all);
    assert.deepEqual(names(await buildProgram(['node', 'peercloud', 'nod'])), all);
  });
});
