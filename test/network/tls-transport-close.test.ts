/**
 * close() must leave nothing behind: run a busy scenario in a child process, close both transports
 * and let the process end on its own. A leaked socket, server or timer keeps it alive, and the test
 * fails on the timeout instead of the exit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

const moduleUrl = (relative: string): string => new URL(relative, import.meta.url).href;

const script = `
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { startNode, rawTlsClient, waitFor, bytes } from ${JSON.stringify(moduleUrl('./transport-helpers.js'))};
import { generateIdentity } from ${JSON.stringify(moduleUrl('../../src/node/identity.js'))};

const a = await startNode({ idleTimeoutMs: 60_000 });
const b = await startNode({ idleTimeoutMs: 60_000 });
a.transport.onRequest(() => bytes('a'));
b.transport.onRequest((_from, type) => (type === 9 ? new Promise(() => {}) : bytes('b')));
b.transport.onStream((_from, _purpose, stream) => { stream.on('error', () => {}); /* never read */ });
await Promise.all(Array.from({ length: 50 }, (_, i) => a.transport.request(b.address, i % 5, bytes('x'))));
await b.transport.request(a.address, 1, bytes('y'));
const hanging = a.transport.request(b.address, 9, bytes(''), { timeoutMs: 60_000 }).catch((e) => e.code);
await a.transport.request(b.address, 9, bytes(''), { timeoutMs: 50 }).catch(() => {});
const stream = await a.transport.openStream(b.address, 'bulk');
stream.on('error', () => {});
stream.write(Buffer.alloc(4 * 1024 * 1024));
const garbage = connect({ host: '127.0.0.1', port: b.address.port });
garbage.on('error', () => {});
garbage.write('GET / HTTP/1.1\\r\\n\\r\\n');
const silent = connect({ host: '127.0.0.1', port: b.address.port });
silent.on('error', () => {});
const raw = await rawTlsClient(b.address.port, generateIdentity());
raw.on('error', () => {});
raw.write(Buffer.from([0, 0, 0, 20, 1, 0]));
// A dial in progress when close() is called.
const dialling = a.transport.request({ nodeId: generateIdentity().nodeId, host: '127.0.0.1', port: b.address.port }, 1, bytes('')).catch((e) => e.code);
await Promise.all([a.transport.close(), b.transport.close()]);
const codes = [await hanging, await dialling];
// The misbehaving clients are the test's own sockets, not the transports': close them too.
await Promise.all([garbage, silent, raw].map((s) => new Promise((resolve) => { if (s.closed) resolve(); else { s.once('close', resolve); s.destroy(); } })));
// Node finishes a destroyed socket's bookkeeping on an immediate: let that run first.
await new Promise((resolve) => setImmediate(resolve));
await new Promise((resolve) => setImmediate(resolve));
const kinds = process.getActiveResourcesInfo().filter((k) => /TCP|TLS|Timeout|Immediate/.test(k));
process.stdout.write(JSON.stringify({ codes, kinds }) + '\\n');
`;

test('after close() the process exits by itself: no sockets, servers or timers left', async () => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exitCode = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('did not exit within 20 s');
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 'killed');
    });
  });
  assert.equal(exitCode, 0, `child: ${stderr}`);
  const report = JSON.parse(stdout.trim()) as { codes: string[]; kinds: string[] };
  assert.deepEqual(report.codes, ['CLOSED', 'CLOSED'], 'pending requests and dials fail with CLOSED');
  assert.deepEqual(report.kinds, [], 'no TCP/TLS handles or timers once close() resolved');
});

