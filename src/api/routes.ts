/**
 * The routes of the user API. Each route's schema is its contract: fastify validates the request
 * against it, serializes the response with it, and the OpenAPI document is generated from it.
 */
import type { FastifyInstance } from 'fastify';
import { clip, errorBody, sendError } from './errors.js';
import type { ApiMetrics } from './metrics.js';
import { ErrorSchema, HealthSchema, NetworkSchema, NodeInfoSchema, PeerParamsSchema, PeerSchema, PeersQuerySchema, PeersSchema, TransportStatsSchema, type Health } from './schemas.js';
import type { NodeStatusSource } from './source.js';

/** Every documented route: the 405 handler and the tests use this list. */
export const API_ROUTES = ['/health', '/health/live', '/health/ready', '/v1/node', '/v1/peers', '/v1/peers/:id', '/v1/network', '/v1/transport', '/metrics', '/openapi.json'] as const;

const errors = {
  400: { ...ErrorSchema, description: 'Bad request (invalid parameter)' },
  500: { ...ErrorSchema, description: 'Internal error' },
  503: { ...ErrorSchema, description: 'The node cannot answer yet' },
};

async function healthOf(source: NodeStatusSource): Promise<Health> {
  const checks = [...(await source.health())];
  const ready = checks.every((c) => c.ok);
  return { status: ready ? 'ok' : 'unready', live: true, ready, checks };
}

export function registerRoutes(app: FastifyInstance, source: NodeStatusSource, metrics: ApiMetrics, openapi: () => unknown): void {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness and readiness',
        description: 'Always answers while the daemon runs (live); 200 when every readiness check passes, 503 otherwise, with the checks in both cases.',
        tags: ['health'],
        response: { 200: { ...HealthSchema, description: 'Alive and ready' }, 503: { ...HealthSchema, description: 'Alive but not ready' }, 500: errors[500] },
      },
    },
    async (_request, reply) => {
      const health = await healthOf(source);
      return reply.code(health.ready ? 200 : 503).send(health);
    },
  );

  app.get(
    '/health/live',
    {
      schema: {
        summary: 'Liveness only',
        description: 'Answers 200 whenever the daemon can serve HTTP; for process supervisors.',
        tags: ['health'],
        response: { 200: { type: 'object', required: ['live'], properties: { live: { type: 'boolean', const: true } }, additionalProperties: false, description: 'Alive' } },
      },
    },
    async () => ({ live: true as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        summary: 'Readiness only',
        description: '200 when every readiness check passes, 503 otherwise.',
        tags: ['health'],
        response: { 200: { ...HealthSchema, description: 'Ready' }, 503: { ...HealthSchema, description: 'Not ready' }, 500: errors[500] },
      },
    },
    async (_request, reply) => {
      const health = await healthOf(source);
      return reply.code(health.ready ? 200 : 503).send(health);
    },
  );

  app.get(
    '/v1/node',
    {
      schema: {
        summary: 'This node',
        description: 'Node id, name, addresses, version, uptime, attributes and labels.',
        tags: ['node'],
        response: { 200: { ...NodeInfoSchema, description: 'This node' }, 500: errors[500], 503: errors[503] },
      },
    },
    async () => source.nodeInfo(),
  );

  app.get(
    '/v1/peers',
    {
      schema: {
        summary: 'The peer sampling view',
        description: 'The peers this node currently knows through peer sampling, with the age of each entry in cycles.',
        tags: ['peers'],
        querystring: PeersQuerySchema,
        response: { 200: { ...PeersSchema, description: 'The view' }, 400: errors[400], 500: errors[500], 503: errors[503] },
      },
    },
    async (request) => {
      const view = await source.peers();
      const { limit } = request.query as { limit?: number };
      return limit === undefined ? view : { ...view, peers: view.peers.slice(0, limit) };
    },
  );

  app.get(
    '/v1/peers/:id',
    {
      schema: {
        summary: 'One peer of the view',
        tags: ['peers'],
        params: PeerParamsSchema,
        response: { 200: { ...PeerSchema, description: 'The peer' }, 400: errors[400], 404: { ...ErrorSchema, description: 'Not in the view' }, 500: errors[500], 503: errors[503] },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const peer = (await source.peers()).peers.find((p) => p.id === id);
      if (!peer) return sendError(reply, 404, errorBody('NOT_FOUND', `node ${id} is not in this node's view`));
      return peer;
    },
  );

  app.get(
    '/v1/transport',
    {
      schema: {
        summary: 'Transport counters',
        description:
          "The node-to-node transport's connections, frames, bytes and requests since the daemon started: what /metrics exports, as JSON, for clients that do not want the Prometheus exporter loaded (it costs a daemon ~2 MiB once loaded).",
        tags: ['node'],
        response: { 200: { ...TransportStatsSchema, description: 'The counters' }, 500: errors[500], 503: errors[503] },
      },
    },
    async (_request, reply) => {
      const stats = await source.transportStats();
      if (stats === null) return sendError(reply, 503, errorBody('UNAVAILABLE', 'the transport is not running'));
      return stats;
    },
  );

  app.get(
    '/v1/network',
    {
      schema: {
        summary: 'Network aggregates',
        description:
          'Estimates computed by gossip aggregation over the whole network: size, free cores, memory and disk (average and total), average load, slices, and the epoch they come from. Null until the first epoch completes.',
        tags: ['network'],
        response: { 200: { ...NetworkSchema, description: 'The aggregates' }, 500: errors[500], 503: errors[503] },
      },
    },
    async () => source.network(),
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        description: 'Network aggregates, view, node attributes, transport counters and process metrics in the Prometheus text format.',
        tags: ['metrics'],
        produces: ['text/plain'],
        response: { 200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (_request, reply) => {
      const { text, contentType } = await metrics.render();
      return reply.type(contentType).send(text);
    },
  );

  app.get(
    '/openapi.json',
    {
      schema: {
        summary: 'This OpenAPI document',
        description: 'OpenAPI 3.1, generated from the route schemas.',
        tags: ['meta'],
        response: { 200: { type: 'object', properties: {}, additionalProperties: true, description: 'The OpenAPI document' } },
      },
    },
    async () => openapi(),
  );

  registerReadOnly(app, API_ROUTES);
}

/** Known read-only paths with a method they do not serve: 405 with Allow, not 404 (hidden from the document). */
export function registerReadOnly(app: FastifyInstance, urls: readonly string[]): void {
  for (const url of urls) {
    app.route({
      method: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url,
      schema: { hide: true },
      // Changes nothing: the signed-request check (when slices are on) must not demand a signature.
      config: { auth: 'public' },
      handler: async (request, reply) => {
        reply.header('allow', 'GET, HEAD');
        return sendError(reply, 405, errorBody('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${clip(url)}; use GET`));
      },
    });
  }
}
