/**
 * The user API server: fastify v5 with JSON-schema validation (Ajv) and serialization, an OpenAPI
 * 3.1 document generated from the route schemas by @fastify/swagger on first request (GET /openapi.json), and
 * Prometheus metrics (GET /metrics).
 *
 * It binds to 127.0.0.1 by default: the API has no authentication, so exposing it is a deliberate
 * choice made in the configuration. Protections that hold whatever the address: a body limit, a
 * request timeout and a header timeout (slow clients), strict query validation (unknown parameters
 * are errors), JSON errors for everything including unparsable HTTP, and no error, thrown or
 * rejected, escaping a request.
 */
import { packageVersion } from '../core/package-files.js';
import type { AddressInfo } from 'node:net';
import type { SwaggerOptions } from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController, type RouteOptions } from 'fastify';
import type { HostPort } from '../node/config-values.js';
import { type Logger, componentLogger, silentLogger } from '../node/logger.js';
import { clip, errorBody, handleClientError, sendError, toErrorResponse } from './errors.js';
import { createApiMetrics } from './metrics.js';
import { lazySchemaCompilers } from './lazy-schema-compilers.js';
import { registerRoutes } from './routes.js';
import { registerSliceRoutes } from './slice-routes.js';
import { registerMonitorRoutes } from './monitor-routes.js';
import type { SliceApi } from '../slices/slice-api.js';
import type { AuthPolicy } from '../auth/policy.js';
import { registerSignedRequestAuth } from '../auth/fastify-auth.js';
import type { NodeStatusSource } from './source.js';
import { type DashboardSource, registerDashboardRoutes } from './dashboard-routes.js';

export interface ApiServerOptions {
  /** Address to listen on (default 127.0.0.1); port 0 (the default) picks a free port. */
  readonly host?: string;
  readonly port?: number;
  /** Request and error logs go to a child logger with component "api" (default: none). */
  readonly logger?: Logger;
  /** Largest request body (default 64 KiB). The API takes no bodies today; this bounds what it reads. */
  readonly bodyLimit?: number;
  /** A request must complete within this time (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Include process metrics (CPU, memory, event loop, GC) in /metrics (default true). */
  readonly processMetrics?: boolean;
  /**
   * The slice operations (src/api/slice-routes.ts) and who may use them: with these the API takes
   * signed requests that change slices; without them it only reads.
   */
  readonly slices?: { readonly api: SliceApi; readonly policy: AuthPolicy | (() => AuthPolicy) };
  /** The web dashboard at / and the routes it reads (src/api/dashboard-routes.ts). */
  readonly dashboard?: { readonly source: DashboardSource; readonly webRoot?: string };
}

export interface ApiServer {
  /** Starts listening; resolves to the bound address (the real port when port 0 was asked). */
  listen(): Promise<HostPort>;
  /** Stops accepting, ends idle keep-alive connections, waits for requests in flight. Idempotent. */
  close(): Promise<void>;
  /** The bound address, once listening. */
  readonly address: HostPort | undefined;
  /** http://host:port, once listening. */
  readonly url: string | undefined;
}


/** What `cluster status`, the dashboard's crawl of its own node and the benchmarks poll. */
const POLLED_ROUTES: ReadonlySet<string> = new Set(['/health/live', '/health/ready', '/v1/node', '/v1/peers', '/v1/network']);

export async function createApiServer(source: NodeStatusSource, options: ApiServerOptions = {}): Promise<ApiServer> {
  const log = options.logger ? componentLogger(options.logger, 'api') : silentLogger();
  const app: FastifyInstance = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast only drops pino's own generic parameters.
    loggerInstance: log as FastifyBaseLogger,
    // One debug line per request (below) instead of fastify's two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    connectionTimeout: options.requestTimeoutMs ?? 10_000,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 100 },
    // Unknown query parameters are errors (a typo should not be silently ignored), and query
    // strings are coerced to the declared types ("?limit=5").
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    // The same compilers, run on a route's first request rather than at start-up (memory), but
    // for the routes monitors poll.
    schemaController: { compilersFactory: lazySchemaCompilers((url) => POLLED_ROUTES.has(url)) },
    clientErrorHandler: handleClientError,
    frameworkErrors: (err, request, reply) => {
      const { status, body } = toErrorResponse(err, request, log);
      void sendError(reply, status, body);
    },
  });

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toErrorResponse(err, request, log);
    return sendError(reply, status, body);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, errorBody('NOT_FOUND', `no route ${request.method} ${clip(request.url.split('?')[0])}; see /openapi.json`)),
  );
  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug({ method: request.method, url: clip(request.url, 200), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });

  const openapi = lazyOpenApiDocument(app);
  const metrics = createApiMetrics(source, { processMetrics: options.processMetrics });
  // Signed-request checks come first: they apply to every mutating route registered after them.
  if (options.slices) registerSignedRequestAuth(app, { policy: options.slices.policy });
  registerRoutes(app, source, metrics, openapi);
  if (options.slices) registerSliceRoutes(app, options.slices.api);
  const sliceApi = options.slices?.api;
  registerMonitorRoutes(app, { status: source, membership: sliceApi && (() => sliceApi.membership()) });
  if (options.dashboard) await registerDashboardRoutes(app, options.dashboard.source, { webRoot: options.dashboard.webRoot });
  // A request still running when close() starts would otherwise keep its keep-alive connection
  // open until the keep-alive timeout (72 s): tell every response sent while closing to close.
  app.addHook('onSend', async (_request, reply) => {
    if (closing !== undefined) reply.header('connection', 'close');
  });
  await app.ready();

  let address: HostPort | undefined;
  let closing: Promise<void> | undefined;
  return {
    async listen() {
      await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
      const bound = app.server.address() as AddressInfo;
      address = { host: bound.address, port: bound.port };
      return address;
    },
    close() {
      closing ??= app.close();
      return closing;
    },
    get address() {
      return address;
    },
    get url() {
      if (!address) return undefined;
      return address.host.includes(':') ? `http://[${address.host}]:${address.port}` : `http://${address.host}:${address.port}`;
    },
  };
}

/** A fresh object each time: swagger keeps (and may change) what it is given. */
const openApiOptions = (): SwaggerOptions => ({
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'peercloud node API',
      version: packageVersion(),
      description: 'The user API of one peercloud daemon: the node, its view of the overlay, network-wide aggregates, health and metrics. Errors are JSON: {"error": {"code", "message"}}.',
    },
    tags: [
      { name: 'health', description: 'Liveness and readiness' },
      { name: 'node', description: 'This node' },
      { name: 'peers', description: 'The peer sampling view' },
      { name: 'network', description: 'Network-wide aggregates' },
      { name: 'metrics', description: 'Prometheus' },
      { name: 'slices', description: 'Slices: sub-clouds of nodes (changes are requests signed by a user)' },
      { name: 'monitor', description: 'Monitoring: live streams, the crawled overlay, aggregate history' },
      { name: 'meta', description: 'About the API itself' },
    ],
  },
});

/**
 * The OpenAPI document of `app`, built by @fastify/swagger on the first GET /openapi.json instead
 * of at start: registered in the daemon's app, swagger and the yaml library it loads cost ~3 MiB of
 * resident memory (issue 3 budgets 60 MiB per daemon) for a document few daemons are ever asked for.
 *
 * The routes are recorded as they are registered (an onRoute hook, as swagger's own is: call this
 * before any route), then replayed, schemas only, into a throwaway Fastify instance that has swagger
 * registered and validates nothing. HEAD routes are left out, as swagger leaves them out by default.
 */
function lazyOpenApiDocument(app: FastifyInstance): () => Promise<unknown> {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    if (route.method !== 'HEAD') routes.push(route);
  });
  let document: Promise<unknown> | undefined;
  return () => {
    document ??= buildOpenApiDocument(routes).catch((err: unknown) => {
      document = undefined; // let the next request try again
      throw err;
    });
    return document;
  };
}

async function buildOpenApiDocument(routes: readonly RouteOptions[]): Promise<unknown> {
  const { default: fastifySwagger } = await import('@fastify/swagger');
  const doc = Fastify({ exposeHeadRoutes: false });
  // Only the schemas matter here: skip compiling validators and serializers for them.
  doc.setValidatorCompiler(() => () => true);
  doc.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await doc.register(fastifySwagger, openApiOptions());
  const handler = async () => undefined;
  for (const r of routes) {
    doc.route({ method: r.method, url: r.url, schema: r.schema && structuredClone(r.schema), config: r.config, handler });
  }
  await doc.ready();
  try {
    return doc.swagger();
  } finally {
    await doc.close();
  }
}
