/** The wire codec: envelope, per-protocol bodies, signed descriptors' wire form, limits and errors. */
export { CodecError } from './errors.js';
export { WireCodec, WIRE_VERSION } from './codec.js';
export { type CodecLimits, type ProtocolConfigs, MAX_ADDRESSES, codecLimits, defaultCodecLimits, limitsForProtocols } from './limits.js';
export { type AddressPolicy, type NodeAddress, addressProblem, defaultAddressPolicy, normalizeAddress } from './address.js';
export {
  type DescriptorFields,
  type DescriptorLimits,
  type WireDescriptor,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  decodeDescriptor,
  detachDescriptor,
  encodeDescriptorBody,
  encodeSignedDescriptor,
} from './descriptor.js';
export { MAX_WIRE_AGE } from './bodies.js';
export * from './messages.js';
