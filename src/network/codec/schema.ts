/**
 * The wire schema of peercloud, version 2, as Protocol Buffers (proto3) text parsed once at start-up
 * by protobufjs' reflection API: no generated code and no protoc binary. protobufjs encodes and
 * decodes; everything it decodes is then checked field by field (see bodies.ts, descriptor.ts),
 * because the library only guarantees wire types, not meaning.
 *
 * Versioning rule (see also codec.ts): the envelope's `major` must be the one this node speaks;
 * within a major version fields are only ever added, never renumbered or given a new meaning, and a
 * decoder skips fields it does not know (protobuf semantics, and protobufjs discards them by
 * default). So a node that speaks 1.3 can talk to one that speaks 1.0 as long as the newer fields
 * are optional for the older node; anything else needs a new major version.
 *
 * Size choices: peer handles never appear on the wire; a node is its signed descriptor, and a
 * descriptor travels as opaque bytes (`bytes`, not an embedded message) so that it is relayed
 * verbatim, signature and any fields of a newer minor version included, without re-encoding.
 */
import protobuf from 'protobufjs';

export const WIRE_SCHEMA = `
syntax = "proto3";
package peercloud.wire.v2;

enum Protocol {
  PROTOCOL_UNSPECIFIED = 0;
  SAMPLING = 1;     // peer sampling (Newscast / Cyclon): DescriptorBuffer
  AGGREGATION = 2;  // push-pull averaging with epochs: Aggregation
  TMAN = 3;         // T-Man ring construction: TManBuffer
  SLICING = 4;      // ordered slicing (JK / mod-JK): SwapRequest / SwapReply
  RANKING = 5;      // slicing by rank estimation: Attribute
}

enum Kind {
  KIND_UNSPECIFIED = 0;
  REQUEST = 1;
  RESPONSE = 2;
}

// Every message. body is the encoding of the protocol's request or response type.
message Envelope {
  uint32 major = 1;
  uint32 minor = 2;
  Protocol protocol = 3;
  Kind kind = 4;
  bytes body = 5;
}

// One network address of a node: an IP address (4 or 16 bytes) or a DNS name.
message Address {
  oneof host {
    bytes ip = 1;
    string hostname = 2;
  }
  uint32 port = 3;
}

// What a node signs about itself. Field 5 is kept for the attributes summary (a later minor
// version); older nodes skip it but relay it, since the signed bytes travel verbatim.
message DescriptorBody {
  bytes public_key = 1;
  repeated Address addresses = 2;
  uint64 issued_at = 3;  // ms since the Unix epoch, by the node's clock
  uint64 sequence = 4;   // grows with every re-signing; the highest wins
}

// body: an encoded DescriptorBody; signature: Ed25519 by public_key over a fixed context string
// followed by exactly these body bytes (see src/node/signed-descriptor.ts).
message SignedDescriptor {
  bytes body = 1;
  bytes signature = 2;
}

// Descriptor lists: full descriptors in descriptors, references (8 bytes each, see descriptor.ts)
// packed one after the other in refs; the items are the full descriptors, then the references,
// and ages follows that order. Packing saves the tag and length byte of each reference.
message DescriptorBuffer {
  repeated bytes descriptors = 1;  // encoded SignedDescriptor
  repeated uint32 ages = 2;
  bytes refs = 3;                  // n × 8-byte references
}

// Averaged values travel as 32-bit floats: a relative error of 6e-8 per exchange, far below what
// averaging itself leaves after an epoch (and COUNT's values, ~1/N, keep that relative precision at
// any N, floats being floating point). Half the bytes of doubles.
message Aggregation {
  sint32 epoch = 1;
  uint32 step = 2;
  bool participating = 3;
  float estimate = 4;  // absent: no estimate (NaN in memory)
  repeated float values = 5;
  repeated fixed32 count_keys = 6;
  repeated float count_values = 7;
}

message TManBuffer {
  double sender_key = 1;
  sint32 group = 2;
  repeated bytes descriptors = 3;  // encoded SignedDescriptor
  repeated double keys = 4;        // empty when keys derive from node ids (ring rankings)
  repeated uint32 ages = 5;        // one per item (full descriptors, then references)
  bytes refs = 6;                  // n × 8-byte references, as in DescriptorBuffer
}

message SlicingGossip {
  repeated bytes descriptors = 1;  // encoded SignedDescriptor
  repeated double attrs = 2;
  repeated double rs = 3;
  repeated uint32 ages = 4;
}

message SwapRequest {
  double a = 1;
  double r = 2;
  SlicingGossip gossip = 3;  // absent: none (JK)
}

message SwapReply {
  bool swapped = 1;
  double a = 2;
  double r = 3;
  SlicingGossip gossip = 4;
}

// The value a node is ranked by (its capacity: cores × CPU score, an integer that a float holds
// exactly up to 2^24; other values lose only what no ranking can tell apart).
message Attribute {
  float a = 1;
}
`;

/** Field numbers the pre-scan counts before decoding (see prescan.ts); must match WIRE_SCHEMA. */
export const FIELD = {
  descriptorBodyAddresses: 2,
  bufferDescriptors: 1,
  tmanDescriptors: 3,
  gossipDescriptors: 1,
  aggregationValues: 5,
  aggregationCountKeys: 6,
  aggregationCountValues: 7,
  bufferRefs: 3,
  tmanRefs: 6,
} as const;

export interface WireTypes {
  readonly envelope: protobuf.Type;
  readonly address: protobuf.Type;
  readonly descriptorBody: protobuf.Type;
  readonly signedDescriptor: protobuf.Type;
  readonly descriptorBuffer: protobuf.Type;
  readonly aggregation: protobuf.Type;
  readonly tmanBuffer: protobuf.Type;
  readonly slicingGossip: protobuf.Type;
  readonly swapRequest: protobuf.Type;
  readonly swapReply: protobuf.Type;
  readonly attribute: protobuf.Type;
}

let types: WireTypes | undefined;

/** The parsed schema (parsed on first use, then shared). */
export function wireTypes(): WireTypes {
  if (types) return types;
  const { root } = protobuf.parse(WIRE_SCHEMA, { keepCase: false });
  const t = (name: string): protobuf.Type => root.lookupType(`peercloud.wire.v2.${name}`);
  types = {
    envelope: t('Envelope'),
    address: t('Address'),
    descriptorBody: t('DescriptorBody'),
    signedDescriptor: t('SignedDescriptor'),
    descriptorBuffer: t('DescriptorBuffer'),
    aggregation: t('Aggregation'),
    tmanBuffer: t('TManBuffer'),
    slicingGossip: t('SlicingGossip'),
    swapRequest: t('SwapRequest'),
    swapReply: t('SwapReply'),
    attribute: t('Attribute'),
  };
  return types;
}
