/**
 * `probe`: learning who answers at an address (trust on first use) without pinning an id, and a
 * clear TransportError from anything that is not a peercloud node.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { type AddressInfo, type Server, type Socket, createServer as createTcpServer } from 'node:net';
import { test } from 'node:test';
import * as tls from 'node:tls';
import { generateIdentity } from '../../src/node/identity.js';
import { createNodeCertificate } from '../../src/network/self-signed-certificate.js';
import { TlsTransport } from '../../src/network/tls-transport.js';
import { TransportError, type TransportErrorCode } from '../../src/network/transport.js';
import { bytes, closeAll, startNode, text, waitFor } from './transport-helpers.js';

async function rejectsCode(promise: Promise<unknown>, code: TransportErrorCode, pattern?: RegExp): Promise<TransportError> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof TransportError, `expected a TransportError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

/** Starts `server` on 127.0.0.1:0, tracking its sockets so that `stop` can end them all. */
async function listenLocal(server: Server): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A self-signed ECDSA P-256 certificate: a TLS server that is not a peercloud node. */
async function ecdsaCertificate(): Promise<{ key: string; cert: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=not-peercloud',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: alg,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`, cert: cert.toString('pem') };
}

test('probe returns the node id and key at an address, pins nothing, and leaves no connection behind', async () => {
  const a = await startNode();
  const b = await startNode();
  b.transport.onRequest((from) => bytes(`hello ${from.nodeId}`));
  try {
    const remote = await a.transport.probe({ host: b.address.host, port: b.address.port });
    assert.equal(remote.nodeId, b.identity.nodeId);
    assert.deepEqual([...remote.publicKey], [...b.identity.publicKey]);
    assert.equal(remote.remoteAddress.port, b.address.port);
    // The probe hung up: neither side keeps a message connection for it.
    assert.equal(a.transport.stats().connectionsOpen, 0);
    await waitFor(() => b.transport.stats().connectionsOpen === 0, 'the probed node to see the probe close');
    // Being probed is an ordinary, polite connection: nothing for the probed node to warn about.
    assert.deepEqual(b.logs.filter((l) => l.startsWith('warn')), []);
    // The learned id works as a pinned address like any other.
    assert.equal(text(await a.transport.request({ nodeId: remote.nodeId, host: b.address.host, port: b.address.port }, 1, bytes(''))), `hello ${a.identity.nodeId}`);
    // Probing our own address is allowed and answers with our own id: the caller decides.
    const self = await a.transport.probe({ host: a.address.host, port: a.address.port });
    assert.equal(self.nodeId, a.identity.nodeId);
  } finally {
    await closeAll([a, b]);
  }
});

test('probe of a TLS server that is not a peercloud node fails with HANDSHAKE_FAILED', async () => {
  const a = await startNode();
  const ecdsa = await ecdsaCertificate();
  const ed25519 = await createNodeCertificate(generateIdentity());
  // A web server's kind of certificate (ECDSA), and an Ed25519 one without the peercloud protocol.
  const notEd25519 = await listenLocal(tls.createServer({ key: ecdsa.key, cert: ecdsa.cert, minVersion: 'TLSv1.3' }, (s) => s.end()));
  const noAlpn = await listenLocal(tls.createServer({ key: ed25519.keyPem, cert: ed25519.certPem, minVersion: 'TLSv1.3' }, (s) => s.end()));
  const otherAlpn = await listenLocal(tls.createServer({ key: ed25519.keyPem, cert: ed25519.certPem, minVersion: 'TLSv1.3', ALPNProtocols: ['h2'] }, (s) => s.end()));
  try {
    await rejectsCode(a.transport.probe({ host: '127.0.0.1', port: notEd25519.port }), 'HANDSHAKE_FAILED', /not Ed25519/);
    await rejectsCode(a.transport.probe({ host: '127.0.0.1', port: noAlpn.port }), 'HANDSHAKE_FAILED', /did not agree to peercloud\/1/);
    await rejectsCode(a.transport.probe({ host: '127.0.0.1', port: otherAlpn.port }), 'HANDSHAKE_FAILED', new RegExp(`127\\.0\\.0\\.1:${otherAlpn.port}`));
    assert.equal(a.transport.stats().connectionsOpen, 0);
  } finally {
    await Promise.all([notEd25519.stop(), noAlpn.stop(), otherAlpn.stop()]);
    await closeAll([a]);
  }
});

test('probe of a plain TCP server, a silent one and a closed port fails with a clear TransportError', async () => {
  const a = await startNode();
  const http = await listenLocal(createTcpServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
  const silent = await listenLocal(createTcpServer(() => {}));
  const closedPort = await listenLocal(createTcpServer());
  const freePort = closedPort.port;
  await closedPort.stop();
  try {
    await rejectsCode(a.transport.probe({ host: '127.0.0.1', port: http.port }), 'HANDSHAKE_FAILED', new RegExp(`127\\.0\\.0\\.1:${http.port}`));
    await rejectsCode(a.transport.probe({ host: '127.0.0.1', port: silent.port }, { timeoutMs: 200 }), 'TIMEOUT', /took longer than 200 ms/);
    await rejectsCode(a.transport.probe({ host: '127.0.0.1', port: freePort }), 'UNREACHABLE', new RegExp(`127\\.0\\.0\\.1:${freePort}`));
  } finally {
    await Promise.all([http.stop(), silent.stop()]);
    await closeAll([a]);
  }
});

test('probe honours an abort signal, refuses bad arguments and fails with CLOSED once the transport is closed', async () => {
  const a = await startNode();
  const silent = await listenLocal(createTcpServer(() => {}));
  try {
    const controller = new AbortController();
    const pending = a.transport.probe({ host: '127.0.0.1', port: silent.port }, { signal: controller.signal });
    controller.abort();
    await rejectsCode(pending, 'ABORTED');
    await rejectsCode(a.transport.probe({ host: '127.0.0.1', port: silent.port }, { signal: AbortSignal.abort() }), 'ABORTED');
    await assert.rejects(a.transport.probe({ host: '', port: 1 }), RangeError);
    await assert.rejects(a.transport.probe({ host: '127.0.0.1', port: 0 }), RangeError);
    await assert.rejects(a.transport.probe({ host: '127.0.0.1', port: 1 }, { timeoutMs: 0 }), RangeError);
    const inFlight = a.transport.probe({ host: '127.0.0.1', port: silent.port });
    await new Promise((r) => setTimeout(r, 20));
    await a.transport.close();
    await rejectsCode(inFlight, 'CLOSED');
    await rejectsCode(a.transport.probe({ host: '127.0.0.1', port: silent.port }), 'CLOSED');
  } finally {
    await silent.stop();
    await closeAll([a]);
  }
});

test('a transport that never listened can probe (an outbound-only node)', async () => {
  const b = await startNode();
  const dialer = await TlsTransport.create(generateIdentity());
  try {
    assert.equal((await dialer.probe({ host: b.address.host, port: b.address.port })).nodeId, b.identity.nodeId);
  } finally {
    await dialer.close();
    await closeAll([b]);
  }
});
