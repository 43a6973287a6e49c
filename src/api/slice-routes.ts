/**
 * The slice routes of the user API. Reads are open like the rest of the API; every change is a
 * request signed by a user (src/auth/fastify-auth.ts: 401 if unsigned or badly signed, 403 if the
 * node's policy refuses the user), and only a slice's owner may change it (403).
 *
 *   GET    /v1/slices                  slices coordinated by this node
 *   GET    /v1/slices/:name            one of them, with its members
 *   POST   /v1/slices                  create: { sliceId, spec, grant } (the CLI builds it)
 *   POST   /v1/slices/:name/grow       { nodes }
 *   POST   /v1/slices/:name/shrink     { nodes } or { members: [nodeId…] }
 *   DELETE /v1/slices/:name
 *   GET    /v1/membership              the slice this node is in, if any
 *
 * A create or grow that cannot find enough nodes answers 409 with what it found.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AllocationError, SliceNotFoundError } from '../slices/owner.js';
import { ErrorSchema } from './schemas.js';
import { type SliceApi, SliceRequestError } from '../slices/slice-api.js';

export const SLICE_ROUTES = ['/v1/slices', '/v1/slices/:name', '/v1/slices/:name/grow', '/v1/slices/:name/shrink', '/v1/membership'] as const;

/** The API's error shape, with what an allocation found when it answers 409. */
const error = (description: string) => ({
  ...ErrorSchema,
  description,
  properties: {
    error: {
      ...ErrorSchema.properties.error,
      properties: { ...ErrorSchema.properties.error.properties, found: { type: 'integer' }, wanted: { type: 'integer' }, matched: { type: 'integer' } },
    },
  },
});

const member = {
  type: 'object',
  required: ['nodeId', 'host', 'port'],
  properties: {
    nodeId: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'integer' },
    since: { type: 'number' },
    predecessor: { type: ['string', 'null'], description: 'Ring predecessor in the slice (as the member last reported it)' },
    successor: { type: ['string', 'null'], description: 'Ring successor in the slice (as the member last reported it)' },
    cores: { type: ['integer', 'null'], description: "Cores the slice may use on this member (its slices.maxShare), as its offer said; null if not told" },
    memoryBytes: { type: ['number', 'null'], description: 'Memory the slice may use on this member, bytes; null if not told' },
  },
  additionalProperties: false,
};
const ringSchema = {
  type: 'object',
  required: ['predecessor', 'successor'],
  properties: { predecessor: { type: ['string', 'null'] }, successor: { type: ['string', 'null'] } },
  additionalProperties: false,
};

const slice = {
  type: 'object',
  required: ['name', 'sliceId', 'ownerUser', 'ownerNode', 'spec', 'size', 'target', 'createdAt', 'members'],
  properties: {
    name: { type: 'string' },
    sliceId: { type: 'string' },
    ownerUser: { type: 'string', description: 'User id of the owner' },
    ownerNode: { type: 'string', description: 'Node id of the coordinating node' },
    spec: {
      type: 'object',
      required: ['text', 'where', 'rank', 'keepSize', 'nodes', 'fraction'],
      properties: {
        text: { type: 'string' },
        where: { type: 'string' },
        rank: { type: ['string', 'null'] },
        keepSize: { type: 'boolean' },
        nodes: { type: ['integer', 'null'] },
        fraction: { type: ['number', 'null'] },
      },
      additionalProperties: false,
    },
    size: { type: 'integer', description: 'Members now' },
    target: { type: 'integer', description: 'Members asked for (what --keep-size restores)' },
    createdAt: { type: 'number' },
    members: { type: 'array', items: member },
  },
  additionalProperties: false,
};

const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 63 } }, additionalProperties: false };
const errors = { 400: error('Bad request'), 401: error('Not signed, or badly signed'), 403: error('Denied'), 404: error('No such slice'), 409: error('Conflict: exists, or not enough nodes') };

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof SliceRequestError) {
    const code = { 400: 'BAD_REQUEST', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT' }[err.status];
    return reply.code(err.status).send({ error: { code, message: err.message } });
  }
  if (err instanceof SliceNotFoundError) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: err.message } });
  if (err instanceof AllocationError) {
    return reply.code(409).send({ error: { code: 'NOT_ENOUGH_NODES', message: err.message, found: err.found, wanted: err.wanted, matched: err.matched } });
  }
  throw err;
}

function userOf(request: { peercloudUser: { userId: string } | null }): string {
  if (request.peercloudUser === null) throw new Error('a mutating slice route ran without a verified user');
  return request.peercloudUser.userId;
}

export function registerSliceRoutes(app: FastifyInstance, slices: SliceApi): void {
  app.get('/v1/slices', { schema: { summary: 'Slices coordinated by this node', tags: ['slices'], response: { 200: { type: 'object', required: ['slices'], properties: { slices: { type: 'array', items: slice } }, additionalProperties: false } } } }, async () => ({
    slices: slices.list(),
  }));

  app.get<{ Params: { name: string } }>(
    '/v1/slices/:name',
    { schema: { summary: 'One slice and its members', tags: ['slices'], params: nameParams, response: { 200: slice, 404: errors[404] } } },
    async (request, reply) => {
      try {
        return slices.describe(request.params.name);
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.post<{ Body: { sliceId: string; spec: unknown; grant: never } }>(
    '/v1/slices',
    {
      config: { auth: { action: 'slice.create' } },
      schema: {
        summary: 'Create a slice (signed request)',
        description: 'Allocates the nodes and answers when they are confirmed; 409 with what was found when there are not enough.',
        tags: ['slices'],
        body: {
          type: 'object',
          required: ['sliceId', 'spec', 'grant'],
          properties: { sliceId: { type: 'string', pattern: '^[0-9a-f]{32}$' }, spec: { type: 'object' }, grant: { type: 'object' } },
          additionalProperties: false,
        },
        response: { 201: slice, ...errors },
      },
    },
    async (request, reply) => {
      try {
        const created = await slices.create(request.body, userOf(request));
        return reply.code(201).send(created);
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.post<{ Params: { name: string }; Body: { nodes: number } }>(
    '/v1/slices/:name/grow',
    {
      config: { auth: { action: 'slice.grow' } },
      schema: {
        summary: 'Add members (signed request)',
        tags: ['slices'],
        params: nameParams,
        body: { type: 'object', required: ['nodes'], properties: { nodes: { type: 'integer', minimum: 1, maximum: 100_000 } }, additionalProperties: false },
        response: { 200: { type: 'object', required: ['added', 'slice'], properties: { added: { type: 'integer' }, slice }, additionalProperties: false }, ...errors },
      },
    },
    async (request, reply) => {
      try {
        return await slices.grow(request.params.name, request.body.nodes, userOf(request));
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.post<{ Params: { name: string }; Body: { nodes?: number; members?: string[] } }>(
    '/v1/slices/:name/shrink',
    {
      config: { auth: { action: 'slice.shrink' } },
      schema: {
        summary: 'Remove members, by count or by node id (signed request)',
        tags: ['slices'],
        params: nameParams,
        body: {
          type: 'object',
          properties: { nodes: { type: 'integer', minimum: 1, maximum: 100_000 }, members: { type: 'array', minItems: 1, maxItems: 2000, items: { type: 'string', pattern: '^pc[a-z2-7]{32}$' } } },
          additionalProperties: false,
        },
        response: { 200: { type: 'object', required: ['removed', 'slice'], properties: { removed: { type: 'array', items: { type: 'string' } }, slice }, additionalProperties: false }, ...errors },
      },
    },
    async (request, reply) => {
      const { nodes, members } = request.body;
      if ((nodes === undefined) === (members === undefined)) return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: 'give either nodes (a count) or members (node ids)' } });
      try {
        return await slices.shrink(request.params.name, members ?? nodes!, userOf(request));
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/v1/slices/:name',
    {
      config: { auth: { action: 'slice.delete' } },
      schema: {
        summary: 'Delete a slice (signed request)',
        tags: ['slices'],
        params: nameParams,
        response: { 200: { type: 'object', required: ['name', 'released'], properties: { name: { type: 'string' }, released: { type: 'integer' } }, additionalProperties: false }, ...errors },
      },
    },
    async (request, reply) => {
      try {
        return await slices.delete(request.params.name, userOf(request));
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.get(
    '/v1/membership',
    {
      schema: {
        summary: 'The slice this node is a member of',
        tags: ['slices'],
        response: {
          200: {
            type: 'object',
            required: ['state', 'slice', 'leaseUntil', 'members', 'ring'],
            properties: {
              state: { type: 'string', enum: ['free', 'reserved', 'member'] },
              slice: {
                type: ['object', 'null'],
                required: ['name', 'sliceId', 'ownerNode', 'ownerUser'],
                properties: { name: { type: 'string' }, sliceId: { type: 'string' }, ownerNode: { type: 'string' }, ownerUser: { type: 'string' } },
                additionalProperties: false,
              },
              leaseUntil: { type: ['number', 'null'] },
              members: { type: 'array', items: member },
              ring: ringSchema,
            },
            additionalProperties: false,
          },
        },
      },
    },
    async () => slices.membership(),
  );
}
