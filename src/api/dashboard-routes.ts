/**
 * What the web dashboard (src/web) needs from the daemon that serves it:
 *
 *   GET /                      the dashboard itself (the files built into dist/web)
 *   GET /v1/overlay            the overlay as crawled from this node (src/monitoring/overlay-crawler.ts)
 *   GET /v1/history?since=T    this node's recent network aggregates (src/monitoring/aggregate-history.ts)
 *   GET /v1/slice-draft?…      a slice request checked and turned into its wire form, for the browser
 *                              to sign (the key never leaves the browser; see docs/DASHBOARD.md)
 *
 * The dashboard files are served only if they were built (`npm run build` bundles them); a daemon
 * built without them answers GET / with a JSON 404 that says how to build them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageFile } from '../core/package-files.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HistoryReport } from '../monitoring/aggregate-history.js';
import type { OverlayReport } from '../monitoring/overlay-crawler.js';
import { QueryError } from '../slices/query-errors.js';
import { describeSpec } from '../slices/owner.js';
import { parseSliceSpec } from '../slices/spec.js';
import { specToWire } from '../slices/spec-wire.js';
import { errorBody, sendError } from './errors.js';
import { ErrorSchema } from './schemas.js';
import { registerReadOnly } from './routes.js';

export const DASHBOARD_ROUTES = ['/v1/overlay', '/v1/history', '/v1/slice-draft'] as const;

/** Where `npm run build` puts the bundled dashboard. */
export const DEFAULT_WEB_ROOT = packageFile('dist', 'web');

export interface DashboardSource {
  overlay(): OverlayReport;
  history(since?: number): HistoryReport;
  /** This node's id: a slice created through it is coordinated by it. */
  nodeId(): string;
}

export interface DashboardRouteOptions {
  /** Directory with index.html and the bundle (default dist/web). */
  readonly webRoot?: string;
}

const draftQuery = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', maxLength: 100 },
    nodes: { type: 'string', maxLength: 20 },
    fraction: { type: 'string', maxLength: 20 },
    where: { type: 'string', maxLength: 2000 },
    rank: { type: 'string', maxLength: 200 },
    keepSize: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

interface DraftQuery {
  name: string;
  nodes?: string;
  fraction?: string;
  where?: string;
  rank?: string;
  keepSize?: boolean;
}

export async function registerDashboardRoutes(app: FastifyInstance, source: DashboardSource, options: DashboardRouteOptions = {}): Promise<void> {
  app.get(
    '/v1/overlay',
    { schema: { summary: 'The overlay as crawled from this node (for the dashboard)', description: 'Every node reachable from this one with its snapshot: view, slice, ring neighbours, attributes and estimates. Crawling starts with the first request and stops a minute after the last one; the first answer may hold only this node.', tags: ['monitor'] } },
    async () => source.overlay(),
  );
  app.get<{ Querystring: { since?: number } }>(
    '/v1/history',
    {
      schema: {
        summary: "This node's recent network aggregates (for charts)",
        tags: ['monitor'],
        querystring: { type: 'object', properties: { since: { type: 'number', minimum: 0, description: 'Only samples after this time (Unix ms)' } }, additionalProperties: false },
      },
    },
    async (request) => source.history(request.query.since),
  );
  app.get<{ Querystring: DraftQuery }>(
    '/v1/slice-draft',
    {
      schema: {
        summary: 'Check a slice request and give its wire form, to be signed by the user',
        description: 'Parses name, nodes or fraction, where and rank exactly as `peercloud slice create` does; answers a fresh slice id, the wire spec and this node id, from which the client builds the grant (src/slices/grant.ts), signs it and POSTs /v1/slices. Changes nothing.',
        tags: ['slices'],
        querystring: draftQuery,
        response: { 400: ErrorSchema },
      },
    },
    async (request, reply) => {
      const q = request.query;
      if ((q.nodes === undefined) === (q.fraction === undefined)) return sendError(reply, 400, errorBody('BAD_REQUEST', 'give either nodes or fraction (e.g. 5%)'));
      try {
        const spec = parseSliceSpec({ name: q.name, nodes: q.nodes, fraction: q.fraction, where: q.where || undefined, rank: q.rank || undefined, keepSize: q.keepSize === true });
        return { sliceId: randomBytes(16).toString('hex'), ownerNode: source.nodeId(), spec: specToWire(spec), description: describeSpec(spec) };
      } catch (err) {
        if (err instanceof QueryError) return sendError(reply, 400, errorBody('BAD_REQUEST', `${err.field}: ${err.message}`));
        throw err;
      }
    },
  );
  registerReadOnly(app, DASHBOARD_ROUTES);

  const root = options.webRoot ?? DEFAULT_WEB_ROOT;
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      sendError(reply, 404, errorBody('NOT_FOUND', `the dashboard is not built (no ${join(root, 'index.html')}): run \`npm run build\`; the API is under /v1 (see /openapi.json)`)),
    );
    return;
  }
  // One route per file present now, so every other path stays the API's JSON 404 and nothing
  // outside the directory can be asked for. The file server (@fastify/send: types, ETags,
  // conditional and range requests) is imported on the first request: a daemon nobody looks at
  // does not carry it (memory is counted per daemon, see the cluster benchmark).
  const files = listFiles(root);
  const serve = (file: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const { default: send } = await import('@fastify/send');
    const { statusCode, headers, stream } = await send(request.raw, `/${file}`, { root, dotfiles: 'deny', index: false, maxAge: 0 });
    return reply.code(statusCode).headers(headers).send(stream);
  };
  app.get('/', { schema: { hide: true } }, serve('index.html'));
  for (const file of files) app.get(`/${file}`, { schema: { hide: true } }, serve(file));
}

/** Relative paths of the files under `root` (the bundle is small and flat: a few files). */
function listFiles(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(root, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}
