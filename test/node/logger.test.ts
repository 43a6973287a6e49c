import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { TransportError } from '../../src/network/transport.js';
import { componentLogger, createLogger, transportLogger } from '../../src/node/logger.js';

/** A destination that keeps each JSON line, parsed. */
function sink(): { stream: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

describe('logger', () => {
  it('writes one JSON object per line with level word, ISO time, base fields and component', () => {
    const { stream, lines } = sink();
    const root = createLogger({ level: 'info', destination: stream, base: { node: 'pcx', name: 'node3' } });
    componentLogger(root, 'gossip', { protocol: 'newscast' }).info({ peers: 3 }, 'cycle done');
    root.debug('not written at info');
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line.level, 'info');
    assert.equal(line.msg, 'cycle done');
    assert.equal(line.component, 'gossip');
    assert.equal(line.protocol, 'newscast');
    assert.equal(line.peers, 3);
    assert.equal(line.node, 'pcx');
    assert.equal(line.pid, process.pid);
    assert.ok(!Number.isNaN(Date.parse(String(line.time))), `ISO time: ${String(line.time)}`);
  });

  it('adapts to the transport\'s logging callback, keeping levels and serializing errors', () => {
    const { stream, lines } = sink();
    const log = transportLogger(componentLogger(createLogger({ level: 'debug', destination: stream }), 'transport'));
    log('debug', 'dialling', { peer: 'pcy', port: 7946 });
    log('warn', 'handshake failed', { reason: new TransportError('PEER_KEY_MISMATCH', 'key does not match pcy', { peer: 'pcy' }) });
    log('info', 'listening');
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.component]),
      [
        ['debug', 'dialling', 'transport'],
        ['warn', 'handshake failed', 'transport'],
        ['info', 'listening', 'transport'],
      ],
    );
    assert.equal(lines[0].port, 7946);
    const reason = lines[1].reason as Record<string, unknown>;
    assert.equal(reason.message, 'key does not match pcy');
    assert.equal(reason.code, 'PEER_KEY_MISMATCH');
    assert.equal(reason.type, 'TransportError');
  });

  it('filters by level before building fields', () => {
    const { stream, lines } = sink();
    const log = transportLogger(createLogger({ level: 'warn', destination: stream }));
    log('debug', 'x', { a: 1 });
    log('info', 'y');
    assert.equal(lines.length, 0);
  });
});
