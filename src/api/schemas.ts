/**
 * The user API's JSON shapes, as JSON Schema literals: one definition gives fastify its request
 * validation and fast response serialization, @fastify/swagger the OpenAPI document, and
 * TypeScript the types of `NodeStatusSource` (through json-schema-to-ts's `FromSchema`, a
 * compile-time-only import), so the three cannot drift apart.
 *
 * Why not a schema builder such as TypeBox: the schemas are constants, and a builder library
 * stays loaded in the daemon for good — TypeBox's ~370 ES modules cost a running node ~4 MiB of
 * resident memory (measured) to produce these few objects once. Literals cost nothing at run time.
 * Every object lists its `required` properties explicitly (all but the optional ones) and closes
 * itself with `additionalProperties: false`.
 *
 * Conventions: times are Unix milliseconds (`...At`) or durations in ms (`...Ms`); byte counts
 * end in `Bytes`; an aggregate the node does not know yet (before its first aggregation epoch
 * completes) is null, never 0.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { NodeAttributes } from '../node/attributes.js';
import type { TransportStats } from '../network/transport.js';

const unixMs = <D extends string>(description: D) => ({ type: 'number', description: `${description} (Unix time, ms)` }) as const;
const nullable = <S extends JSONSchema>(schema: S) => ({ anyOf: [schema, { type: 'null' }] }) as const;

export const NodeIdSchema = {
  type: 'string',
  pattern: '^pc[a-z2-7]{32}$',
  description: 'Node id: "pc" + base32 of SHA-256 of the node\'s Ed25519 public key (first 20 bytes)',
} as const;

export const AddressSchema = {
  type: 'object',
  required: ['host', 'port'],
  properties: { host: { type: 'string', description: 'IP address or host name' }, port: { type: 'integer', minimum: 0, maximum: 65535 } },
  additionalProperties: false,
} as const;

export const LabelsSchema = {
  type: 'object',
  patternProperties: { '^.*$': { type: 'string' } },
  description: 'Owner labels, key=value (e.g. zone: lab2)',
} as const;

export const AvailabilitySchema = {
  type: 'object',
  required: ['day', 'week', 'trackedMs'],
  properties: {
    day: { type: 'number', minimum: 0, maximum: 1, description: 'Fraction of the last 24 h (or of the tracked time, if shorter) the node was up' },
    week: { type: 'number', minimum: 0, maximum: 1, description: 'Fraction of the last 7 days (or of the tracked time) the node was up' },
    trackedMs: { type: 'number', minimum: 0, description: 'How much of the last 7 days the history covers, ms' },
  },
  additionalProperties: false,
} as const;

export const AttributesSchema = {
  type: 'object',
  required: ['cores', 'cpuScore', 'memoryTotalBytes', 'memoryFreeBytes', 'diskTotalBytes', 'diskFreeBytes', 'loadAverage', 'freeCores', 'uptimeMs', 'availability', 'labels', 'measuredAt'],
  properties: {
    cores: { type: 'integer', minimum: 0, description: 'Logical CPUs available to the daemon' },
    cpuScore: { type: 'number', minimum: 0, description: 'Single-core speed score; ~1000 on the reference machine' },
    memoryTotalBytes: { type: 'number', minimum: 0 },
    memoryFreeBytes: { type: 'number', minimum: 0 },
    diskTotalBytes: { type: 'number', minimum: 0, description: 'File system holding the data directory' },
    diskFreeBytes: { type: 'number', minimum: 0 },
    loadAverage: { type: 'number', minimum: 0, description: '1-minute load average' },
    freeCores: { type: 'number', minimum: 0, description: 'max(0, cores - loadAverage)' },
    uptimeMs: { type: 'number', minimum: 0, description: 'Since the daemon started' },
    availability: AvailabilitySchema,
    labels: LabelsSchema,
    measuredAt: unixMs('When the values were read'),
  },
  additionalProperties: false,
} as const;

export const NodeInfoSchema = {
  type: 'object',
  required: ['id', 'name', 'version', 'startedAt', 'uptimeMs', 'addresses', 'attributes', 'labels'],
  properties: {
    id: NodeIdSchema,
    name: { type: 'string' },
    version: { type: 'string', description: 'peercloud version' },
    startedAt: unixMs('When the daemon started'),
    uptimeMs: { type: 'number', minimum: 0 },
    addresses: {
      type: 'object',
      required: ['listen', 'advertise', 'api'],
      properties: { listen: AddressSchema, advertise: nullable(AddressSchema), api: AddressSchema },
      additionalProperties: false,
      description: 'Node-to-node listen address, the address advertised to peers (null until known), the API address',
    },
    attributes: AttributesSchema,
    labels: LabelsSchema,
  },
  additionalProperties: false,
} as const;

export const PeerSchema = {
  type: 'object',
  required: ['id', 'address', 'age'],
  properties: {
    id: NodeIdSchema,
    address: AddressSchema,
    age: { type: 'integer', minimum: 0, description: 'Age of the view entry in gossip cycles' },
  },
  additionalProperties: false,
} as const;

export const PeersSchema = {
  type: 'object',
  required: ['protocol', 'viewSize', 'count', 'peers', 'computedAt'],
  properties: {
    protocol: { enum: ['newscast', 'cyclon'] },
    viewSize: { type: 'integer', minimum: 0, description: 'Capacity of the view (c)' },
    count: { type: 'integer', minimum: 0, description: 'Peers in the view (before any limit)' },
    peers: { type: 'array', items: PeerSchema },
    computedAt: unixMs('When the view was read'),
  },
  additionalProperties: false,
} as const;

const averageAndTotal = <U extends string>(unit: U) =>
  ({
    type: 'object',
    required: ['averageFree', 'totalFree'],
    properties: {
      averageFree: nullable({ type: 'number', description: `Average free ${unit} per node` } as const),
      totalFree: nullable({ type: 'number', description: `Total free ${unit} in the network` } as const),
    },
    additionalProperties: false,
  }) as const;

export const NetworkSchema = {
  type: 'object',
  required: ['computedAt', 'epoch', 'size', 'cores', 'memory', 'disk', 'load', 'slices'],
  properties: {
    computedAt: nullable(unixMs('When the last aggregation epoch completed')),
    epoch: {
      type: 'object',
      required: ['current', 'lengthCycles', 'cycle', 'startedAt'],
      properties: {
        current: nullable({ type: 'integer', minimum: 0, description: 'Number of the running aggregation epoch' } as const),
        lengthCycles: { type: 'integer', minimum: 1 },
        cycle: { type: 'integer', minimum: 0, description: 'Cycles elapsed in the running epoch' },
        startedAt: nullable(unixMs('When the running epoch started')),
      },
      additionalProperties: false,
    },
    size: {
      type: 'object',
      required: ['estimate'],
      properties: { estimate: nullable({ type: 'number', minimum: 0, description: 'Estimated number of nodes' } as const) },
      additionalProperties: false,
    },
    cores: averageAndTotal('cores'),
    memory: averageAndTotal('memory (bytes)'),
    disk: averageAndTotal('disk (bytes)'),
    load: {
      type: 'object',
      required: ['average'],
      properties: { average: nullable({ type: 'number', minimum: 0, description: 'Average 1-minute load' } as const) },
      additionalProperties: false,
    },
    slices: {
      type: 'object',
      required: ['count', 'mine'],
      properties: {
        count: { type: 'integer', minimum: 1, description: 'Number of slices' },
        mine: nullable({ type: 'integer', minimum: 0, description: 'Slice this node believes it is in (0 = lowest)' } as const),
      },
      additionalProperties: false,
    },
    // Optional only for daemons older than this aggregate; every daemon now sends it.
    userSlices: {
      type: 'object',
      required: ['total'],
      properties: {
        total: nullable({ type: 'number', minimum: 0, description: 'Estimated number of user slices (peercloud slice create) in the cloud: the sum over nodes of the slices each coordinates' } as const),
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

export const HealthCheckSchema = {
  type: 'object',
  required: ['name', 'ok'],
  properties: { name: { type: 'string' }, ok: { type: 'boolean' }, detail: { type: 'string' } },
  additionalProperties: false,
} as const;

export const HealthSchema = {
  type: 'object',
  required: ['status', 'live', 'ready', 'checks'],
  properties: {
    status: { enum: ['ok', 'unready'] },
    live: { type: 'boolean', description: 'Always true when the daemon answers' },
    ready: { type: 'boolean', description: 'Every check passes' },
    checks: { type: 'array', items: HealthCheckSchema },
  },
  additionalProperties: false,
} as const;

export const ErrorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable machine-readable code, e.g. NOT_FOUND, BAD_REQUEST' },
        message: { type: 'string', description: 'What went wrong, for humans' },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

const counter = (description: string) => ({ type: 'integer', minimum: 0, description }) as const;

export const TransportStatsSchema = {
  type: 'object',
  required: [
    'connectionsOpen', 'streamsOpen', 'connectionsAccepted', 'connectionsDialled', 'connectionsRejected', 'framesRejected',
    'framesIn', 'framesOut', 'bytesIn', 'bytesOut', 'requestsSent', 'requestsFailed', 'requestsHandled',
  ],
  properties: {
    connectionsOpen: counter('Node-to-node message connections open now (inbound and outbound)'),
    streamsOpen: counter('Bulk streams open now'),
    connectionsAccepted: counter('Inbound connections accepted since start'),
    connectionsDialled: counter('Outbound connections made since start'),
    connectionsRejected: counter('Connections closed at or before authentication (failed handshakes, wrong keys, limits)'),
    framesRejected: counter('Frames that made the node close a connection (oversized, malformed, truncated)'),
    framesIn: counter('Frames received'),
    framesOut: counter('Frames sent'),
    bytesIn: counter('Payload bytes received (frames and stream data, before decryption)'),
    bytesOut: counter('Payload bytes sent (frames and stream data, before encryption)'),
    requestsSent: counter('Requests sent to peers'),
    requestsFailed: counter('Requests sent that ended in an error of any kind'),
    requestsHandled: counter('Requests from peers handled'),
  },
  additionalProperties: false,
} as const;

export const PeersQuerySchema = {
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'Return at most this many peers' } },
  additionalProperties: false,
} as const;

export const PeerParamsSchema = { type: 'object', required: ['id'], properties: { id: NodeIdSchema }, additionalProperties: false } as const;

export type Address = FromSchema<typeof AddressSchema>;
export type NodeInfo = FromSchema<typeof NodeInfoSchema>;
export type PeerEntry = FromSchema<typeof PeerSchema>;
export type PeerView = FromSchema<typeof PeersSchema>;
export type NetworkAggregates = FromSchema<typeof NetworkSchema>;
export type HealthCheck = FromSchema<typeof HealthCheckSchema>;
export type Health = FromSchema<typeof HealthSchema>;
export type ErrorBody = FromSchema<typeof ErrorSchema>;

const transportStatsMatch: Mutual<FromSchema<typeof TransportStatsSchema>, TransportStats> = true;
void transportStatsMatch;

// Compile-time proof that the monitor's attributes are exactly what the API documents.
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const attributesMatch: Mutual<FromSchema<typeof AttributesSchema>, NodeAttributes> = true;
void attributesMatch;
