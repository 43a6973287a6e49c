/**
 * <dataDir>/owned-slices.json: the slices this node coordinates, so that a coordinator restarted
 * within the lease (a crash, kill -9, an upgrade) takes them back and goes on renewing their
 * members instead of letting every slice it owned fall apart. Written to a temporary file and
 * renamed (as membership-store.ts) after every change of a slice or its members; a missing file
 * means none, an unreadable one is reported and ignored (its slices' members are free again after
 * their lease), never a failed start. The spec is not stored: it is the one the user's grant signs.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../core/zod.js';
import { memberResources, signedObject, sliceNodeId, sliceRef } from './messages.js';
import type { OwnedSlice, StoredSlice } from './owner.js';

export const OWNED_SLICES_FILE = 'owned-slices.json';
const STORE_VERSION = 1;

const nodeId = sliceNodeId;
const storedSlice = z.strictObject({
  ref: sliceRef,
  grant: signedObject,
  createdAt: z.number(),
  target: z.int().check(z.nonnegative()),
  lastMatched: z.int().check(z.nonnegative()),
  matchRatio: z.optional(z.number().check(z.minimum(0), z.maximum(1))),
  members: z.array(
    z.strictObject({
      nodeId,
      host: z.string().check(z.minLength(1), z.maxLength(253)),
      port: z.int().check(z.minimum(1), z.maximum(65_535)),
      since: z.number(),
      resources: z.optional(memberResources),
    }),
  ),
});
const stored = z.strictObject({ v: z.literal(STORE_VERSION), slices: z.array(storedSlice) });

export function loadOwnedSlices(dataDir: string, warn: (message: string) => void): StoredSlice[] {
  const path = join(dataDir, OWNED_SLICES_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot read ${path}: ${(err as Error).message}; no slices taken back`);
    return [];
  }
  try {
    const parsed = stored.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.slices;
    const issue = parsed.error.issues[0];
    warn(`${path} is not a valid record of owned slices (${issue?.path.join('.')}: ${issue?.message}); no slices taken back`);
  } catch {
    warn(`${path} is not JSON; no slices taken back`);
  }
  return [];
}

export function toStored(slice: OwnedSlice): StoredSlice {
  return {
    ref: slice.ref,
    grant: slice.grant,
    createdAt: slice.createdAt,
    target: slice.target,
    lastMatched: slice.lastMatched,
    matchRatio: slice.matchRatio,
    members: [...slice.members.values()].map((m) => ({ nodeId: m.nodeId, host: m.host, port: m.port, since: m.since, ...(m.resources ? { resources: m.resources } : {}) })),
  };
}

export function saveOwnedSlices(dataDir: string, slices: readonly OwnedSlice[], warn: (message: string) => void): void {
  const path = join(dataDir, OWNED_SLICES_FILE);
  const tmp = `${path}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify({ v: STORE_VERSION, slices: slices.map(toStored) })}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (err) {
    warn(`cannot save the owned slices to ${path}: ${(err as Error).message}`);
  }
}
