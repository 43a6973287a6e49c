/** Helpers for API tests: a server on an ephemeral port, raw HTTP, and a Prometheus text parser. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { type ApiServer, type ApiServerOptions, createApiServer } from '../../src/api/server.js';
import { FakeSource } from './fake-source.js';

export interface Running {
  source: FakeSource;
  server: ApiServer;
  url: string;
  port: number;
}

export async function startServer(options: ApiServerOptions = {}, source = new FakeSource()): Promise<Running> {
  const server = await createApiServer(source, { host: '127.0.0.1', port: 0, ...options });
  const address = await server.listen();
  assert.ok(server.url);
  return { source, server, url: server.url, port: address.port };
}

export interface Reply {
  status: number;
  contentType: string;
  text: string;
  headers: Headers;
  json(): unknown;
}

export async function request(url: string, init?: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text,
    headers: res.headers,
    json: () => JSON.parse(text) as unknown,
  };
}

/** Sends bytes as they are (no URL normalisation, no framing help) and reads until the server closes. */
export function rawHttp(port: number, bytes: string | Buffer, timeoutMs = 5000): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no complete response before the timeout'));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined); // a reset after the response is fine; `close` decides
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const match = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
      if (!match) {
        reject(new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      resolve({ status: Number(match[1]), headers: match[2].toLowerCase(), body: match[3] });
    });
    socket.write(bytes);
  });
}

/** Body of a raw response, un-chunked if needed. */
export function rawBody(reply: { headers: string; body: string }): string {
  if (!/transfer-encoding: chunked/.test(reply.headers)) return reply.body;
  let out = '';
  let rest = reply.body;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, nl), 16);
    if (!size) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}

/** Asserts the standard error shape and returns it. */
export function assertError(body: unknown, code?: string): { code: string; message: string } {
  assert.ok(typeof body === 'object' && body !== null && 'error' in body, `not an error body: ${JSON.stringify(body)}`);
  const error = (body as { error: { code: string; message: string } }).error;
  assert.deepEqual(Object.keys(body as object), ['error']);
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message']);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  if (code) assert.equal(error.code, code, error.message);
  return error;
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

/**
 * Parses the Prometheus text exposition format (0.0.4) strictly: every line is a HELP, a TYPE or
 * a sample of a declared family; values are floats, NaN or ±Inf. Throws on anything else.
 */
export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const familyOf = (sample: string): Family | undefined => {
    for (const suffix of ['', '_total', '_sum', '_count', '_bucket', '_created']) {
      if (suffix && !sample.endsWith(suffix)) continue;
      const base = suffix ? sample.slice(0, -suffix.length) : sample;
      const f = families.get(base) ?? families.get(sample);
      if (f) return f;
    }
    return undefined;
  };
  const lines = text.split('\n');
  assert.equal(lines[lines.length - 1], '', 'ends with a newline');
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
      assert.ok(m, `bad comment, ${where}`);
      const [, kind, name, rest] = m;
      const f = families.get(name) ?? { type: 'untyped', help: '', samples: [] };
      if (kind === 'TYPE') {
        assert.match(rest, /^(counter|gauge|histogram|summary|untyped)$/, where);
        f.type = rest;
      } else {
        f.help = rest;
      }
      families.set(name, f);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `bad sample, ${where}`);
    const [, name, labelText, valueText] = m;
    // Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and Inf in any case
    // (prom-client prints "Nan" for an empty event-loop histogram).
    assert.match(valueText, /^(nan|[+-]?inf|[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)$/i, `bad value, ${where}`);
    const labels: Record<string, string> = {};
    if (labelText) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const l = LABEL.exec(labelText);
        assert.ok(l, `bad labels, ${where}`);
        labels[l[1]] = l[2];
      }
    }
    const family = familyOf(name);
    assert.ok(family, `sample of an undeclared family, ${where}`);
    const lower = valueText.toLowerCase();
    const value = lower === 'nan' ? Number.NaN : lower.endsWith('inf') ? (lower.startsWith('-') ? -Infinity : Infinity) : Number(valueText);
    family.samples.push({ labels, value });
  }
  return families;
}
