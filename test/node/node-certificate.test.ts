import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { TlsTransport } from '../../src/network/tls-transport.js';
import { createIdentity, generateIdentity } from '../../src/node/identity.js';
import { certificatePath, certificateProblem, loadNodeCertificate, saveNodeCertificate } from '../../src/node/node-certificate.js';

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'peercloud-cert-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('createIdentity saves the certificate of the new key beside it, and a daemon uses it as it is', async () => {
  await withTempDir(async (dir) => {
    const identity = await createIdentity(dir);
    const pem = await readFile(certificatePath(dir), 'utf8');
    assert.equal(certificateProblem(pem, identity), null);
    const before = await stat(certificatePath(dir));
    const warnings: string[] = [];
    const cert = await loadNodeCertificate(dir, identity, (m) => warnings.push(m));
    assert.equal(cert.certPem, pem);
    assert.equal(warnings.length, 0);
    assert.equal((await stat(certificatePath(dir))).mtimeMs, before.mtimeMs, 'not rewritten');
    // The transport takes it, and refuses one made for another key.
    const transport = await TlsTransport.create(identity, {}, cert);
    await transport.close();
    await assert.rejects(TlsTransport.create(generateIdentity(), {}, cert), (e: unknown) => e instanceof RangeError && /not for the key/.test(e.message));
  });
});

test('a missing, corrupt or foreign certificate file is replaced by one for the identity', async () => {
  await withTempDir(async (dir) => {
    const identity = generateIdentity();
    const warnings: string[] = [];
    const made = await loadNodeCertificate(dir, identity, (m) => warnings.push(m));
    assert.equal(certificateProblem(made.certPem, identity), null);
    assert.equal(await readFile(certificatePath(dir), 'utf8'), made.certPem, 'saved for next time');
    assert.equal(warnings.length, 0, 'a missing file is the normal first start');

    await writeFile(certificatePath(dir), 'not a certificate');
    const fixed = await loadNodeCertificate(dir, identity, (m) => warnings.push(m));
    assert.equal(certificateProblem(fixed.certPem, identity), null);
    assert.match(warnings.at(-1)!, /is not a PEM certificate .*; making a new certificate$/);

    const other = generateIdentity();
    await saveNodeCertificate(dir, other);
    assert.match(certificateProblem(await readFile(certificatePath(dir), 'utf8'), identity)!, /another key/);
    const mine = await loadNodeCertificate(dir, identity, (m) => warnings.push(m));
    assert.equal(certificateProblem(mine.certPem, identity), null);
    assert.match(warnings.at(-1)!, /another key than this node's identity/);
    assert.equal(await readFile(certificatePath(dir), 'utf8'), mine.certPem);
  });
});

/** Runs loadNodeCertificate in a fresh process and returns the npm packages it loaded. */
async function packagesLoadedWhileLoading(dir: string): Promise<string[]> {
  const script = join(dir, 'probe.mjs');
  const hooks = join(dir, 'hooks.mjs');
  const out = join(dir, 'loaded.txt');
  await writeFile(out, '');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); }
`,
  );
  const src = (m: string) => pathToFileURL(new URL(`../../src/node/${m}`, import.meta.url).pathname).href;
  await writeFile(
    script,
    `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { out: ${JSON.stringify(out)} } });
const { loadIdentity } = await import(${JSON.stringify(src('identity.js'))});
const { loadNodeCertificate } = await import(${JSON.stringify(src('node-certificate.js'))});
await loadNodeCertificate(${JSON.stringify(join(dir, 'node'))}, await loadIdentity(${JSON.stringify(join(dir, 'node'))}));
`,
  );
  const code = await new Promise<number | null>((resolve) => spawn(process.execPath, [script], { stdio: 'inherit' }).once('exit', resolve));
  assert.equal(code, 0);
  const urls = (await readFile(out, 'utf8')).split('\n').filter(Boolean);
  assert.ok(urls.some((u) => u.endsWith('/node-certificate.js')), 'the hooks saw the module load');
  return [...new Set(urls.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => p !== undefined))];
}

test('with a saved certificate, starting does not load the X.509 library; without one it does', async () => {
  await withTempDir(async (dir) => {
    await createIdentity(join(dir, 'node'));
    const saved = await packagesLoadedWhileLoading(dir);
    for (const heavy of ['@peculiar/x509', 'reflect-metadata']) assert.ok(!saved.includes(heavy), `${heavy} loaded: ${saved.join(', ')}`);
    await rm(certificatePath(join(dir, 'node')));
    const made = await packagesLoadedWhileLoading(dir);
    assert.ok(made.includes('@peculiar/x509'), `the library makes the certificate: ${made.join(', ')}`);
  });
});
