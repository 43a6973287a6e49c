/**
 * `npm run bench -- transport`: what TLS costs the daemon, measured over loopback with both ends in
 * this process (so CPU figures are the two ends together; each end does about half):
 *
 * - CPU per new connection: a fresh client dials, completes the TLS 1.3 handshake with mutual
 *   Ed25519 authentication, and makes one small request; the cost of a request on an existing
 *   connection is subtracted.
 * - CPU per GiB over a bulk stream (AES-GCM or ChaCha20 both ways, whatever OpenSSL picks).
 * - Request/response round trips per second on one connection, one at a time and pipelined.
 */
import type { Duplex } from 'node:stream';
import { formatTable } from '../src/cli/output.js';
import { generateIdentity } from '../src/node/identity.js';
import { TlsTransport } from '../src/network/tls-transport.js';
import type { PeerAddress } from '../src/network/transport.js';
import { type Benchmark, integerOption, parseBenchArgs } from './benchmark.js';

const usage = 'transport [--connections N] [--mib N] [--requests N] [--json]';

export const transportBenchmark: Benchmark = {
  name: 'transport',
  description: 'TLS transport over loopback: CPU per new connection, CPU per GiB streamed, round trips per second',
  usage,
  main: runTransportBench,
};

interface Options {
  connections: number;
  mib: number;
  requests: number;
  json: boolean;
}

function parseOptions(args: string[]): Options {
  const values = parseBenchArgs(
    args,
    {
      connections: { type: 'string' },
      mib: { type: 'string' },
      requests: { type: 'string' },
      json: { type: 'boolean' },
    },
    usage,
  );
  const int = integerOption;
  return {
    connections: int('connections', values.connections, 200, 1, 10_000),
    mib: int('mib', values.mib, 1024, 1, 65_536),
    requests: int('requests', values.requests, 20_000, 100, 10_000_000),
    json: values.json === true,
  };
}

/** CPU (user + system) and wall time of `fn`, in ms. */
async function measure(fn: () => Promise<void>): Promise<{ cpuMs: number; wallMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs };
}

async function runTransportBench(args: string[]): Promise<number> {
  const options = parseOptions(args);
  const server = await TlsTransport.create(generateIdentity(), { maxConnections: options.connections + 16, maxInboundConnections: options.connections + 8 });
  const bound = await server.listen({ host: '127.0.0.1', port: 0 });
  const serverPeer: PeerAddress = { nodeId: server.nodeId, host: bound.host, port: bound.port };
  const small = new Uint8Array(64);
  server.onRequest((_from, _type, payload) => payload);
  const clients: TlsTransport[] = [];
  try {
    // --- handshakes ---
    for (let i = 0; i < options.connections; i++) clients.push(await TlsTransport.create(generateIdentity()));
    const warm = clients[0];
    for (let i = 0; i < 200; i++) await warm.request(serverPeer, 1, small); // JIT warm-up on one connection
    const perRequest = await measure(async () => {
      for (let i = 0; i < options.connections; i++) await warm.request(serverPeer, 1, small);
    });
    const handshakes = await measure(async () => {
      for (const client of clients.slice(1)) await client.request(serverPeer, 1, small);
    });
    const dialled = clients.length - 1;
    const handshakeCpuMs = dialled > 0 ? (handshakes.cpuMs - (perRequest.cpuMs / options.connections) * dialled) / dialled : Number.NaN;
    const handshakeWallMs = dialled > 0 ? handshakes.wallMs / dialled : Number.NaN;
    await Promise.all(clients.slice(1).map((c) => c.close()));
    clients.length = 1;

    // --- bulk stream ---
    const total = options.mib * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 0x5a);
    let received = 0;
    const done = new Promise<void>((resolve) => {
      server.onStream((_from, _purpose, stream) => {
        stream.on('data', (c: Buffer) => {
          received += c.length;
          if (received >= total) {
            stream.end();
            resolve();
          }
        });
      });
    });
    const stream: Duplex = await warm.openStream(serverPeer, 'bench');
    stream.on('error', () => {});
    const bulk = await measure(async () => {
      let sent = 0;
      while (sent < total) {
        const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
        sent += piece.length;
        if (!stream.write(piece)) await new Promise((resolve) => stream.once('drain', resolve));
      }
      await done;
    });
    const gib = total / 2 ** 30;

    // --- round trips on one connection ---
    const sequentialCount = Math.min(options.requests, 10_000);
    const sequential = await measure(async () => {
      for (let i = 0; i < sequentialCount; i++) await warm.request(serverPeer, 1, small);
    });
    const depth = 64;
    const pipelined = await measure(async () => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < options.requests) {
          next++;
          await warm.request(serverPeer, 1, small);
        }
      };
      await Promise.all(Array.from({ length: depth }, worker));
    });

    const results = {
      handshake: { connections: dialled, cpuMsPerConnection: handshakeCpuMs, wallMsPerConnection: handshakeWallMs },
      bulk: { mib: options.mib, cpuSecondsPerGiB: bulk.cpuMs / 1000 / gib, mibPerSecond: options.mib / (bulk.wallMs / 1000) },
      roundTrips: {
        sequentialPerSecond: sequentialCount / (sequential.wallMs / 1000),
        sequentialCpuUsPerRequest: (sequential.cpuMs * 1000) / sequentialCount,
        pipelinedDepth: depth,
        pipelinedPerSecond: options.requests / (pipelined.wallMs / 1000),
        pipelinedCpuUsPerRequest: (pipelined.cpuMs * 1000) / options.requests,
      },
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    } else {
      const r = (v: number, digits = 2): number => Number(v.toFixed(digits));
      process.stdout.write(`${formatTable(['measure', 'value', 'unit (both ends, one process)'], [
        ['new connection (TLS 1.3 handshake + 1 request)', r(handshakeCpuMs), `CPU ms per connection (${dialled} connections)`],
        ['new connection, wall', r(handshakeWallMs), 'ms per connection, sequential'],
        ['bulk stream', r(results.bulk.cpuSecondsPerGiB), `CPU s per GiB (${options.mib} MiB)`],
        ['bulk stream throughput', r(results.bulk.mibPerSecond, 0), 'MiB/s'],
        ['round trips, one at a time', r(results.roundTrips.sequentialPerSecond, 0), `per second (${sequentialCount}, 64-byte payloads)`],
        ['round trips, one at a time, CPU', r(results.roundTrips.sequentialCpuUsPerRequest, 1), 'CPU µs per request'],
        [`round trips, ${depth} in flight`, r(results.roundTrips.pipelinedPerSecond, 0), `per second (${options.requests})`],
        [`round trips, ${depth} in flight, CPU`, r(results.roundTrips.pipelinedCpuUsPerRequest, 1), 'CPU µs per request'],
      ])}\n`);
    }
    return 0;
  } finally {
    await Promise.all([server.close(), ...clients.map((c) => c.close())]);
  }
}
