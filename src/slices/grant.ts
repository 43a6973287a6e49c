/**
 * The bytes a user signs to grant a slice (a signed object of purpose GRANT_PURPOSE, see
 * src/auth/signed-object.ts): the slice id, its name, the node that coordinates it and the wire
 * spec. Pure (no Node APIs) so that the browser dashboard builds exactly the same bytes as the CLI.
 */
export interface GrantFields {
  readonly sliceId: string;
  readonly name: string;
  /** Node id of the coordinator the request goes to. */
  readonly ownerNode: string;
  /** The spec as it travels (spec-wire.ts). */
  readonly spec: unknown;
}

export function grantPayloadOf(fields: GrantFields): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ sliceId: fields.sliceId, name: fields.name, ownerNode: fields.ownerNode, spec: fields.spec }));
}
