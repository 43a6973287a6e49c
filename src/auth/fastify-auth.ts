/**
 * Signed-request authentication for the fastify API.
 *
 * `registerSignedRequestAuth(app, options)` adds an onRoute hook, so it must be called before the
 * routes it guards are added (in the same fastify scope or a parent). Every route then declares
 * its access in its config:
 *
 *     app.post('/v1/slices', { config: { auth: { action: 'slice.create' } }, schema, handler })
 *     app.get('/v1/slices', { config: { auth: 'public' }, ... })       // or just no auth on a GET
 *
 * Routes whose method changes state (POST, PUT, PATCH, DELETE) must say one or the other: a
 * mutating route without `config.auth` is refused when it is registered, so forgetting to guard a
 * route fails at start-up instead of leaving it open.
 *
 * A guarded request is checked in three steps of fastify's lifecycle:
 *  - onRequest: headers and clock (MISSING, MALFORMED, EXPIRED), before the body is read;
 *  - preParsing: the body stream is hashed on its way to the JSON parser (the signature covers
 *    the bytes as sent, which the parsed body no longer has);
 *  - preValidation: the signature, the node's policy for the route's action, the replay cache.
 * Failures answer in the API's error shape, `{"error": {"code", "message"}}`, with 401 (and a
 * WWW-Authenticate challenge) or 403 for DENIED; the handler never runs, so nothing changes.
 * The handler finds the verified user in `request.peercloudUser`.
 */
import { createHash } from 'node:crypto';
import { Transform, pipeline } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { sendError } from '../api/errors.js';
import { type ErrorBody, ErrorSchema } from '../api/schemas.js';
import { AuthError } from './auth-error.js';
import type { AuthAction, AuthPolicy } from './policy.js';
import { ReplayCache } from './replay-cache.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS, REQUEST_SIGNATURE_VERSION, type VerifiedRequest, precheckRequest, sha256, verifyRequest } from './signed-request.js';

/** A route's access rule: signed by a user allowed `action`, or open to anyone. */
export type RouteAuth = { readonly action: AuthAction } | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** See src/auth/fastify-auth.ts. Required on POST, PUT, PATCH and DELETE routes. */
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** The user who signed this request, on routes with `config.auth = { action }`; else null. */
    peercloudUser: VerifiedRequest | null;
  }
}

export const MUTATING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The challenge sent with every 401 (RFC 9110 requires one). */
export const AUTH_CHALLENGE = `Peercloud-Signature version="${REQUEST_SIGNATURE_VERSION}"`;

export interface SignedRequestAuthOptions {
  /** The node owner's policy; a function is asked on every request, so a reloaded config applies at once. */
  readonly policy: AuthPolicy | (() => AuthPolicy);
  /** Default: a new cache with default bounds. Share one per node. */
  readonly replayCache?: ReplayCache;
  readonly maxClockSkewMs?: number;
  /** Clock (default Date.now). */
  readonly now?: () => number;
}

/** The body digest of each guarded request, set when its body stream ends. */
const bodyDigests = new WeakMap<FastifyRequest, Uint8Array>();

export function registerSignedRequestAuth(app: FastifyInstance, options: SignedRequestAuthOptions): void {
  if (app.hasRequestDecorator('peercloudUser')) throw new Error('signed-request auth is already registered on this fastify instance or a parent');
  app.decorateRequest('peercloudUser', null);
  const replayCache = options.replayCache ?? new ReplayCache();
  const maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  const now = options.now ?? Date.now;
  const currentPolicy = typeof options.policy === 'function' ? options.policy : () => options.policy as AuthPolicy;

  app.addHook('onRoute', (route: RouteOptions) => {
    const auth = route.config?.auth;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (auth === undefined) {
      const mutating = methods.filter((m) => MUTATING_METHODS.has(m));
      if (mutating.length > 0) {
        throw new Error(`route ${mutating.join(',')} ${route.url} changes state but declares no config.auth; give it { action: 'resource.verb' } or 'public'`);
      }
      return;
    }
    if (auth === 'public') return;
    const action = auth.action;

    const onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        precheckRequest(request.headers, now(), maxClockSkewMs);
      } catch (err) {
        return refuse(request, reply, err);
      }
    };
    const preParsing = async (request: FastifyRequest, _reply: FastifyReply, payload: NodeJS.ReadableStream) => {
      const hash = createHash('sha256');
      const tee = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
        flush(callback) {
          bodyDigests.set(request, new Uint8Array(hash.digest()));
          callback();
        },
      });
      // pipeline, not pipe: an aborted upload must reach the parser as an error on `tee`.
      pipeline(payload, tee, () => {});
      return tee;
    };
    const preValidation = async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        request.peercloudUser = verifyRequest(
          {
            method: request.method,
            host: request.host,
            path: request.url,
            headers: request.headers,
            // No digest: fastify read no body (bodiless method, or an empty body).
            bodySha256: bodyDigests.get(request) ?? sha256(undefined),
          },
          now(),
          { replayCache, maxClockSkewMs, authorization: { policy: currentPolicy(), action } },
        );
      } catch (err) {
        return refuse(request, reply, err);
      }
    };
    // Ours first, so the route's own hooks only ever see authenticated requests.
    route.onRequest = [onRequest, ...asArray(route.onRequest)];
    route.preParsing = [preParsing, ...asArray(route.preParsing)];
    route.preValidation = [preValidation, ...asArray(route.preValidation)];
    documentAuthResponses(route);
  });
}

function refuse(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  if (!(err instanceof AuthError)) throw err;
  request.log.info({ reqId: request.id, code: err.code, url: request.url }, 'request refused by signed-request auth');
  if (err.status === 401) reply.header('www-authenticate', AUTH_CHALLENGE);
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  return sendError(reply, err.status, body);
}

function asArray<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
}

/** Adds 401 and 403 to a route's documented responses (OpenAPI), when it documents responses. */
function documentAuthResponses(route: RouteOptions): void {
  const schema = route.schema as { response?: Record<string, unknown> } | undefined;
  if (!schema?.response) return;
  route.schema = { ...schema, response: { 401: ErrorSchema, 403: ErrorSchema, ...schema.response } };
}
