/**
 * The one error the wire codec throws on bad input. Decoding bytes from a peer must never fail in
 * any other way (no TypeError from a missing field, no RangeError from the protobuf reader), so that
 * the daemon can catch exactly this class, answer or drop the peer, and keep running.
 */
export class CodecError extends Error {
  /** Path of the offending field, e.g. `sampling.request.descriptors[3].addresses[0].port`. */
  readonly field: string;

  constructor(field: string, problem: string, options?: { cause?: unknown }) {
    super(`${field}: ${problem}`, options);
    this.name = 'CodecError';
    this.field = field;
  }
}
