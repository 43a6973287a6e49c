/** Shared set-up for the transport tests: real transports and raw clients on 127.0.0.1. */
import { connect as netConnect, type Socket } from 'node:net';
import * as tls from 'node:tls';
import { type NodeIdentity, generateIdentity } from '../../src/node/identity.js';
import { createNodeCertificate } from '../../src/network/self-signed-certificate.js';
import { ALPN_MESSAGES, TlsTransport, type TlsTransportOptions } from '../../src/network/tls-transport.js';
import type { PeerAddress } from '../../src/network/transport.js';

export interface TestNode {
  identity: NodeIdentity;
  transport: TlsTransport;
  address: PeerAddress;
  /** Lines the transport logged, for asserting that reasons are given. */
  logs: string[];
}

export async function startNode(options: TlsTransportOptions = {}, identity = generateIdentity()): Promise<TestNode> {
  const logs: string[] = [];
  const transport = await TlsTransport.create(identity, {
    logger: (level, message) => logs.push(`${level}: ${message}`),
    ...options,
  });
  const bound = await transport.listen({ host: '127.0.0.1', port: 0 });
  return { identity, transport, address: { nodeId: identity.nodeId, host: bound.host, port: bound.port }, logs };
}

export async function closeAll(nodes: readonly TestNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.transport.close()));
}

/** Polls `predicate` until true; rejects after `timeoutMs` with `what` in the message. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A TLS client outside the transport, to misbehave with. `identity` undefined: no client
 * certificate; `alpn` null: no ALPN. Resolves once the handshake is done (so the test can then
 * send whatever it likes).
 */
export async function rawTlsClient(port: number, identity: NodeIdentity | undefined, alpn: string | null = ALPN_MESSAGES): Promise<tls.TLSSocket> {
  const cert = identity === undefined ? undefined : await createNodeCertificate(identity);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      minVersion: 'TLSv1.3',
      rejectUnauthorized: false,
      ...(cert === undefined ? {} : { key: cert.keyPem, cert: cert.certPem }),
      ...(alpn === null ? {} : { ALPNProtocols: [alpn] }),
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A plain TCP connection. */
export function rawTcpClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the socket has closed (swallowing its errors). */
export function closedSocket(socket: Socket): Promise<void> {
  socket.on('error', () => {});
  return new Promise((resolve) => {
    if (socket.closed) resolve();
    else socket.once('close', () => resolve());
  });
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);
