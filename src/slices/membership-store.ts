/**
 * <dataDir>/slice.json: this node's slice membership, so that a node restarted with its data
 * directory (after a crash or kill -9) still knows it belongs to a slice until the lease runs out,
 * and does not offer itself to another one meanwhile. Written to a temporary file and renamed; a
 * missing or unreadable file means "free" (with a warning), never a failed start.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../core/zod.js';
import { FREE, type Membership } from './membership.js';

export const MEMBERSHIP_FILE = 'slice.json';

const ref = z.strictObject({
  sliceId: z.string().check(z.regex(/^[0-9a-f]{16,64}$/)),
  name: z.string().check(z.maxLength(63)),
  ownerNode: z.string().check(z.regex(/^pc[a-z2-7]{32}$/)),
  ownerUser: z.string().check(z.regex(/^pu[a-z2-7]{32}$/)),
  group: z.int(),
});
const stored = z.discriminatedUnion('state', [
  z.strictObject({ state: z.literal('free') }),
  z.strictObject({ state: z.literal('reserved'), requestId: z.string().check(z.maxLength(64)), sliceId: z.string().check(z.maxLength(64)), until: z.number() }),
  z.strictObject({ state: z.literal('member'), slice: ref, leaseUntil: z.number(), since: z.number() }),
]);

export function loadMembership(dataDir: string, warn: (message: string) => void): Membership {
  const path = join(dataDir, MEMBERSHIP_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot read ${path}: ${(err as Error).message}; starting free`);
    return FREE;
  }
  try {
    const parsed = stored.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    warn(`${path} is not a valid membership record (${parsed.error.issues[0]?.message}); starting free`);
  } catch {
    warn(`${path} is not JSON; starting free`);
  }
  return FREE;
}

export function saveMembership(dataDir: string, m: Membership, warn: (message: string) => void): void {
  const path = join(dataDir, MEMBERSHIP_FILE);
  const tmp = `${path}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(m)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (err) {
    warn(`cannot save the slice membership to ${path}: ${(err as Error).message}`);
  }
}
