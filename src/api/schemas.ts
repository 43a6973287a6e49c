/**
 * The user API's JSON shapes, as TypeBox schemas: one definition gives fastify its request
 * validation and fast response serialization, @fastify/swagger the OpenAPI document, and
 * TypeScript the types of `NodeStatusSource`, so the three cannot drift apart.
 *
 * Conventions: times are Unix milliseconds (`...At`) or durations in ms (`...Ms`); byte counts
 * end in `Bytes`; an aggregate the node does not know yet (before its first aggregation epoch
 * completes) is null, never 0.
 */
import Type, { type Static, type TSchema } from 'typebox';
import type { NodeAttributes } from '../node/attributes.js';

const UnixMs = (description: string) => Type.Number({ description: `${description} (Unix time, ms)` });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const NodeIdSchema = Type.String({ pattern: '^pc[a-z2-7]{32}$', description: 'Node id: "pc" + base32 of SHA-256 of the node\'s Ed25519 public key (first 20 bytes)' });

export const AddressSchema = Type.Object(
  { host: Type.String({ description: 'IP address or host name' }), port: Type.Integer({ minimum: 0, maximum: 65535 }) },
  { additionalProperties: false },
);

export const LabelsSchema = Type.Record(Type.String(), Type.String(), { description: 'Owner labels, key=value (e.g. zone: lab2)' });

export const AvailabilitySchema = Type.Object(
  {
    day: Type.Number({ minimum: 0, maximum: 1, description: 'Fraction of the last 24 h (or of the tracked time, if shorter) the node was up' }),
    week: Type.Number({ minimum: 0, maximum: 1, description: 'Fraction of the last 7 days (or of the tracked time) the node was up' }),
    trackedMs: Type.Number({ minimum: 0, description: 'How much of the last 7 days the history covers, ms' }),
  },
  { additionalProperties: false },
);

export const AttributesSchema = Type.Object(
  {
    cores: Type.Integer({ minimum: 0, description: 'Logical CPUs available to the daemon' }),
    cpuScore: Type.Number({ minimum: 0, description: 'Single-core speed score; ~1000 on the reference machine' }),
    memoryTotalBytes: Type.Number({ minimum: 0 }),
    memoryFreeBytes: Type.Number({ minimum: 0 }),
    diskTotalBytes: Type.Number({ minimum: 0, description: 'File system holding the data directory' }),
    diskFreeBytes: Type.Number({ minimum: 0 }),
    loadAverage: Type.Number({ minimum: 0, description: '1-minute load average' }),
    freeCores: Type.Number({ minimum: 0, description: 'max(0, cores - loadAverage)' }),
    uptimeMs: Type.Number({ minimum: 0, description: 'Since the daemon started' }),
    availability: AvailabilitySchema,
    labels: LabelsSchema,
    measuredAt: UnixMs('When the values were read'),
  },
  { additionalProperties: false },
);

export const NodeInfoSchema = Type.Object(
  {
    id: NodeIdSchema,
    name: Type.String(),
    version: Type.String({ description: 'peercloud version' }),
    startedAt: UnixMs('When the daemon started'),
    uptimeMs: Type.Number({ minimum: 0 }),
    addresses: Type.Object(
      {
        listen: AddressSchema,
        advertise: Nullable(AddressSchema),
        api: AddressSchema,
      },
      { additionalProperties: false, description: 'Node-to-node listen address, the address advertised to peers (null until known), the API address' },
    ),
    attributes: AttributesSchema,
    labels: LabelsSchema,
  },
  { additionalProperties: false },
);

export const PeerSchema = Type.Object(
  {
    id: NodeIdSchema,
    address: AddressSchema,
    age: Type.Integer({ minimum: 0, description: 'Age of the view entry in gossip cycles' }),
  },
  { additionalProperties: false },
);

export const PeersSchema = Type.Object(
  {
    protocol: Type.Enum(['newscast', 'cyclon']),
    viewSize: Type.Integer({ minimum: 0, description: 'Capacity of the view (c)' }),
    count: Type.Integer({ minimum: 0, description: 'Peers in the view (before any limit)' }),
    peers: Type.Array(PeerSchema),
    computedAt: UnixMs('When the view was read'),
  },
  { additionalProperties: false },
);

const AverageAndTotal = (unit: string) =>
  Type.Object(
    {
      averageFree: Nullable(Type.Number({ description: `Average free ${unit} per node` })),
      totalFree: Nullable(Type.Number({ description: `Total free ${unit} in the network` })),
    },
    { additionalProperties: false },
  );

export const NetworkSchema = Type.Object(
  {
    computedAt: Nullable(UnixMs('When the last aggregation epoch completed')),
    epoch: Type.Object(
      {
        current: Nullable(Type.Integer({ minimum: 0, description: 'Number of the running aggregation epoch' })),
        lengthCycles: Type.Integer({ minimum: 1 }),
        cycle: Type.Integer({ minimum: 0, description: 'Cycles elapsed in the running epoch' }),
        startedAt: Nullable(UnixMs('When the running epoch started')),
      },
      { additionalProperties: false },
    ),
    size: Type.Object({ estimate: Nullable(Type.Number({ minimum: 0, description: 'Estimated number of nodes' })) }, { additionalProperties: false }),
    cores: AverageAndTotal('cores'),
    memory: AverageAndTotal('memory (bytes)'),
    disk: AverageAndTotal('disk (bytes)'),
    load: Type.Object({ average: Nullable(Type.Number({ minimum: 0, description: 'Average 1-minute load' })) }, { additionalProperties: false }),
    slices: Type.Object(
      {
        count: Type.Integer({ minimum: 1, description: 'Number of slices' }),
        mine: Nullable(Type.Integer({ minimum: 0, description: 'Slice this node believes it is in (0 = lowest)' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const HealthCheckSchema = Type.Object(
  { name: Type.String(), ok: Type.Boolean(), detail: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export const HealthSchema = Type.Object(
  {
    status: Type.Enum(['ok', 'unready']),
    live: Type.Boolean({ description: 'Always true when the daemon answers' }),
    ready: Type.Boolean({ description: 'Every check passes' }),
    checks: Type.Array(HealthCheckSchema),
  },
  { additionalProperties: false },
);

export const ErrorSchema = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'Stable machine-readable code, e.g. NOT_FOUND, BAD_REQUEST' }),
        message: Type.String({ description: 'What went wrong, for humans' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const PeersQuerySchema = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Return at most this many peers' })) },
  { additionalProperties: false },
);

export const PeerParamsSchema = Type.Object({ id: NodeIdSchema }, { additionalProperties: false });

export type Address = Static<typeof AddressSchema>;
export type NodeInfo = Static<typeof NodeInfoSchema>;
export type PeerEntry = Static<typeof PeerSchema>;
export type PeerView = Static<typeof PeersSchema>;
export type NetworkAggregates = Static<typeof NetworkSchema>;
export type HealthCheck = Static<typeof HealthCheckSchema>;
export type Health = Static<typeof HealthSchema>;
export type ErrorBody = Static<typeof ErrorSchema>;

// Compile-time proof that the monitor's attributes are exactly what the API documents.
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const attributesMatch: Mutual<Static<typeof AttributesSchema>, NodeAttributes> = true;
void attributesMatch;
