/**
 * GET /v1/monitor: live monitoring as a Server-Sent Events stream (`text/event-stream`), for
 * `peercloud monitor-instances` and for browsers' EventSource.
 *
 * Every `interval` ms (query parameter, default 1000, 200..60000), starting at once, one *tick*:
 *
 *   event: network      data: the NetworkAggregates of GET /v1/network
 *   event: membership   data: this node's slice membership (GET /v1/membership), when slices are on
 *   event: node         data: compact node info (MonitorNode below); always the last of its tick
 *
 * All events of a tick carry the tick number as their SSE `id`. If the node cannot answer a tick
 * (e.g. while it shuts down), that tick is one `unavailable` event with the API's error body
 * instead, and the stream goes on. Between ticks longer than the keep-alive period a comment line
 * keeps proxies and idle-connection timers from closing the connection.
 *
 * Lifecycle, which is the delicate part of a long-lived response: a stream stops (its timers
 * cleared) when the client disconnects, and every open stream is ended when the server closes
 * (preClose hook), so `fastify.close()` never waits on a monitor. SSE responses carry
 * `Connection: close` because the connection is never reused after a stream anyway, and so node
 * closes the socket as soon as an ended stream is flushed. A bounded number of streams may be open
 * at once (503 beyond), and a client that stops reading loses ticks instead of growing the buffer.
 *
 * The SSE framing is written by hand: it is a few lines of text for a single route, whereas a
 * plugin (@fastify/sse) would stay loaded in every daemon and bring its own lifecycle to reconcile
 * with the one above.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Logger } from '../node/logger.js';
import type { MembershipView } from '../slices/slice-api.js';
import { clip, errorBody, sendError, toErrorResponse } from './errors.js';
import { ErrorSchema, NodeIdSchema, type ErrorBody, type NetworkAggregates } from './schemas.js';
import type { MaybePromise, NodeStatusSource } from './source.js';
import { registerReadOnly } from './routes.js';

export const MONITOR_ROUTES = ['/v1/monitor'] as const;

export const MONITOR_INTERVAL = { defaultMs: 1000, minMs: 200, maxMs: 60_000 } as const;
export const DEFAULT_MAX_MONITOR_STREAMS = 64;
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
/** A stream whose client has this much unread is skipped until it catches up. */
const MAX_BUFFERED_BYTES = 64 * 1024;

/** What the monitor reads: the node's status and, when slices are on, its membership. */
export interface MonitorSource {
  readonly status: Pick<NodeStatusSource, 'nodeInfo' | 'peers' | 'network'>;
  readonly membership?: (() => MaybePromise<MembershipView>) | undefined;
}

export interface MonitorRouteOptions {
  /** Streams open at once; more answer 503 (default 64). */
  readonly maxStreams?: number;
  /** A comment line is sent when nothing else was for this long (default 15 s). */
  readonly keepAliveMs?: number;
}

/** The open streams, for tests and metrics. */
export interface MonitorStreams {
  readonly open: number;
}

export const MonitorNodeSchema = {
  type: 'object',
  required: ['id', 'name', 'uptimeMs', 'viewSize', 'viewCapacity', 'cores', 'freeCores', 'loadAverage', 'memoryFreeBytes', 'diskFreeBytes', 'measuredAt'],
  properties: {
    id: NodeIdSchema,
    name: { type: 'string' },
    uptimeMs: { type: 'number', minimum: 0 },
    viewSize: { type: 'integer', minimum: 0, description: 'Peers in the peer sampling view' },
    viewCapacity: { type: 'integer', minimum: 0, description: 'Capacity of the view (c)' },
    cores: { type: 'integer', minimum: 0 },
    freeCores: { type: 'number', minimum: 0, description: 'max(0, cores - loadAverage)' },
    loadAverage: { type: 'number', minimum: 0, description: '1-minute load average' },
    memoryFreeBytes: { type: 'number', minimum: 0 },
    diskFreeBytes: { type: 'number', minimum: 0 },
    measuredAt: { type: 'number', description: 'When the attributes were read (Unix time, ms)' },
  },
  additionalProperties: false,
} as const;
export type MonitorNode = FromSchema<typeof MonitorNodeSchema>;

export type MonitorEvent =
  | { readonly event: 'network'; readonly data: NetworkAggregates }
  | { readonly event: 'membership'; readonly data: MembershipView }
  | { readonly event: 'node'; readonly data: MonitorNode }
  | { readonly event: 'unavailable'; readonly data: ErrorBody };

export const MonitorQuerySchema = {
  type: 'object',
  properties: {
    interval: {
      type: 'integer',
      minimum: MONITOR_INTERVAL.minMs,
      maximum: MONITOR_INTERVAL.maxMs,
      default: MONITOR_INTERVAL.defaultMs,
      description: 'Milliseconds between ticks',
    },
  },
  additionalProperties: false,
} as const;

const STREAM_DESCRIPTION = [
  'A Server-Sent Events stream (text/event-stream) that sends one tick at once and then one every `interval` ms, until the client disconnects or the node stops.',
  'Each tick is the events `network` (data: the JSON of GET /v1/network), `membership` (data: the JSON of GET /v1/membership; only when the node runs slices) and `node`',
  '(data: {id, name, uptimeMs, viewSize, viewCapacity, cores, freeCores, loadAverage, memoryFreeBytes, diskFreeBytes, measuredAt}), in that order, each with the tick number as its `id`;',
  '`node` ends every tick. A tick the node cannot answer is a single `unavailable` event whose data is the error body. Lines starting with ":" are keep-alive comments.',
].join(' ');

/** One SSE frame. JSON.stringify never emits a raw newline, so `data` is always a single line. */
function frame(event: string, id: number, data: unknown): string {
  return `event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`;
}

function compactNode(info: Awaited<ReturnType<NodeStatusSource['nodeInfo']>>, view: Awaited<ReturnType<NodeStatusSource['peers']>>): MonitorNode {
  const a = info.attributes;
  return {
    id: info.id,
    name: info.name,
    uptimeMs: info.uptimeMs,
    viewSize: view.count,
    viewCapacity: view.viewSize,
    cores: a.cores,
    freeCores: a.freeCores,
    loadAverage: a.loadAverage,
    memoryFreeBytes: a.memoryFreeBytes,
    diskFreeBytes: a.diskFreeBytes,
    measuredAt: a.measuredAt,
  };
}

/** One tick's events, in the documented order; throws what the source throws. */
async function readTick(source: MonitorSource): Promise<MonitorEvent[]> {
  const [network, info, view, membership] = await Promise.all([
    source.status.network(),
    source.status.nodeInfo(),
    source.status.peers(),
    source.membership?.(),
  ]);
  const events: MonitorEvent[] = [{ event: 'network', data: network }];
  if (membership !== undefined) events.push({ event: 'membership', data: membership });
  events.push({ event: 'node', data: compactNode(info, view) });
  return events;
}

/** One open stream: its body, its two timers, and the tick loop. */
class MonitorStream {
  readonly body: Readable;
  private tickTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private tick = 0;
  private lastWriteAt = 0;

  constructor(
    private readonly read: () => Promise<MonitorEvent[]>,
    private readonly onError: (err: unknown) => ErrorBody,
    private readonly intervalMs: number,
    private readonly keepAliveMs: number,
    private readonly onStop: () => void,
  ) {
    // Push-driven: read() has nothing to do, the ticks push. Destroyed when the client goes away
    // (fastify destroys a stream payload whose response closed early).
    this.body = new Readable({ read() {} });
    this.body.once('close', () => this.stop());
  }

  /** Sends the first tick (already read, so a failing source gave a JSON error, not a stream). */
  start(first: MonitorEvent[]): void {
    this.write(first);
    this.schedule();
    if (this.keepAliveMs < this.intervalMs) {
      this.keepAliveTimer = setInterval(() => {
        if (Date.now() - this.lastWriteAt >= this.keepAliveMs) this.push(': keep-alive\n\n');
      }, this.keepAliveMs);
    }
  }

  /** Ends the stream normally (the server is closing): buffered ticks are flushed, then EOF. */
  end(): void {
    if (this.stopped) return;
    this.stop();
    this.body.push(null);
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.tickTimer);
    clearInterval(this.keepAliveTimer);
    this.onStop();
  }

  /** setTimeout after each tick rather than setInterval: a slow source never piles ticks up. */
  private schedule(): void {
    this.tickTimer = setTimeout(() => void this.next(), this.intervalMs);
  }

  private async next(): Promise<void> {
    let events: MonitorEvent[];
    try {
      events = await this.read();
    } catch (err) {
      events = [{ event: 'unavailable', data: this.onError(err) }];
    }
    if (this.stopped) return;
    this.write(events);
    this.schedule();
  }

  private write(events: readonly MonitorEvent[]): void {
    const id = this.tick++;
    this.push(events.map((e) => frame(e.event, id, e.data)).join(''));
  }

  private push(text: string): void {
    if (this.stopped || this.body.readableLength >= MAX_BUFFERED_BYTES) return;
    this.lastWriteAt = Date.now();
    this.body.push(text);
  }
}

export function registerMonitorRoutes(app: FastifyInstance, source: MonitorSource, options: MonitorRouteOptions = {}): MonitorStreams {
  const maxStreams = options.maxStreams ?? DEFAULT_MAX_MONITOR_STREAMS;
  const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
  const streams = new Set<MonitorStream>();
  // Slots are taken before the first tick is read, so concurrent requests cannot exceed the bound.
  let reserved = 0;

  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    for (const stream of streams) stream.end();
    done();
  });

  app.get(
    '/v1/monitor',
    {
      schema: {
        summary: 'Live monitoring stream (Server-Sent Events)',
        description: STREAM_DESCRIPTION,
        tags: ['network'],
        querystring: MonitorQuerySchema,
        response: {
          // Described, not serialized: the body is a stream of events (see the description).
          200: { description: 'The event stream', content: { 'text/event-stream': { schema: { type: 'string', description: 'SSE events network, membership, node (see the operation)' } } } },
          400: { ...ErrorSchema, description: 'Bad request (interval out of range, unknown parameter)' },
          500: { ...ErrorSchema, description: 'Internal error' },
          503: { ...ErrorSchema, description: `The node cannot answer yet, or ${maxStreams} monitor streams are already open` },
        },
      },
    },
    async (request: FastifyRequest, reply) => {
      // fastify answers HEAD with the GET handler and drains a stream body forever: no stream here.
      if (request.method === 'HEAD') return reply.code(200).type('text/event-stream; charset=utf-8').header('cache-control', 'no-cache, no-transform').send();
      if (reserved >= maxStreams) {
        return sendError(reply, 503, errorBody('UNAVAILABLE', `too many monitor streams open (${maxStreams}); close one or try again later`));
      }
      reserved++;
      let stream: MonitorStream | undefined;
      try {
        const { interval = MONITOR_INTERVAL.defaultMs } = request.query as { interval?: number };
        const first = await readTick(source);
        // A stream started after preClose ended the others would hold the server's close forever;
        // and a keep-alive connection would hold it until its idle timeout.
        if (closing) {
          reply.header('connection', 'close');
          return sendError(reply, 503, errorBody('UNAVAILABLE', 'the node is shutting down'));
        }
        stream = new MonitorStream(
          () => readTick(source),
          // The server's logger is pino (server.ts), so its request loggers are pino children.
          (err) => toErrorResponse(err, request, request.log as unknown as Logger).body,
          interval,
          keepAliveMs,
          () => {
            streams.delete(stream!);
            reserved--;
            request.log.debug({ url: clip(request.url, 200), open: streams.size }, 'monitor stream closed');
          },
        );
        streams.add(stream);
        // The response lasts as long as the client wants it: the server's idle-socket timeout
        // (connectionTimeout) must not cut it between ticks longer than that timeout.
        request.raw.socket.setTimeout(0);
        stream.start(first);
        request.log.debug({ url: clip(request.url, 200), open: streams.size }, 'monitor stream opened');
        return reply
          .code(200)
          .type('text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache, no-transform')
          .header('connection', 'close')
          .header('x-accel-buffering', 'no')
          .send(stream.body);
      } finally {
        // No stream was opened (refused, or the first tick failed): give the slot back.
        if (stream === undefined) reserved--;
      }
    },
  );

  registerReadOnly(app, MONITOR_ROUTES);

  return {
    get open() {
      return streams.size;
    },
  };
}
