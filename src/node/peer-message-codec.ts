/**
 * Bytes ⇄ protocol messages for one node: the wire codec plus the peer directory's translation.
 * This is what the daemon calls around its transport: `encode` a protocol's request or reply, and
 * `decode` what a peer sent, with that peer's handle. The daemon's rounds carry bodies alone
 * (`encodeBody` / `decodeBody`): the round says the protocol, the direction and the version.
 */
import type { PeerHandle } from '../core/handles.js';
import type { WireCodec } from '../network/codec/codec.js';
import type { MessageKind, ProtocolName } from '../network/codec/messages.js';
import type { PeerDirectory } from './peer-directory.js';
import type { ProtocolMessage } from './wire-translation.js';

export class PeerMessageCodec {
  constructor(
    readonly codec: WireCodec,
    readonly directory: PeerDirectory,
  ) {}

  /**
   * Throws a CodecError if the message breaks a limit (a local bug), a RangeError for an unknown
   * handle. `refs`: send descriptors by reference (see DescriptorStore).
   */
  encode(message: ProtocolMessage, refs = false): Uint8Array {
    return this.codec.encode(this.directory.toWire(message, refs));
  }

  /**
   * Throws a CodecError (DescriptorError for forged descriptors); nothing else for any input bytes.
   * `sender`: the sender's handle, or its authenticated node id (see PeerDirectory.fromWire).
   */
  decode(bytes: Uint8Array, sender: PeerHandle | string): ProtocolMessage {
    return this.directory.fromWire(this.codec.decode(bytes), sender);
  }

  /** `encode` without the wire envelope. */
  encodeBody(message: ProtocolMessage, refs = false): Uint8Array {
    return this.codec.encodeBody(this.directory.toWire(message, refs));
  }

  /** `decode` of a body without the wire envelope, as `protocol`'s message of `kind`. */
  decodeBody(protocol: ProtocolName, kind: MessageKind, bytes: Uint8Array, sender: PeerHandle | string): ProtocolMessage {
    return this.directory.fromWire(this.codec.decodeBody(protocol, kind, bytes), sender);
  }
}
